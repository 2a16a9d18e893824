"""The workflows of assessments and cycles as data: which action moves which status, and who may."""

from django.utils.translation import gettext_lazy as _

from branches.roles import APPROVERS, COMMITTEE_MANAGERS, Role
from branches.workflow import Transition

from .models import AppealStatus
from .models import AssessmentStatus as S
from .models import CycleStatus as C

TRANSITIONS: dict[str, Transition] = {
    "start": Transition(frozenset({S.NOT_STARTED}), S.DRAFT, frozenset({Role.BRANCH_SECRETARY}), _("start")),
    "submit": Transition(
        frozenset({S.NOT_STARTED, S.DRAFT, S.RETURNED}),
        S.SUBMITTED,
        frozenset({Role.BRANCH_SECRETARY}),
        _("submit"),
    ),
    "return": Transition(
        frozenset({S.SUBMITTED}), S.RETURNED, frozenset({Role.PARENT_REVIEWER}), _("return")
    ),
    "forward": Transition(
        frozenset({S.SUBMITTED}), S.FORWARDED, frozenset({Role.PARENT_REVIEWER}), _("forward")
    ),
    "assign": Transition(
        frozenset({S.FORWARDED, S.SCORING}),
        S.SCORING,
        frozenset({Role.COMMITTEE_APPROVER, Role.STAFF}),
        _("assign reviewers"),
    ),
    "complete_scoring": Transition(
        frozenset({S.SCORING}), S.SCORED, frozenset({Role.ASSESSMENT_REVIEWER}), _("complete scoring")
    ),
    # Only once every reviewer has submitted: the move lands on SCORED, so revising while
    # others still score would end their scoring early (reviews.services.scoring.revise_scores).
    "revise_scores": Transition(
        frozenset({S.SCORED}), S.SCORED, frozenset({Role.ASSESSMENT_REVIEWER}), _("revise scores")
    ),
    "decide": Transition(
        frozenset({S.SCORED, S.DECIDED}), S.DECIDED, frozenset({Role.COMMITTEE_APPROVER}), _("decide")
    ),
    "publicize": Transition(
        frozenset({S.DECIDED}),
        S.PUBLICIZED,
        frozenset({Role.COMMITTEE_APPROVER, Role.STAFF}),
        _("publish notice"),
    ),
    "certify": Transition(
        frozenset({S.PUBLICIZED}), S.CERTIFIED, frozenset({Role.COMMITTEE_APPROVER}), _("certify")
    ),
    # Closing a cycle ends whatever has not reached the public notice. A result under public
    # notice is not among the sources: its batch is certified first.
    "close_out": Transition(
        frozenset(
            {S.NOT_STARTED, S.DRAFT, S.RETURNED, S.SUBMITTED, S.FORWARDED, S.SCORING, S.SCORED, S.DECIDED}
        ),
        S.NOT_TAKING_PART,
        frozenset({Role.COMMITTEE_APPROVER}),
        _("close: did not take part"),
    ),
}

# A cycle's own status, moved by ``services.core.move_cycle`` while the cycle-wide actions
# (``services.decision``) move its assessments in bulk along ``TRANSITIONS`` above. Publishing
# a notice batch and certifying one keep the cycle open (its other branches go on); it closes
# when every assessment is final, or when the approver closes it explicitly.
_CLOSED = _("This cycle is closed.")
CYCLE_TRANSITIONS: dict[str, Transition] = {
    "publicize": Transition(
        frozenset({C.OPEN}), C.OPEN, COMMITTEE_MANAGERS, _("publish notice"), refusals={C.CLOSED: _CLOSED}
    ),
    "certify": Transition(frozenset({C.OPEN}), C.OPEN, APPROVERS, _("certify"), refusals={C.CLOSED: _CLOSED}),
    "close": Transition(
        frozenset({C.OPEN}),
        C.CLOSED,
        APPROVERS,
        _("close the cycle"),
        refusals={C.CLOSED: _("This cycle has already been closed.")},
    ),
}

# Where an assessment ends: nothing moves it on, and a cycle whose assessments all are here closes.
FINAL = frozenset({S.CERTIFIED, S.NOT_TAKING_PART})

# States in which the branch may still edit its self-assessment.
EDITABLE_BY_BRANCH = frozenset({S.NOT_STARTED, S.DRAFT, S.RETURNED})

# The funnel shown to approvers and staff, in order.
FUNNEL = [
    (S.NOT_STARTED, [S.NOT_STARTED]),
    (S.DRAFT, [S.DRAFT, S.RETURNED]),
    (S.SUBMITTED, [S.SUBMITTED]),
    (S.FORWARDED, [S.FORWARDED, S.SCORING]),
    (S.SCORED, [S.SCORED]),
    (S.DECIDED, [S.DECIDED, S.PUBLICIZED]),
    (S.CERTIFIED, [S.CERTIFIED]),
    (S.NOT_TAKING_PART, [S.NOT_TAKING_PART]),
]

# An appeal (复核申请) of a published result, moved by ``services.appeals.move_appeal``. It is
# created SUBMITTED by the branch secretary (``apply_for_appeal``, itself recorded as an event).
A = AppealStatus
_ANSWERED = {
    status: _("This appeal has already been answered.") for status in A.values if status != A.SUBMITTED
}
_NOT_RESCORED = {
    A.ACCEPTED: _("The appeal has not been re-scored yet."),
    A.RESCORING: _("The appeal has not been re-scored yet."),
}
APPEAL_TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(frozenset({A.SUBMITTED}), A.ACCEPTED, APPROVERS, _("accept the appeal"), _ANSWERED),
    "reject": Transition(frozenset({A.SUBMITTED}), A.REJECTED, APPROVERS, _("reject the appeal"), _ANSWERED),
    "assign": Transition(
        frozenset({A.ACCEPTED, A.RESCORING}), A.RESCORING, COMMITTEE_MANAGERS, _("assign re-reviewers")
    ),
    "complete_rescoring": Transition(
        frozenset({A.RESCORING}), A.RESCORED, frozenset({Role.ASSESSMENT_REVIEWER}), _("complete re-scoring")
    ),
    "uphold": Transition(frozenset({A.RESCORED}), A.UPHELD, APPROVERS, _("uphold the result"), _NOT_RESCORED),
    "change": Transition(
        frozenset({A.RESCORED}), A.CHANGED, APPROVERS, _("change the star level"), _NOT_RESCORED
    ),
}
