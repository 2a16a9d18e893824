"""Reads of the assessment-team scoring (考核打分): summaries, reviewer choices, assignments.

Rules decided here, used by the pages and by ``services.scoring`` alike:

* **Consolidated score** — per item the mean of the submitted reviewers' latest scores,
  one decimal with halves rounded up (``mean_score``), then ``total_score`` of those means.
* **Disagreement** — an item is flagged when max − min of the reviewers' scores is *more*
  than ``cycle.disagreement_fraction`` × the item's points. The fraction is stored with
  three decimals, so 0.333 is how a person writes one third: a stored value within half a
  unit of its last decimal of a simple fraction (denominator ≤ 12) is read as that fraction.
  Exactly a third of 6 points (a spread of 2.0) is therefore not flagged; 2.1 is.
* **Veto items** carry no points, so a reviewer's ``ReviewScore.score`` on a veto item is a
  mark: 1 means "the veto applies", 0 "it does not". The veto applies to the branch when a
  strict majority of the submitted reviewers mark it; a tie does not apply it (the items
  are flagged as a disagreement anyway, so the committee sees the split).

Every function here runs a fixed number of queries, whatever the number of items,
reviewers, versions or branches.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from django.db.models import Count, F, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from branches.models import Organization, Role, RoleAssignment, User
from scoring.arithmetic import mean_score, star_for, total_score
from scoring.models import Item, ItemKind
from scoring.selectors import rules_from_standard

from .models import Assessment, AssessmentStatus, Cycle, ReviewerAssignment, ReviewScore, SelfScore
from .selectors import assessments_visible_to

# Who runs the assessment team for a committee: assigns reviewers and sees every score.
COMMITTEE_ROLES = frozenset({Role.COMMITTEE_APPROVER, Role.STAFF})

# A fraction written with three decimals stands for the simple fraction it rounds from.
_SIMPLE_DENOMINATOR = 12
_HALF_UNIT = Fraction(1, 2000)

VETO_APPLIES = Decimal("1")
VETO_DOES_NOT_APPLY = Decimal("0")


# ---------------------------------------------------------------------------- pure rules


def disagreement_limit(fraction: Decimal, item_max: Decimal) -> Fraction:
    """The largest spread of reviewers' scores on an item that is not yet a disagreement."""
    exact = Fraction(fraction)
    simple = exact.limit_denominator(_SIMPLE_DENOMINATOR)
    if abs(simple - exact) <= _HALF_UNIT:
        exact = simple
    return exact * Fraction(item_max)


def is_disagreement(scores: Sequence[Decimal], item_max: Decimal, fraction: Decimal) -> bool:
    """Whether max − min of ``scores`` exceeds ``fraction`` of the item's points."""
    if len(scores) < 2:
        return False
    spread = Fraction(max(scores)) - Fraction(min(scores))
    return spread > disagreement_limit(fraction, item_max)


def veto_applies(marks: Sequence[bool]) -> bool:
    """A veto applies when a strict majority of the reviewers marked it."""
    return sum(1 for mark in marks if mark) * 2 > len(marks)


# ---------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class ScoreVersion:
    version: int
    score: Decimal | None
    comment: str
    recorded_at: datetime


@dataclass(frozen=True)
class ReviewerCell:
    """One reviewer's latest score of one item, with the versions it replaced."""

    assignment: ReviewerAssignment
    score: Decimal | None
    comment: str
    version: int
    history: tuple[ScoreVersion, ...] = ()  # earlier versions, oldest first

    @property
    def reviewer(self) -> User:
        return self.assignment.reviewer


@dataclass(frozen=True)
class ItemSummary:
    item: Item
    self_score: Decimal | None
    self_explanation: str
    cells: tuple[ReviewerCell, ...]  # one per submitted reviewer, in ``ScoringSummary.submitted`` order
    mean: Decimal | None
    spread: Decimal | None
    disagreement: bool

    @property
    def is_veto(self) -> bool:
        return self.item.kind == ItemKind.VETO

    @property
    def veto_applies(self) -> bool:
        return self.is_veto and veto_applies([cell.score == VETO_APPLIES for cell in self.cells])


@dataclass(frozen=True)
class ReviewerTotal:
    assignment: ReviewerAssignment
    total: Decimal | None  # None until the reviewer has submitted


@dataclass(frozen=True)
class ScoringSummary:
    """Everything the committee and the reviewers see of an assessment's scoring."""

    assessment: Assessment
    assignments: tuple[ReviewerAssignment, ...]  # every assigned reviewer
    submitted: tuple[ReviewerAssignment, ...]  # those who have submitted, whose scores count
    items: tuple[ItemSummary, ...]
    reviewer_totals: tuple[ReviewerTotal, ...]
    self_total: Decimal | None
    consolidated_score: Decimal | None  # None until at least one reviewer has submitted
    proposed_stars: int | None
    applied_vetoes: tuple[str, ...] = field(default=())

    @property
    def all_submitted(self) -> bool:
        return bool(self.assignments) and len(self.submitted) == len(self.assignments)

    @property
    def flagged(self) -> tuple[ItemSummary, ...]:
        return tuple(row for row in self.items if row.disagreement)


