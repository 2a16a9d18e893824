"""Scoped reads of the star-rating cycle; views and reports never look rows up by id directly.

Every function here runs a fixed number of queries, whatever the number of items,
reviewers, versions or branches. The rules the numbers follow (consolidated score, veto
majority, disagreement) are the pure functions of ``scoring.arithmetic``:

* **Consolidated score** — per item the mean of the submitted reviewers' latest scores,
  one decimal with halves rounded up (``mean_score``), then ``total_score`` of those means.
* **Disagreement** — ``is_disagreement``: max − min above the cycle's share of the points.
* **Veto items** — a reviewer's score on a veto item is a mark (``VETO_APPLIES`` or
  ``VETO_DOES_NOT_APPLY``); the veto applies to the branch when a strict majority of the
  submitted reviewers mark it (``majority_applies``).
* **Blind scoring** — ``team_scores_visibility`` decides, for pages and PDFs alike, who sees
  the team's scores and the reviewers' names.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import (
    ORG_ORDER,
    CommitteePolicy,
    Organization,
    OrgKind,
    RoleAssignment,
    User,
    branch_order,
)
from branches.roles import (
    APPROVERS,
    COMMITTEE_MANAGERS,
    PARENT_REVIEWERS,
    SECRETARIES,
    TEAM_REVIEWERS,
    TREE_READERS,
    Role,
)
from branches.selectors import (
    branches_visible_to,
    cached_figures,
    committees_for_roles,
    has_role_on,
    role_paths,
    role_set,
    scope_q,
    user_scope,
)
from scoring.arithmetic import (
    ScoreError,
    is_disagreement,
    majority_applies,
    mean_score,
    star_for,
    total_score,
    veto_applies,
)
from scoring.models import MAX_STARS, MIN_STARS, Item, ItemKind
from scoring.selectors import rules_from_standard

from .models import (
    APPEAL_CLOSED,
    Appeal,
    AppealFile,
    AppealReviewer,
    AppealScore,
    AppealStatus,
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    Cycle,
    CycleStatus,
    Evidence,
    NoticeBatch,
    Objection,
    ReviewerAssignment,
    ReviewScore,
    SelfScore,
    SubmissionRound,
)
from .workflow import FUNNEL

S = AssessmentStatus
ACTIVE_CYCLES = [CycleStatus.OPEN]
# Assessments the parent organization has forwarded, in any later state.
FORWARDED_ON = (S.FORWARDED, S.SCORING, S.SCORED, S.DECIDED, S.PUBLICIZED, S.CERTIFIED)
# Assessments that have reached the committee's decision, in any later state.
DECISION_POOL = (S.SCORED, S.DECIDED, S.PUBLICIZED, S.CERTIFIED)
# From the public notice on, the result is no secret: the branch and its parent organization
# may see the team's scores (without the reviewers' names).
RESULT_PUBLIC = frozenset({S.PUBLICIZED, S.CERTIFIED})


# ---------------------------------------------------------------------------- assessments and cycles


def assessments_visible_to(user, roles=None) -> QuerySet[Assessment]:
    """Assessments of branches the user reaches with one of ``roles`` (any role if None).

    A role held on a committee reaches its cycles' assessments by the cycle's committee key
    (no scan of the tree); a role held lower, the assessments of the branches under it.
    """
    return Assessment.objects.filter(scope_q(user, roles, org="branch__", committee="cycle__committee_id"))


def get_assessment_for_user_or_404(user, pk, roles=None) -> Assessment:
    try:
        return (
            assessments_visible_to(user, roles)
            .select_related("branch", "cycle", "cycle__standard")
            .get(pk=pk)
        )
    except (Assessment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _under_roles(user, roles, path_field: str) -> Q:
    """``path_field`` (a branch's tree path) lies under an organization where ``user`` holds one of ``roles``.

    The scope as literal path prefixes from the per-request cache of the user's roles: a
    query that starts from the user's own rows checks it row by row, scanning no tree.
    Everything for superusers, nothing for a user without such a role.
    """
    if user.is_superuser and user.is_active:
        return Q()
    scope = Q(pk__in=[])
    for path in role_paths(user, roles):
        scope |= Q(**{f"{path_field}__startswith": path})
    return scope


def own_assignments(user) -> QuerySet[ReviewerAssignment]:
    """The user's own scoring assignments inside the committees where they are on the team.

    Starts from the reviewer's index (their few assignments), not from the committee's
    assessments; an assignment is only made inside the team's committee, and one outside it
    (the role since removed) is out of scope like any other row.
    """
    if not user.is_authenticated or not user.is_active:
        return ReviewerAssignment.objects.none()
    # The team's role is held on a committee: its scope is the cycle's committee key.
    return ReviewerAssignment.objects.filter(reviewer_id=user.pk).filter(
        scope_q(user, TEAM_REVIEWERS, org="assessment__branch__", committee="cycle__committee_id")
    )


def assigned_assessments(user) -> QuerySet[Assessment]:
    """What an assessment-team member has been assigned to score, within their committee."""
    return Assessment.objects.filter(pk__in=own_assignments(user).values("assessment_id"))


def rereviewed_assessments(user) -> QuerySet[Assessment]:
    """What an assessment-team member re-scores on appeal: they need its self-scores and evidence."""
    if not user.is_authenticated or not user.is_active:
        return Assessment.objects.none()
    own = AppealReviewer.objects.filter(reviewer_id=user.pk).filter(
        _under_roles(user, TEAM_REVIEWERS, "appeal__assessment__branch__path")
    )
    return Assessment.objects.filter(pk__in=own.values("appeal__assessment_id"))


def cycles_visible_to(user, roles=None) -> QuerySet[Cycle]:
    """The cycles of the committees where the user holds one of ``roles`` (the committee key, no tree)."""
    return Cycle.objects.filter(user_scope(user, roles).committees_q())


def get_cycle_for_user_or_404(user, pk, roles=None) -> Cycle:
    try:
        return cycles_visible_to(user, roles).select_related("committee", "standard").get(pk=pk)
    except (Cycle.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- Who may read an assessment and its evidence ------------------------------------------


def get_readable_assessment_or_404(user, pk) -> Assessment:
    """An assessment the user may read, or the same 404 for "missing" and "not yours"."""
    try:
        return get_assessment_for_user_or_404(user, pk, TREE_READERS)
    except Http404:
        readable = assigned_assessments(user).filter(pk=pk) | rereviewed_assessments(user).filter(pk=pk)
        assessment = readable.select_related("branch", "cycle", "cycle__standard").first()
        if assessment is None:
            raise
        return assessment


def get_objection_for_user_or_404(user, cycle: Cycle, pk) -> Objection:
    """An objection to a result of ``cycle`` whose branch the user reaches; 404 otherwise."""
    try:
        return (
            Objection.objects.filter(assessment__in=assessments_visible_to(user), assessment__cycle=cycle)
            .select_related("assessment__branch", "recorded_by")
            .get(pk=pk)
        )
    except (Objection.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def evidence_of(assessment: Assessment) -> QuerySet[Evidence]:
    return (
        Evidence.objects.filter(assessment_id=assessment.pk)
        .select_related("uploaded_by")
        .order_by("item_id", "uploaded_at", "pk")
    )


def get_evidence_for_user_or_404(user, pk) -> Evidence:
    """An evidence row whose assessment the user may read; 404 otherwise, and for bad ids."""
    try:
        assessment_id = Evidence.objects.filter(pk=pk).values_list("assessment_id", flat=True).first()
    except (ValueError, TypeError):
        raise Http404 from None
    if assessment_id is None:
        raise Http404
    assessment = get_readable_assessment_or_404(user, assessment_id)
    evidence = Evidence.objects.select_related("uploaded_by", "item").filter(pk=pk).first()
    if evidence is None:  # deleted in the meantime
        raise Http404
    evidence.assessment = assessment
    return evidence


@dataclass(frozen=True)
class SelfAssessmentData:
    """A branch's self-scores and evidence files, keyed by item id, as every page shows them."""

    self_scores: dict[int, SelfScore]
    evidence: dict[int, list[Evidence]]


def self_assessment_data(assessment: Assessment) -> SelfAssessmentData:
    """The self-scores and the evidence (grouped by item, in upload order) of one assessment; two queries."""
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    for row in evidence_of(assessment):
        evidence[row.item_id].append(row)
    return SelfAssessmentData(
        self_scores={row.item_id: row for row in SelfScore.objects.filter(assessment_id=assessment.pk)},
        evidence=dict(evidence),
    )


# ---------------------------------------------------------------------------- the preliminary review

QUEUE_STATES = {
    "pending": [S.SUBMITTED],
    "done": [S.RETURNED, *FORWARDED_ON],
}


def _latest_round(field: str) -> Subquery:
    return Subquery(
        SubmissionRound.objects.filter(assessment_id=OuterRef("pk")).order_by("-number").values(field)[:1]
    )


def queue_for(user, state: str = "pending"):
    """Assessments of the reviewer's branches in ``state``, with their latest round (one query)."""
    return (
        assessments_visible_to(user, PARENT_REVIEWERS)
        .filter(status__in=QUEUE_STATES[state])
        .select_related("branch", "branch__parent", "cycle")
        .annotate(round_number=_latest_round("number"), round_submitted_at=_latest_round("submitted_at"))
        .order_by("-cycle__opened_at", "branch__path", "pk")
    )


# ---------------------------------------------------------------------------- scoring summary


@dataclass(frozen=True)
class ScoreVersion:
    version: int
    score: Decimal | None
    comment: str
    recorded_at: datetime.datetime


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
        return self.is_veto and majority_applies([veto_applies(cell.score) for cell in self.cells])


@dataclass(frozen=True)
class ReviewerTotal:
    """A reviewer's total of one assessment: only a submitted sheet counts, veto marks carry no points."""

    assignment: ReviewerAssignment
    total: Decimal | None  # None until the reviewer has submitted

    @property
    def reviewer(self) -> User:
        return self.assignment.reviewer

    @property
    def submitted(self) -> bool:
        return self.assignment.submitted_at is not None

    @classmethod
    def of(cls, rules, assignment: ReviewerAssignment, scores: dict[str, Decimal]) -> "ReviewerTotal":
        """The total of ``scores`` (item code → latest submitted score, veto items left out)."""
        if assignment.submitted_at is None:
            return cls(assignment, None)
        try:
            return cls(assignment, total_score(rules, scores))
        except ScoreError:
            return cls(assignment, None)


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
        reviewer_totals=tuple(ReviewerTotal.of(rules, a, per_reviewer.get(a.pk, {})) for a in assignments),
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
        RoleAssignment.objects.filter(user_id__in=list(reviewer_ids), organization__committee_id=committee.pk)
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
            status__in=FORWARDED_ON,
        )
        .select_related("branch", "branch__parent")
        .prefetch_related("assignments__reviewer")
        .order_by(*branch_order())
    )


