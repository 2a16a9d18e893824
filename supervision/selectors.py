"""Scoped reads of supervision: 404 outside the user's scope, 403 when the role is too low.

A visit is read by whoever reaches its branch with any role (the committee's assessment team
too: its members are the ones who visit); a stage application by whoever reaches its branch
through the tree (``TREE_READERS``). The scope is matched as literal path prefixes from the
user's own roles (read once per request), so a list costs the same whatever the committee's size.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization, OrgKind, User
from branches.roles import COMMITTEE_MANAGERS, TREE_READERS, Role
from branches.selectors import committees_for_roles, role_paths, role_set

from .models import (
    LiaisonAssignment,
    StageApplication,
    StageApplicationFile,
    SupervisionVisit,
    VisitPhoto,
    calendar_quarter,
)
from .services.common import MEMBER_ROLES

ALL_ROLES = frozenset(Role.values)


def _under(paths: Iterable[str], field_name: str) -> Q | None:
    """Rows whose ``field_name`` (an organization path) starts with one of ``paths``; None: nothing."""
    condition = None
    for path in paths:
        one = Q(**{f"{field_name}__startswith": path})
        condition = one if condition is None else condition | one
    return condition


def _scoped(queryset: QuerySet, user: User, roles: Iterable[str], field_name: str) -> QuerySet:
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    condition = _under(role_paths(user, roles), field_name)
    return queryset.none() if condition is None else queryset.filter(condition)


def _committee_ids(user: User, roles: Iterable[str]) -> list[int]:
    """The committees on which ``user`` holds one of ``roles`` on the committee itself (no query)."""
    return [int(path.strip("/")) for path in role_paths(user, roles) if path.count("/") == 2]


def is_member_anywhere(user: User) -> bool:
    """Approver, staff or team reviewer of a committee (staff of a party committee is not)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or bool(_committee_ids(user, MEMBER_ROLES))


def member_committees(user: User) -> list[Organization]:
    """The committees on which ``user`` holds a member role themselves (all for a superuser)."""
    if user.is_superuser:
        return list(Organization.objects.filter(kind=OrgKind.COMMITTEE))
    ids = _committee_ids(user, MEMBER_ROLES)
    return list(Organization.objects.filter(pk__in=ids)) if ids else []


def managed_committees(user: User) -> QuerySet[Organization]:
    """The committees whose liaison branches the user manages (approver or staff on the committee)."""
    if user.is_superuser:
        return committees_for_roles(user, COMMITTEE_MANAGERS)
    return Organization.objects.filter(pk__in=_committee_ids(user, COMMITTEE_MANAGERS))


# ---------------------------------------------------------------------------- liaison branches


def liaisons_visible_to(user: User) -> QuerySet[LiaisonAssignment]:
    """The liaison branches of the committees the user manages, and the user's own."""
    base = LiaisonAssignment.objects.select_related("member", "branch__parent", "committee")
    if not user.is_authenticated:
        return base.none()
    if user.is_superuser:
        return base.all()
    return base.filter(Q(committee_id__in=_committee_ids(user, COMMITTEE_MANAGERS)) | Q(member_id=user.pk))


def liaison_list_for(user: User) -> QuerySet[LiaisonAssignment]:
    """The liaison list page: 403 for anyone neither a manager nor a member of a committee."""
    if not is_member_anywhere(user):
        raise PermissionDenied(_("Only the committee's members have liaison branches."))
    return liaisons_visible_to(user).order_by(
        "committee__code",
        "member__username",
        "branch__parent__sort_order",
        "branch__sort_order",
        "branch__code",
    )


