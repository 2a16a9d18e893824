"""What the home page "我的工作" shows each role; a fixed number of queries per section."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from branches import scoping
from branches.models import CommitteePolicy, OrgKind, Role

from .models import (
    Assessment,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    Cycle,
    CycleStatus,
    ReviewerAssignment,
    SubmissionRound,
)
from .workflow import FUNNEL

ACTIVE_CYCLES = [CycleStatus.OPEN, CycleStatus.PUBLICITY]


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


def _percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def secretary_section(user) -> dict:
    """This cycle's assessment of each of the secretary's branches, returned reasons, stars."""
    branches = scoping.branches_for_role(user, Role.BRANCH_SECRETARY)
    returned = SubmissionRound.objects.filter(outcome=SubmissionRound.Outcome.RETURNED).order_by("-number")
    assessments = list(
        Assessment.objects.filter(branch__in=branches, cycle__status__in=ACTIVE_CYCLES)
        .select_related("branch", "cycle")
        .prefetch_related(Prefetch("rounds", queryset=returned, to_attr="returned_rounds"))
        .order_by("branch__path", "-cycle__opened_at")
    )
    certificates = {
        c.branch_id: c
        for c in Certificate.objects.filter(
            branch__in=branches, status=CertificateStatus.VALID, valid_until__gte=timezone.localdate()
        ).select_related("branch")
    }
    branch_list = list(branches.order_by("path")[:50])
    rows = [{"branch": b, "certificate": certificates.get(b.pk)} for b in branch_list]
    return {"assessments": assessments, "branches": rows}


def parent_section(user) -> dict:
    """Queue size and progress of the reviewer's branches in the active cycles."""
    branches = scoping.branches_for_role(user, Role.PARENT_REVIEWER)
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
        ReviewerAssignment.objects.filter(
            reviewer=user,
            assessment__branch__in=scoping.branches_for_role(user, Role.ASSESSMENT_REVIEWER),
            assessment__status__in=[AssessmentStatus.SCORING, AssessmentStatus.SCORED],
        )
        .select_related("assessment__branch", "assessment__cycle")
        .order_by("submitted_at", "assessment__cycle__scoring_deadline", "assessment__branch__path")
    )
    todo = assignments.filter(submitted_at__isnull=True).count()
    return {"assignments": list(assignments[:20]), "todo": todo}


def _funnel(counts: dict[str, int]) -> list[FunnelStage]:
    return [
        FunnelStage(status, AssessmentStatus(status).label, sum(counts.get(s, 0) for s in members))
        for status, members in FUNNEL
    ]


def committee_section(user) -> CommitteeDashboard:
    """Funnel of the newest active cycle, star distribution and the five-star share vs target."""
    roles = [Role.COMMITTEE_APPROVER, Role.STAFF]
    branches = scoping.branches_visible_to(user, roles).filter(is_active=True)
    cycle = (
        Cycle.objects.filter(
            committee__in=scoping.organizations_visible_to(user, roles).filter(kind=OrgKind.COMMITTEE),
            status__in=ACTIVE_CYCLES,
        )
        .select_related("committee")
        .order_by("-opened_at")
        .first()
    )
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
    branch_count = branches.count()
    star_counts = {n: stars[f"s{n}"] for n in range(5, 0, -1)}
    policy = (
        CommitteePolicy.objects.filter(committee__in=scoping.organizations_visible_to(user, roles))
        .order_by("committee__path")
        .first()
    )
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
    )


def home_sections(user) -> dict:
    roles = scoping.role_set(user)
    sections: dict = {}
    if Role.BRANCH_SECRETARY in roles:
        sections["secretary"] = secretary_section(user)
    if Role.PARENT_REVIEWER in roles:
        sections["parent"] = parent_section(user)
    if Role.ASSESSMENT_REVIEWER in roles:
        sections["reviewer"] = reviewer_section(user)
    if roles & {Role.COMMITTEE_APPROVER, Role.STAFF}:
        sections["committee"] = committee_section(user)
    return sections