def standard_items(assessment: Assessment) -> list[Item]:
    """The items of the assessment's standard in sheet order, with their dimensions (one query)."""
    return list(
        Item.objects.filter(dimension__standard_id=assessment.cycle.standard_id)
        .select_related("dimension")
        .order_by("dimension__order", "dimension__code", "order", "code")
    )


def scoring_summary(assessment: Assessment) -> ScoringSummary:
    """Per item: self-score, each submitted reviewer's latest score and comment, mean, flag; totals.

    Only submitted scores count (drafts stay private to their reviewer). Six queries.
    """
    cycle: Cycle = assessment.cycle
    items = standard_items(assessment)
    rules = rules_from_standard(cycle.standard)
    self_scores = {
        row["item_id"]: row
        for row in SelfScore.objects.filter(assessment_id=assessment.pk).values(
            "item_id", "score", "explanation"
        )
    }
    assignments = tuple(
        ReviewerAssignment.objects.filter(assessment_id=assessment.pk)
        .select_related("reviewer")
        .order_by("assigned_at", "pk")
    )
    submitted = tuple(a for a in assignments if a.submitted_at is not None)
    current_version = {a.pk: a.version for a in submitted}

    # (assignment, item) → rows of every version, oldest first.
    rows: dict[tuple[int, int], list[ReviewScore]] = defaultdict(list)
    for score in ReviewScore.objects.filter(assignment_id__in=list(current_version)).order_by(
        "assignment_id", "item_id", "version"
    ):
        if score.version <= current_version[score.assignment_id]:
            rows[(score.assignment_id, score.item_id)].append(score)

    item_rows: list[ItemSummary] = []
    means: dict[str, Decimal] = {}
    per_reviewer: dict[int, dict[str, Decimal]] = {a.pk: {} for a in submitted}
    for item in items:
        cells = []
        for assignment in submitted:
            versions = rows.get((assignment.pk, item.pk), [])
            latest = versions[-1] if versions else None
            cells.append(
                ReviewerCell(
                    assignment=assignment,
                    score=latest.score if latest else None,
                    comment=latest.comment if latest else "",
                    version=latest.version if latest else 0,
                    history=tuple(
                        ScoreVersion(v.version, v.score, v.comment, v.created_at) for v in versions[:-1]
                    ),
                )
            )
        values = [cell.score for cell in cells if cell.score is not None]
        mean = spread = None
        if values:
            spread = max(values) - min(values)
            if item.kind != ItemKind.VETO:
                mean = mean_score(values)
                means[item.code] = mean
                for cell in cells:
                    if cell.score is not None:
                        per_reviewer[cell.assignment.pk][item.code] = cell.score
        own = self_scores.get(item.pk, {})
        item_rows.append(
            ItemSummary(
                item=item,
                self_score=own.get("score"),
                self_explanation=own.get("explanation", ""),
                cells=tuple(cells),
                mean=mean,
                spread=spread,
                disagreement=is_disagreement(values, item.max_score, cycle.disagreement_fraction),
            )
        )

    consolidated = proposed = None
    applied: tuple[str, ...] = ()
    if submitted:
        applied = tuple(row.item.code for row in item_rows if row.veto_applies)
        consolidated = total_score(rules, means)
        proposed = star_for(rules, consolidated, applied)
    return ScoringSummary(
        assessment=assessment,
        assignments=assignments,
        submitted=submitted,
        items=tuple(item_rows),
        reviewer_totals=tuple(
            ReviewerTotal(a, total_score(rules, per_reviewer[a.pk]) if a.pk in per_reviewer else None)
            for a in assignments
        ),
        self_total=assessment.self_total,
        consolidated_score=consolidated,
        proposed_stars=proposed,
        applied_vetoes=applied,
    )


# ---------------------------------------------------------------------------- the team


def team_reviewers(committee: Organization) -> QuerySet[User]:
    """Active members of the committee's assessment team, in a stable order."""
    return User.objects.filter(
        is_active=True,
        role_assignments__role=Role.ASSESSMENT_REVIEWER,
        role_assignments__organization_id=committee.pk,
    ).order_by("pk")


@dataclass(frozen=True)
class HeldRole:
    """A role a reviewer holds below the committee: a possible conflict of interest."""

    role_label: str
    organization_name: str
    organization_path: str

    def reason(self) -> str:
        return _("Holds the role “%(role)s” on %(organization)s.") % {
            "role": self.role_label,
            "organization": self.organization_name,
        }


def held_roles(reviewer_ids: Iterable[int], committee: Organization) -> dict[int, list[HeldRole]]:
    """Each reviewer's roles anywhere in the committee's tree except on the committee itself.

    Roles held on the committee (the team membership itself, approver, staff) are the
    assessing body's, not the assessed organization's, so they are no conflict. One query.
    """
    index: dict[int, list[HeldRole]] = defaultdict(list)
    for ra in (
        RoleAssignment.objects.filter(
            user_id__in=list(reviewer_ids), organization__path__startswith=committee.path
        )
        .exclude(organization_id=committee.pk)
        .select_related("organization")
        .order_by("organization__path", "role")
    ):
        index[ra.user_id].append(HeldRole(ra.get_role_display(), ra.organization.name, ra.organization.path))
    return index