def get_liaison_for_user_or_404(user: User, pk) -> LiaisonAssignment:
    try:
        return liaisons_visible_to(user).get(pk=pk)
    except (LiaisonAssignment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# ---------------------------------------------------------------------------- visits


def visits_visible_to(user: User) -> QuerySet[SupervisionVisit]:
    return _scoped(SupervisionVisit.objects.all(), user, ALL_ROLES, "branch__path")


def visit_list_for(
    user: User, *, year: int | None = None, quarter: int | None = None, member=None, branch=None
) -> QuerySet[SupervisionVisit]:
    visits = visits_visible_to(user).select_related("branch__parent", "recorded_by", "committee")
    if year:
        visits = visits.filter(year=year)
    if quarter:
        visits = visits.filter(quarter=quarter)
    if member is not None:
        visits = visits.filter(members=member)
    if branch is not None:
        visits = visits.filter(branch=branch)
    return (
        visits.prefetch_related("members")
        .annotate(photo_count=Count("photos", distinct=True))
        .order_by("-visited_on", "-pk")
    )


def get_visit_for_user_or_404(user: User, pk) -> SupervisionVisit:
    try:
        return visits_visible_to(user).select_related("branch__parent", "committee", "recorded_by").get(pk=pk)
    except (SupervisionVisit.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_visit_photo_for_user_or_404(user: User, pk) -> VisitPhoto:
    try:
        return VisitPhoto.objects.get(pk=pk, visit__in=visits_visible_to(user))
    except (VisitPhoto.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def branches_to_visit_for(user: User) -> QuerySet[Organization]:
    """The branches the user may record a visit of: every branch of the committees they are a member of."""
    if user.is_superuser:
        return Organization.objects.filter(kind=OrgKind.BRANCH, is_active=True)
    paths = [path for path in role_paths(user, MEMBER_ROLES) if path.count("/") == 2]
    condition = _under(paths, "path")
    if condition is None:
        return Organization.objects.none()
    return Organization.objects.filter(condition, kind=OrgKind.BRANCH, is_active=True)


# ---------------------------------------------------------------------------- the home page


@dataclass
class Coverage:
    committee: Organization
    liaison_branches: int
    visited: int

    @property
    def percent(self) -> int:
        return round(100 * self.visited / self.liaison_branches) if self.liaison_branches else 0


@dataclass
class SupervisionHome:
    year: int
    quarter: int
    unvisited: list = field(default_factory=list)  # the user's liaison branches without a visit
    unvisited_count: int = 0
    liaison_count: int = 0
    coverage: list[Coverage] = field(default_factory=list)
    pending_applications: int = 0
    is_member: bool = False
    may_apply: bool = False  # a secretary of a branch below the model stage
    own_applications: list = field(default_factory=list)  # the secretary's branches' latest

    @property
    def any(self) -> bool:
        return bool(self.is_member or self.pending_applications or self.may_apply or self.own_applications)


HOME_LIST = 10


def _visited_this_quarter(year: int, quarter: int) -> Exists:
    return Exists(
        SupervisionVisit.objects.filter(branch_id=OuterRef("branch_id"), year=year, quarter=quarter)
    )


def unvisited_liaisons(user: User, day: datetime.date | None = None) -> QuerySet[LiaisonAssignment]:
    """The user's liaison branches with no visit (by anyone) in the quarter of ``day``."""
    year, quarter = calendar_quarter(day or timezone.localdate())
    return (
        LiaisonAssignment.objects.filter(member_id=user.pk)
        .filter(~_visited_this_quarter(year, quarter))
        .select_related("branch__parent")
        .order_by("branch__parent__sort_order", "branch__sort_order", "branch__code")
    )


def coverage_for(committees: Iterable[Organization], year: int, quarter: int) -> list[Coverage]:
    """Per committee: its liaison branches, and how many of them were visited in the quarter (one query)."""
    committees = list(committees)
    if not committees:
        return []
    rows = (
        LiaisonAssignment.objects.filter(committee__in=committees)
        .values("committee_id")
        .annotate(
            total=Count("branch_id", distinct=True),
            visited=Count("branch_id", distinct=True, filter=Q(_visited_this_quarter(year, quarter))),
        )
    )
    by_committee = {row["committee_id"]: row for row in rows}
    return [
        Coverage(
            committee=committee,
            liaison_branches=by_committee.get(committee.pk, {}).get("total", 0),
            visited=by_committee.get(committee.pk, {}).get("visited", 0),
        )
        for committee in committees
    ]


def supervision_home_for(user: User) -> SupervisionHome:
    """The supervision section of a committee member's home page, a fixed number of queries."""
    year, quarter = calendar_quarter(timezone.localdate())
    home = SupervisionHome(year=year, quarter=quarter)
    roles = role_set(user)
    if roles & MEMBER_ROLES and _committee_ids(user, MEMBER_ROLES):
        home.is_member = True
        todo = unvisited_liaisons(user)
        home.unvisited = list(todo[:HOME_LIST])
        home.unvisited_count = len(home.unvisited) if len(home.unvisited) < HOME_LIST else todo.count()
        home.liaison_count = LiaisonAssignment.objects.filter(member_id=user.pk).count()
    if roles & COMMITTEE_MANAGERS or user.is_superuser:
        home.coverage = coverage_for(managed_committees(user).order_by("sort_order", "code"), year, quarter)
    if Role.COMMITTEE_APPROVER in roles or user.is_superuser:
        home.pending_applications = pending_applications_for(user).count()
    if Role.BRANCH_SECRETARY in roles:
        home.may_apply = branches_to_apply_for(user).exists()
        own = _scoped(StageApplication.objects.all(), user, [Role.BRANCH_SECRETARY], "branch__path")
        home.own_applications = list(own.select_related("branch").order_by("-submitted_at", "-pk")[:3])
    return home


# ---------------------------------------------------------------------------- stage applications


def applications_visible_to(user: User) -> QuerySet[StageApplication]:
    return _scoped(StageApplication.objects.all(), user, TREE_READERS, "branch__path")


def application_list_for(user: User, *, status: str = "") -> QuerySet[StageApplication]:
    """Pending first, then the newest."""
    applications = applications_visible_to(user).select_related(
        "branch__parent", "submitted_by", "decided_by"
    )
    if status:
        applications = applications.filter(status=status)
    return applications.annotate(pending=Q(status="submitted")).order_by("-pending", "-submitted_at", "-pk")


def pending_applications_for(user: User) -> QuerySet[StageApplication]:
    """The applications waiting for a decision on the committees where the user is approver."""
    return _scoped(
        StageApplication.objects.filter(status="submitted"), user, [Role.COMMITTEE_APPROVER], "branch__path"
    )


def get_application_for_user_or_404(user: User, pk) -> StageApplication:
    try:
        return applications_visible_to(user).select_related("branch__parent", "committee").get(pk=pk)
    except (StageApplication.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_application_file_for_user_or_404(user: User, pk) -> StageApplicationFile:
    try:
        return StageApplicationFile.objects.get(pk=pk, application__in=applications_visible_to(user))
    except (StageApplicationFile.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def branches_to_apply_for(user: User) -> QuerySet[Organization]:
    """The branches whose secretary the user is, below the model stage."""
    return _scoped(
        Organization.objects.filter(kind=OrgKind.BRANCH, stage__in=["basic", "distinctive"]),
        user,
        [Role.BRANCH_SECRETARY],
        "path",
    ).exclude(stage="")
