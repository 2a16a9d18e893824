"""The workflows of quarterly checks as data: which action moves a round or a sheet, and who may.

A round is opened (by the quarterly schedule or by staff) in ``open`` and published once:
publication freezes every sheet's total, ranks and the star in force. A sheet is scored by the
branch's parent reviewer and submitted; the committee's approver or staff may return it for
rescoring while the round is open; publication moves every sheet to ``published``.
"""

from django.utils.translation import gettext_lazy as _

from branches.roles import COMMITTEE_MANAGERS, PARENT_REVIEWERS
from branches.workflow import Transition

from .models import CheckRoundStatus as R
from .models import CheckSheetStatus as S

_PUBLISHED_ROUND = _("This quarterly check has already been published.")

ROUND_TRANSITIONS: dict[str, Transition] = {
    "publish": Transition(
        frozenset({R.OPEN}),
        R.PUBLISHED,
        COMMITTEE_MANAGERS,
        _("publish the results"),
        {R.PUBLISHED: _PUBLISHED_ROUND},
    ),
}

SHEET_TRANSITIONS: dict[str, Transition] = {
    # The branch's parent reviewer; for a branch standing directly under the committee (no
    # party committee above it) the committee's approver or staff (``selectors.check_scorer_roles``).
    "submit": Transition(
        frozenset({S.PENDING, S.RETURNED}),
        S.SUBMITTED,
        PARENT_REVIEWERS | COMMITTEE_MANAGERS,
        _("submit the scores"),
        {S.SUBMITTED: _("These scores have already been submitted."), S.PUBLISHED: _PUBLISHED_ROUND},
    ),
    "return": Transition(
        frozenset({S.SUBMITTED}),
        S.RETURNED,
        COMMITTEE_MANAGERS,
        _("return for rescoring"),
        {S.PENDING: _("These scores have not been submitted yet."), S.PUBLISHED: _PUBLISHED_ROUND},
    ),
    # Publication of the round moves its sheets; nobody moves one sheet to published alone.
    "publish": Transition(
        frozenset({S.SUBMITTED}), S.PUBLISHED, COMMITTEE_MANAGERS, _("publish the results")
    ),
}

# States in which the parent reviewer may still change a sheet's scores.
SCORABLE = frozenset({S.PENDING, S.RETURNED})
