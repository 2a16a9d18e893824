"""The assessment workflow as data: which action moves which status to which, and who may."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from branches.roles import Role

from .models import AssessmentStatus as S


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    label: str


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
    "revise_scores": Transition(
        frozenset({S.SCORING, S.SCORED}), S.SCORED, frozenset({Role.ASSESSMENT_REVIEWER}), _("revise scores")
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