def reviewer_assignments(user: User) -> QuerySet[ReviewerAssignment]:
    """The user's own assignments, within the committees where they are on the team."""
    return (
        own_assignments(user)
        .select_related("assessment__branch", "assessment__cycle")
        # Still to score first (NULLs sort differently per database, so say where they go).
        .order_by(
            F("submitted_at").asc(nulls_first=True),
            "assessment__cycle__scoring_deadline",
            "assessment__branch__path",
        )
    )


def reviewer_cycles(user: User) -> QuerySet[Cycle]:
    """The cycles the user has assignments in, newest first: the choices of the cycle filter."""
    # Each cycle of the team's committees probes the (reviewer, cycle) index once, rather than
    # reading every assignment the reviewer ever had.
    mine = own_assignments(user).filter(cycle_id=OuterRef("pk"))
    return (
        Cycle.objects.filter(user_scope(user, TEAM_REVIEWERS).member_q())
        .filter(Exists(mine))
        .order_by("-opened_at", "-pk")
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


# ---------------------------------------------------------------------------- who sees the team's scores


@dataclass(frozen=True)
class ScoresVisibility:
    scores: bool  # the team's scores of every reviewer
    names: bool  # and who gave them


def team_scores_visibility(user: User, assessment: Assessment) -> ScoresVisibility:
    """Blind scoring, for every page and PDF that shows the team's scores.

    An assigned reviewer sees the others' scores only after submitting their own — even one
    who also holds a committee role. The committee (approvers, staff) sees everything. Anyone
    else who may read the assessment sees the scores once the result is public, without names.
    """
    assignment = ReviewerAssignment.objects.filter(assessment_id=assessment.pk, reviewer_id=user.pk).first()
    if assignment is not None:
        submitted = assignment.submitted_at is not None
        return ScoresVisibility(scores=submitted, names=submitted)
    committee = assessment.cycle.committee
    if any(has_role_on(user, role, committee) for role in COMMITTEE_MANAGERS):
        return ScoresVisibility(scores=True, names=True)
    return ScoresVisibility(scores=assessment.status in RESULT_PUBLIC, names=False)


def cycle_scores_visibility(user: User, cycle: Cycle):
    """``team_scores_visibility`` for every assessment of a cycle at once, in three queries.

    Returns a function of an assessment (of ``cycle``) to its ``ScoresVisibility``: the same
    answers as ``team_scores_visibility``, for lists and exports of many rows.
    """
    own = dict(
        ReviewerAssignment.objects.filter(assessment__cycle_id=cycle.pk, reviewer_id=user.pk).values_list(
            "assessment_id", "submitted_at"
        )
    )
    manager = any(has_role_on(user, role, cycle.committee) for role in COMMITTEE_MANAGERS)

    def visibility(assessment: Assessment) -> ScoresVisibility:
        if assessment.pk in own:
            submitted = own[assessment.pk] is not None
            return ScoresVisibility(scores=submitted, names=submitted)
        if manager:
            return ScoresVisibility(scores=True, names=True)
        return ScoresVisibility(scores=assessment.status in RESULT_PUBLIC, names=False)

    return visibility


# ---------------------------------------------------------------------------- decisions


@dataclass
class StarShare:
    stars: int
    count: int
    share: Decimal
    cap: Decimal | None

    @property
    def exceeded(self) -> bool:
        return self.cap is not None and self.share > self.cap


def star_shares(cycle) -> dict[int, StarShare]:
    """Each level's share of the decided (else proposed) stars of the cycle, against its cap."""
    counts = dict(
        cycle.assessments.filter(status__in=DECISION_POOL)
        .annotate(effective=Coalesce("decided_stars", "proposed_stars"))
        .filter(effective__isnull=False)
        .order_by()
        .values("effective")
        .annotate(n=Count("pk"))
        .values_list("effective", "n")
    )
    total = sum(counts.values())
    shares = {}
    for stars in range(MAX_STARS, MIN_STARS - 1, -1):
        count = counts.get(stars, 0)
        share = (Decimal(count) * 100 / total).quantize(Decimal("0.1")) if total else Decimal(0)
        shares[stars] = StarShare(stars=stars, count=count, share=share, cap=cycle.cap_for(stars))
    return shares


def reviewer_totals(cycle, assessment_ids) -> dict[int, list[ReviewerTotal]]:
    """Each assigned reviewer's total for the given assessments, in four queries.

    The same rules as ``scoring_summary``, for a whole page at once: only
    submitted sheets count, at their submitted version; veto marks carry no points.
    """
    rules = rules_from_standard(cycle.standard)
    assignments = list(
        ReviewerAssignment.objects.filter(assessment_id__in=assessment_ids)
        .select_related("reviewer")
        .order_by("assessment_id", "assigned_at", "pk")
    )
    scores: dict[int, dict[str, Decimal]] = defaultdict(dict)
    # Ordered by version, so the last row seen per item is the latest submitted one.
    for assignment_id, code, score in (
        ReviewScore.objects.filter(
            assignment__assessment_id__in=assessment_ids,
            assignment__submitted_at__isnull=False,
            version__lte=F("assignment__version"),
        )
        .exclude(item__kind=ItemKind.VETO)
        .order_by("assignment_id", "item_id", "version")
        .values_list("assignment_id", "item__code", "score")
    ):
        if score is None:
            scores[assignment_id].pop(code, None)
        else:
            scores[assignment_id][code] = score
    result: dict[int, list[ReviewerTotal]] = defaultdict(list)
    for assignment in assignments:
        result[assignment.assessment_id].append(
            ReviewerTotal.of(rules, assignment, scores.get(assignment.pk, {}))
        )
    return result


# ---------------------------------------------------------------------------- certificates


def current_certificate(branch: Organization, today: datetime.date | None = None) -> Certificate | None:
    """The branch's certificate in force today, or None when the branch is unrated."""
    today = today or timezone.localdate()
    return (
        Certificate.objects.filter(
            branch_id=branch.pk, status=CertificateStatus.VALID, valid_until__gte=today
        )
        .select_related("assessment__cycle")
        .first()
    )


# ---------------------------------------------------------------------------- the home page sections


@dataclass
class FunnelStage:
    status: str
    label: str
    count: int


@dataclass
class CommitteeDashboard:
    cycle: Cycle | None
    funnel: list[FunnelStage]
    branch_count: int
    star_counts: dict[int, int]
    rated_count: int
    five_star_percent: Decimal
    target_percent: Decimal | None
    target_deadline: object = None
    distribution: list[tuple[int, int, int]] = field(default_factory=list)  # stars, count, % width
    unassigned: int = 0  # forwarded assessments of the cycle waiting for their reviewers


def _percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _published_at() -> Subquery:
    return Subquery(
        AssessmentEvent.objects.filter(assessment_id=OuterRef("pk"), action="publicize")
        .order_by("-at", "-pk")
        .values("at")[:1]
    )


def cycle_status_counts(cycle_id: int) -> dict[str, int]:
    """{status: assessments} of a cycle, kept in the cache until a status changes (a count over
    the committee's 20,000 assessments on every look at the cycle)."""

    def count():
        return dict(
            Assessment.objects.filter(cycle_id=cycle_id)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )

    return cached_figures("cycle-statuses", (cycle_id,), count)


def assessment_counts(cycle_ids: list[int]) -> dict[int, int]:
    """{cycle id: its assessments}, kept in the cache until an assessment is added or removed."""

    def count():
        rows = (
            Assessment.objects.filter(cycle_id__in=cycle_ids).values_list("cycle_id").annotate(n=Count("pk"))
        )
        return dict(rows.order_by())

    return cached_figures("cycle-sizes", sorted(cycle_ids), count) if cycle_ids else {}


def secretary_section(user) -> dict:
    """This cycle's assessment of each of the secretary's branches, returned reasons, stars."""
    branches = branches_visible_to(user, SECRETARIES)
    assessments = list(
        Assessment.objects.filter(branch__in=branches, cycle__status__in=ACTIVE_CYCLES)
        .select_related("branch", "cycle")
        .annotate(published_at=_published_at())
        .order_by(*branch_order(), "-cycle__opened_at")
    )
    # The reasons of a return, and an appeal (only a published result has one), are read only
    # for the assessments that can have them: most of the year, none.
    returned: dict[int, list[SubmissionRound]] = defaultdict(list)
    returned_ids = [a.pk for a in assessments if a.status == S.RETURNED]
    if returned_ids:
        for row in SubmissionRound.objects.filter(
            assessment_id__in=returned_ids, outcome=SubmissionRound.Outcome.RETURNED
        ).order_by("-number"):
            returned[row.assessment_id].append(row)
    appeals: dict[int, Appeal] = {}
    published_ids = [a.pk for a in assessments if a.published_at is not None]
    if published_ids:
        for row in Appeal.objects.filter(assessment_id__in=published_ids):
            appeals.setdefault(row.assessment_id, row)  # the first in the model's order, as before
    now = timezone.now()
    for a in assessments:  # the appeal, if any, and whether one may still be made
        a.returned_rounds = returned.get(a.pk, [])
        a.appeal = appeals.get(a.pk)
        a.appeal_deadline = (
            a.published_at + datetime.timedelta(days=a.cycle.appeal_days) if a.published_at else None
        )
        a.may_appeal = (
            a.appeal is None
            and a.status == S.PUBLICIZED
            and a.appeal_deadline is not None
            and now <= a.appeal_deadline
        )
    certificates = {
        c.branch_id: c
        for c in Certificate.objects.filter(
            branch__in=branches, status=CertificateStatus.VALID, valid_until__gte=timezone.localdate()
        ).select_related("branch")
    }
    branch_list = list(branches.order_by(*ORG_ORDER)[:50])
    rows = [{"branch": b, "certificate": certificates.get(b.pk)} for b in branch_list]
    return {"assessments": assessments, "branches": rows}


def parent_section(user) -> dict:
    """Queue size and progress of the reviewer's branches in the active cycles."""
    branches = branches_visible_to(user, PARENT_REVIEWERS)
    counts = dict(
        Assessment.objects.filter(branch__in=branches, cycle__status__in=ACTIVE_CYCLES)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    funnel = _funnel(counts)
    return {
        "pending": counts.get(AssessmentStatus.SUBMITTED, 0),
        "funnel": funnel,
        "total": sum(counts.values()),
    }


def reviewer_section(user) -> dict:
    assignments = (
        own_assignments(user)
        # Scoring happens while the cycle is open: the (reviewer, cycle) index skips past cycles.
        .filter(cycle__status__in=ACTIVE_CYCLES)
        .filter(assessment__status__in=[AssessmentStatus.SCORING, AssessmentStatus.SCORED])
        .select_related("assessment__branch", "assessment__cycle")
        .order_by("submitted_at", "assessment__cycle__scoring_deadline", "assessment__branch__path")
        # How many are still to score, over all of them (a window, not a second query).
        .annotate(todo=Window(Count("pk", filter=Q(submitted_at__isnull=True))))
    )
    shown = list(assignments[:20])
    return {"assignments": shown, "todo": shown[0].todo if shown else 0}


def _funnel(counts: dict[str, int]) -> list[FunnelStage]:
    return [
        FunnelStage(status, AssessmentStatus(status).label, sum(counts.get(s, 0) for s in members))
        for status, members in FUNNEL
    ]


def committee_section(user) -> CommitteeDashboard:
    """Funnel of the newest active cycle, star distribution and the five-star share vs target."""
    roles = COMMITTEE_MANAGERS
    branches = branches_visible_to(user, roles).filter(is_active=True)
    cycle = (
        Cycle.objects.filter(
            committee__in=committees_for_roles(user, roles),
            status__in=ACTIVE_CYCLES,
        )
        .select_related("committee")
        .order_by("-opened_at")
        .first()
    )

    def count():
        # Three counts over the whole committee: kept until a status or the tree changes.
        counts = {}
        if cycle is not None:
            counts = dict(
                Assessment.objects.filter(cycle=cycle, branch__in=branches)
                .values_list("status")
                .annotate(n=Count("pk"))
                .order_by()
            )
        stars = Certificate.objects.filter(
            branch__in=branches, status=CertificateStatus.VALID, valid_until__gte=timezone.localdate()
        ).aggregate(
            total=Count("pk"),
            **{f"s{n}": Count("pk", filter=Q(stars=n)) for n in range(1, 6)},
        )
        return counts, stars, branches.count()

    scope = user_scope(user, roles)
    counts, stars, branch_count = cached_figures(
        "committee-dashboard", (scope, cycle.pk if cycle else None), count
    )
    star_counts = {n: stars[f"s{n}"] for n in range(5, 0, -1)}
    policy = CommitteePolicy.objects.filter(scope.committees_q()).order_by("committee__path").first()
    biggest = max(star_counts.values()) or 1
    return CommitteeDashboard(
        cycle=cycle,
        funnel=_funnel(counts) if cycle else [],
        branch_count=branch_count,
        star_counts=star_counts,
        rated_count=stars["total"],
        five_star_percent=_percent(star_counts[5], branch_count),
        target_percent=policy.five_star_target_percent if policy else None,
        target_deadline=policy.target_deadline if policy else None,
        distribution=[(n, c, round(c * 100 / biggest)) for n, c in star_counts.items()],
        unassigned=counts.get(AssessmentStatus.FORWARDED, 0),
    )


# ---------------------------------------------------------------------------- appeals (复核申请)
#
# The window: a branch may appeal its result while it is under public notice, for
# ``cycle.appeal_days`` days from the moment it was published (its "publicize" event). The
# re-score: the re-reviewers score the contested items only; each contested item's mean of
# their scores replaces the team's mean, every other item keeps the team's, and the total and
# the proposed star follow the standard's rules (vetoes that applied still apply).


def assessments_with_open_appeals() -> QuerySet[Assessment]:
    """Assessments whose appeal is not closed yet: their certification waits (one subquery)."""
    return Assessment.objects.filter(appeals__in=Appeal.objects.exclude(status__in=APPEAL_CLOSED))


def published_at(assessment: Assessment) -> datetime.datetime | None:
    """When the assessment's result was published for the public notice (its latest publicize move)."""
    return (
        AssessmentEvent.objects.filter(assessment_id=assessment.pk, action="publicize")
        .order_by("-at", "-pk")
        .values_list("at", flat=True)
        .first()
    )


def appeal_deadline(assessment: Assessment) -> datetime.datetime | None:
    """The last moment the branch may appeal, or None while the result is not published."""
    start = published_at(assessment)
    if start is None:
        return None
    return start + datetime.timedelta(days=assessment.cycle.appeal_days)


def appeal_window_open(assessment: Assessment, now: datetime.datetime | None = None) -> bool:
    deadline = appeal_deadline(assessment) if assessment.status == S.PUBLICIZED else None
    return deadline is not None and (now or timezone.now()) <= deadline


def appeals_visible_to(user, roles=None) -> QuerySet[Appeal]:
    """Appeals of assessments the user reaches with one of ``roles`` through the tree."""
    return Appeal.objects.filter(assessment__in=assessments_visible_to(user, roles))


def _appeal_queryset() -> QuerySet[Appeal]:
    return Appeal.objects.select_related(
        "assessment__branch",
        "assessment__cycle__committee",
        "assessment__cycle__standard",
        "submitted_by",
        "reviewed_by",
        "decided_by",
    )


def get_appeal_for_user_or_404(user, pk) -> Appeal:
    """An appeal the user may read: in the tree (secretary, parent, committee) or as a re-reviewer."""
    try:
        return _appeal_queryset().get(
            Q(assessment__in=assessments_visible_to(user, TREE_READERS))
            | Q(pk__in=AppealReviewer.objects.filter(reviewer_id=user.pk).values("appeal_id")),
            pk=pk,
        )
    except (Appeal.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def get_appeal_assignment_or_404(user, appeal_pk) -> AppealReviewer:
    """The user's own re-scoring assignment of one appeal; the same 404 for "none" and "not yours"."""
    try:
        return (
            AppealReviewer.objects.select_related(
                "appeal__assessment__branch",
                "appeal__assessment__cycle__committee",
                "appeal__assessment__cycle__standard",
            )
            .filter(_under_roles(user, TEAM_REVIEWERS, "appeal__assessment__branch__path"))
            .get(reviewer_id=user.pk, appeal_id=appeal_pk)
        )
    except (AppealReviewer.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def get_appeal_file_for_user_or_404(user, pk) -> AppealFile:
    try:
        appeal_id = AppealFile.objects.filter(pk=pk).values_list("appeal_id", flat=True).first()
    except (ValueError, TypeError, OverflowError):
        raise Http404 from None
    if appeal_id is None:
        raise Http404
    appeal = get_appeal_for_user_or_404(user, appeal_id)
    row = AppealFile.objects.filter(pk=pk).first()
    if row is None:
        raise Http404
    row.appeal = appeal
    return row


def appeal_of(assessment: Assessment) -> Appeal | None:
    return _appeal_queryset().filter(assessment_id=assessment.pk).first()


def contestable_items(assessment: Assessment) -> list[Item]:
    """The items a branch may contest: every scored item of the standard (veto marks are not points)."""
    return [item for item in standard_items(assessment) if item.kind != ItemKind.VETO]


def appeal_list_for(user) -> QuerySet[Appeal]:
    """The committee's appeals for its approvers and staff, and a re-reviewer's own ones."""
    path = "assessment__branch__path"
    if user.is_superuser and user.is_active:
        scope = Q()
    else:
        # A re-reviewer's own appeals start from their rows and keep to their team's committee.
        own = Q(pk__in=AppealReviewer.objects.filter(reviewer_id=user.pk).values("appeal_id"))
        scope = _under_roles(user, COMMITTEE_MANAGERS, path) | (
            own & _under_roles(user, TEAM_REVIEWERS, path)
        )
    return (
        _appeal_queryset()
        .filter(scope)
        .order_by(F("decided_at").desc(nulls_first=True), "-submitted_at", "-pk")
    )


@dataclass(frozen=True)
class AppealReviewerOption:
    """A team member as the re-reviewer page shows them: why not, if they may not re-score."""

    user: User
    load: int
    assigned: bool
    submitted: bool
    reasons: tuple[str, ...]

    @property
    def eligible(self) -> bool:
        return not self.reasons


def appeal_reviewer_options(appeal: Appeal) -> list[AppealReviewerOption]:
    """Every team member for an appeal: excluded if they scored the result before or have a conflict."""
    assessment = appeal.assessment
    current = {a.reviewer_id: a for a in AppealReviewer.objects.filter(appeal_id=appeal.pk)}
    options = []
    for option in reviewer_options(assessment):
        reasons = list(option.conflicts)
        if option.assigned:  # an original reviewer of the result
            reasons.insert(0, _("Scored this result before."))
        mine = current.get(option.user.pk)
        options.append(
            AppealReviewerOption(
                user=option.user,
                load=option.load,
                assigned=mine is not None,
                submitted=mine is not None and mine.submitted_at is not None,
                reasons=tuple(reasons),
            )
        )
    return sorted(options, key=lambda o: (not o.eligible, o.load, str(o.user), o.user.pk))


@dataclass(frozen=True)
class AppealItemRow:
    item: Item
    team_mean: Decimal | None  # the original consolidated score of the item
    cells: tuple[tuple[AppealReviewer, Decimal | None, str], ...]  # submitted re-reviewers' scores
    mean: Decimal | None  # of the re-scores


@dataclass(frozen=True)
class AppealSummary:
    appeal: Appeal
    assignments: tuple[AppealReviewer, ...]
    submitted: tuple[AppealReviewer, ...]
    rows: tuple[AppealItemRow, ...]
    original_total: Decimal | None
    total: Decimal | None  # None until every re-reviewer has submitted
    proposed_stars: int | None

    @property
    def all_submitted(self) -> bool:
        return bool(self.assignments) and len(self.submitted) == len(self.assignments)


def appeal_summary(appeal: Appeal) -> AppealSummary:
    """The contested items' team means and re-scores, and the total and star they lead to."""
    assessment = appeal.assessment
    team = scoring_summary(assessment)
    rules = rules_from_standard(assessment.cycle.standard)
    contested = {item.pk for item in appeal.items.all()}
    assignments = tuple(
        AppealReviewer.objects.filter(appeal_id=appeal.pk)
        .select_related("reviewer")
        .order_by("assigned_at", "pk")
    )
    submitted = tuple(a for a in assignments if a.submitted_at is not None)
    scores = {
        (s.assignment_id, s.item_id): s
        for s in AppealScore.objects.filter(assignment_id__in=[a.pk for a in submitted])
    }
    means = {row.item.code: row.mean for row in team.items if row.mean is not None}
    rows = []
    for row in team.items:
        if row.item.pk not in contested:
            continue
        cells = []
        for assignment in submitted:
            score = scores.get((assignment.pk, row.item.pk))
            cells.append((assignment, score.score if score else None, score.comment if score else ""))
        values = [value for _a, value, _c in cells if value is not None]
        mean = mean_score(values) if values else None
        if mean is not None:
            means[row.item.code] = mean
        rows.append(AppealItemRow(item=row.item, team_mean=row.mean, cells=tuple(cells), mean=mean))
    total = proposed = None
    if assignments and len(submitted) == len(assignments):
        total = total_score(rules, means)
        proposed = star_for(rules, total, team.applied_vetoes)
    return AppealSummary(
        appeal=appeal,
        assignments=assignments,
        submitted=submitted,
        rows=tuple(rows),
        original_total=team.consolidated_score,
        total=total,
        proposed_stars=proposed,
    )


def appeal_scores_visibility(user: User, appeal: Appeal) -> ScoresVisibility:
    """Blind re-scoring: a re-reviewer sees the others' re-scores only after submitting their own.

    The committee's approvers and staff see everything; whoever else may read the appeal sees
    the re-scores, without names, once the appeal is closed.
    """
    mine = AppealReviewer.objects.filter(appeal_id=appeal.pk, reviewer_id=user.pk).first()
    if mine is not None:
        submitted = mine.submitted_at is not None
        return ScoresVisibility(scores=submitted, names=submitted)
    committee = appeal.assessment.cycle.committee
    if any(has_role_on(user, role, committee) for role in COMMITTEE_MANAGERS):
        return ScoresVisibility(scores=True, names=True)
    return ScoresVisibility(scores=appeal.is_closed, names=False)


def appeal_counts(committee: Organization, start: datetime.datetime, end: datetime.datetime) -> dict:
    """Appeals of the committee's branches made in [start, end), by outcome (one query)."""
    counts = dict(
        Appeal.objects.filter(
            assessment__cycle__committee_id=committee.pk, submitted_at__gte=start, submitted_at__lt=end
        )
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    closed = sum(counts.get(status, 0) for status in APPEAL_CLOSED)
    return {
        "total": sum(counts.values()),
        "rejected": counts.get(AppealStatus.REJECTED, 0),
        "upheld": counts.get(AppealStatus.UPHELD, 0),
        "changed": counts.get(AppealStatus.CHANGED, 0),
        "open": sum(counts.values()) - closed,
    }


def appeals_section(user) -> dict | None:
    """The home page's appeal to-dos: to answer or decide (approvers), to re-score (reviewers)."""
    to_act = Appeal.objects.none()
    roles = role_set(user)
    if roles & APPROVERS:
        to_act = appeals_visible_to(user, APPROVERS).filter(
            status__in=[AppealStatus.SUBMITTED, AppealStatus.RESCORED]
        )
    to_assign = Appeal.objects.none()
    if roles & COMMITTEE_MANAGERS:
        to_assign = appeals_visible_to(user, COMMITTEE_MANAGERS).filter(status=AppealStatus.ACCEPTED)
    to_score = AppealReviewer.objects.filter(
        reviewer_id=user.pk, submitted_at__isnull=True, appeal__status=AppealStatus.RESCORING
    )
    counts = {"to_act": to_act.count(), "to_assign": to_assign.count(), "to_score": to_score.count()}
    return counts if any(counts.values()) else None


# ---------------------------------------------------------------------------- the public notice for every member
#
# A public notice (公示) is public within the committee: whoever holds any role anywhere in
# its tree reads the results of its batches not certified yet, and may lodge an objection
# while a batch's window runs. Once certified, a result is checked on the verification page.


def member_committees(user) -> QuerySet[Organization]:
    """The committees in whose tree the user holds any role (every committee for superusers)."""
    if not user.is_authenticated or not user.is_active:
        return Organization.objects.none()
    # The committee keys of the user's roles (from the per-request cache): no tree is read.
    return Organization.objects.filter(user_scope(user).member_q("pk"), kind=OrgKind.COMMITTEE)


def notice_batches_for_member(user) -> QuerySet[NoticeBatch]:
    """The uncertified notice batches of the user's committees, newest first."""
    if not user.is_authenticated or not user.is_active:
        return NoticeBatch.objects.none()
    return (
        NoticeBatch.objects.filter(
            user_scope(user).member_q("cycle__committee_id"), certified_at__isnull=True
        )
        .select_related("cycle__committee")
        .order_by("-started_at", "-pk")
    )


def notice_results_for_member(user) -> QuerySet[Assessment]:
    """The results under public notice in the user's committees: newest batch, most stars first."""
    return (
        Assessment.objects.filter(
            notice_batch__in=notice_batches_for_member(user), status=AssessmentStatus.PUBLICIZED
        )
        .select_related("branch", "branch__parent", "notice_batch", "cycle__committee")
        .order_by("-notice_batch__started_at", "-notice_batch_id", "-decided_stars", *branch_order())
    )


def get_notice_result_for_member_or_404(user, pk) -> Assessment:
    """A result under public notice in one of the user's committees; the same 404 otherwise."""
    try:
        return notice_results_for_member(user).get(pk=pk)
    except (Assessment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def public_notice_section(user) -> dict | None:
    """The home page's "under public notice": the batches whose window runs now, or None."""
    now = timezone.now()
    running = list(notice_batches_for_member(user).filter(ends_at__gte=now)[:10])
    if not running:
        return None
    counts = dict(
        Assessment.objects.filter(
            notice_batch__in=[b.pk for b in running], status=AssessmentStatus.PUBLICIZED
        )
        .order_by()
        .values_list("notice_batch_id")
        .annotate(n=Count("pk"))
    )
    for batch in running:
        batch.result_count = counts.get(batch.pk, 0)
    return {"batches": running}
