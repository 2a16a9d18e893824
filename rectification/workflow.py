"""The workflow of a rectification task as data: which action moves it, and who may.

proposed → open (the parent reviewer confirms, setting owner, deadline and requirement) or
dismissed; open → reported (the owner or the branch secretary reports progress); reported →
accepted, or back to open with a reason (sent back). For a branch standing directly under the
committee, the committee's approver and staff act as its parent reviewer.
"""

from django.utils.translation import gettext_lazy as _

from branches.roles import COMMITTEE_MANAGERS, PARENT_REVIEWERS, SECRETARIES
from branches.workflow import Transition

from .models import TaskStatus as T

# Who looks after a branch's tasks: its parent reviewers, and the committee's approvers and staff.
OVERSEERS = PARENT_REVIEWERS | COMMITTEE_MANAGERS

TRANSITIONS: dict[str, Transition] = {
    "confirm": Transition(
        frozenset({T.PROPOSED}),
        T.OPEN,
        OVERSEERS,
        _("confirm the task"),
        {T.DISMISSED: _("This proposed task has been dismissed.")},
    ),
    "dismiss": Transition(frozenset({T.PROPOSED}), T.DISMISSED, OVERSEERS, _("dismiss the proposal")),
    "report": Transition(
        frozenset({T.OPEN}),
        T.REPORTED,
        SECRETARIES,
        _("report progress"),
        {T.REPORTED: _("Progress has been reported; wait for the parent organization's decision.")},
    ),
    "send_back": Transition(frozenset({T.REPORTED}), T.OPEN, OVERSEERS, _("send back")),
    "accept": Transition(
        frozenset({T.REPORTED}),
        T.ACCEPTED,
        OVERSEERS,
        _("accept the rectification"),
        {T.ACCEPTED: _("This task has already been accepted.")},
    ),
}
