"""The workflows of assessments and cycles as data: which action moves which status, and who may."""

from django.utils.translation import gettext_lazy as _

from branches.roles import APPROVERS, COMMITTEE_MANAGERS, Role
from branches.workflow import Transition

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
}

# A cycle's own status, moved by ``services.core.move_cycle`` while the cycle-wide actions
# (``services.decision``) move its assessments in bulk along ``TRANSITIONS`` above.
CYCLE_TRANSITIONS: dict[str, Transition] = {
    "publicize": Transition(
        frozenset({C.OPEN}),
        C.PUBLICITY,
        COMMITTEE_MANAGERS,
        _("publish notice"),
        refusals={
            C.PUBLICITY: _("The public notice of this cycle has already been published."),
            C.CERTIFIED: _("The public notice of this cycle has already been published."),
        },
    ),
    "certify": Transition(
        frozenset({C.PUBLICITY}),
        C.CERTIFIED,
        APPROVERS,
        _("certify"),
        refusals={
            C.OPEN: _("Publish the public notice first; certification follows its end."),
            C.CERTIFIED: _("This cycle has already been certified."),
        },
    ),
}

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
]
