"""The stage application's workflow as data: which action moves it, from where, and who may.

A branch's secretary submits an application (``submitted``) and may withdraw it while it
waits; the committee's approver approves or rejects it with a reason, once a year per branch.
"""

from django.utils.translation import gettext_lazy as _

from branches.roles import APPROVERS, SECRETARIES
from branches.workflow import Transition

from .models import ApplicationStatus as S

_DECIDED = _("This application has already been decided.")
_WITHDRAWN = _("This application has been withdrawn.")

STAGE_TRANSITIONS: dict[str, Transition] = {
    "approve": Transition(
        frozenset({S.SUBMITTED}),
        S.APPROVED,
        APPROVERS,
        _("approve"),
        {S.APPROVED: _DECIDED, S.REJECTED: _DECIDED, S.WITHDRAWN: _WITHDRAWN},
    ),
    "reject": Transition(
        frozenset({S.SUBMITTED}),
        S.REJECTED,
        APPROVERS,
        _("reject"),
        {S.APPROVED: _DECIDED, S.REJECTED: _DECIDED, S.WITHDRAWN: _WITHDRAWN},
    ),
    "withdraw": Transition(
        frozenset({S.SUBMITTED}),
        S.WITHDRAWN,
        SECRETARIES,
        _("withdraw"),
        {S.APPROVED: _DECIDED, S.REJECTED: _DECIDED, S.WITHDRAWN: _WITHDRAWN},
    ),
}