def conflicts_for(held: Sequence[HeldRole], branch: Organization) -> list[str]:
    """Why a reviewer may not score ``branch``: a role on the branch or an organization above it."""
    return [role.reason() for role in held if branch.path.startswith(role.organization_path)]


def cycle_loads(cycle: Cycle) -> dict[int, int]:
    """How many assessments of the cycle each reviewer is assigned (one query)."""
    return dict(
        ReviewerAssignment.objects.filter(assessment__cycle_id=cycle.pk)
        .values("reviewer_id")
        .annotate(n=Count("pk"))
        .values_list("reviewer_id", "n")
    )


@dataclass(frozen=True)
class ReviewerOption:
    """A team member as shown on the assignment page: load, current state, and any conflict."""

    user: User
    load: int
    assigned: bool
    submitted: bool
    has_scores: bool
    conflicts: tuple[str, ...]

    @property
    def eligible(self) -> bool:
        return not self.conflicts


def reviewer_options(assessment: Assessment) -> list[ReviewerOption]:
    """Every team member for one assessment, eligible ones first, then by load and name. Five queries."""
    committee = assessment.cycle.committee
    team = list(team_reviewers(committee))
    held = held_roles([u.pk for u in team], committee)
    loads = cycle_loads(assessment.cycle)
    current = {
        a.reviewer_id: a
        for a in ReviewerAssignment.objects.filter(assessment_id=assessment.pk).annotate(
            n_scores=Count("scores")
        )
    }
    options = [
        ReviewerOption(
            user=user,
            load=loads.get(user.pk, 0),
            assigned=user.pk in current,
            submitted=user.pk in current and current[user.pk].submitted_at is not None,
            has_scores=user.pk in current and current[user.pk].n_scores > 0,
            conflicts=tuple(conflicts_for(held.get(user.pk, []), assessment.branch)),
        )
        for user in team
    ]
    return sorted(options, key=lambda o: (not o.eligible, o.load, str(o.user), o.user.pk))


# ---------------------------------------------------------------------------- lists


def team_assessments(cycle: Cycle) -> QuerySet[Assessment]:
    """The cycle's assessments from forwarding on, with their reviewers (two queries a page)."""
    return (
        Assessment.objects.filter(
            cycle_id=cycle.pk,
            status__in=[
                AssessmentStatus.FORWARDED,
                AssessmentStatus.SCORING,
                AssessmentStatus.SCORED,
                AssessmentStatus.DECIDED,
                AssessmentStatus.PUBLICIZED,
                AssessmentStatus.CERTIFIED,
            ],
        )
        .select_related("branch", "branch__parent")
        .prefetch_related("assignments__reviewer")
        .order_by("branch__path")
    )


def reviewer_assignments(user: User) -> QuerySet[ReviewerAssignment]:
    """The user's own assignments, within the committees where they are on the team."""
    return (
        ReviewerAssignment.objects.filter(
            reviewer_id=user.pk,
            assessment__in=assessments_visible_to(user, [Role.ASSESSMENT_REVIEWER]),
        )
        .select_related("assessment__branch", "assessment__cycle")
        # Still to score first (NULLs sort differently per database, so say where they go).
        .order_by(
            F("submitted_at").asc(nulls_first=True),
            "assessment__cycle__scoring_deadline",
            "assessment__branch__path",
        )
    )


def get_assignment_for_reviewer_or_404(user: User, assessment_pk) -> ReviewerAssignment:
    """The user's assignment to score one assessment; the same 404 for "none" and "not yours"."""
    try:
        return (
            reviewer_assignments(user)
            .select_related("assessment__cycle__standard", "assessment__cycle__committee")
            .get(assessment_id=assessment_pk)
        )
    # A foreign-key lookup has no guard for ids beyond 64 bits, which SQLite cannot bind.
    except (ReviewerAssignment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def latest_own_scores(assignment: ReviewerAssignment) -> dict[int, ReviewScore]:
    """The reviewer's own sheet: the submitted version, or the draft before submitting (one query)."""
    version = assignment.version if assignment.submitted_at else assignment.version + 1
    return {s.item_id: s for s in ReviewScore.objects.filter(assignment_id=assignment.pk, version=version)}


__all__ = [
    "COMMITTEE_ROLES",
    "HeldRole",
    "ItemSummary",
    "ReviewerCell",
    "ReviewerOption",
    "ScoringSummary",
    "conflicts_for",
    "cycle_loads",
    "disagreement_limit",
    "get_assignment_for_reviewer_or_404",
    "held_roles",
    "is_disagreement",
    "latest_own_scores",
    "reviewer_assignments",
    "reviewer_options",
    "scoring_summary",
    "standard_items",
    "team_assessments",
    "team_reviewers",
    "veto_applies",
]
