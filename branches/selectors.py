"""Who may see and act on which organizations (scoped reads). Every other app asks only this module.

A role is held on an organization and reaches its whole subtree. Superusers see
everything. Everything here returns lazy querysets built as a single SQL query (the
user's role assignments are matched against the tree paths inside an EXISTS), so callers
can filter, paginate and count them further without extra round trips.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.db.models.lookups import StartsWith
from django.http import Http404
from django.utils.translation import gettext as _

from .models import AuditEntry, Organization, OrgKind, RoleAssignment, User
from .roles import Role


def _roles_filter(roles: Iterable[str] | None) -> dict:
    return {} if roles is None else {"role__in": list(roles)}


def _reach(user: User, roles: Iterable[str] | None) -> Exists:
    """EXISTS (a role assignment of ``user`` on an ancestor-or-self of the outer row)."""
    return Exists(
        RoleAssignment.objects.filter(user_id=user.pk, **_roles_filter(roles)).filter(
            StartsWith(OuterRef("path"), F("organization__path"))
        )
    )


def organizations_visible_to(user: User, roles: Iterable[str] | None = None) -> QuerySet[Organization]:
    """Organizations in the subtree of any organization where ``user`` holds one of ``roles``."""
    if not user.is_authenticated or not user.is_active:
        return Organization.objects.none()
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(_reach(user, roles))


def organizations_for_role(user: User, role: str) -> QuerySet[Organization]:
    return organizations_visible_to(user, [role])


def branches_visible_to(user: User, roles: Iterable[str] | None = None) -> QuerySet[Organization]:
    return organizations_visible_to(user, roles).filter(kind=OrgKind.BRANCH)


def branches_for_role(user: User, role: str) -> QuerySet[Organization]:
    return branches_visible_to(user, [role])


def can_see(user: User, org: Organization) -> bool:
    return organizations_visible_to(user).filter(pk=org.pk).exists()


def has_role_on(user: User, role: str, org: Organization) -> bool:
    """Whether ``user`` may act as ``role`` on ``org`` (held on it or on an ancestor)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    ancestors = set(org.ancestor_ids)
    return any(held == role and org_id in ancestors for held, org_id, _path in _role_rows(user))


def require_role(user: User, roles: Iterable[str], org: Organization) -> None:
    """PermissionDenied (403) unless ``user`` holds one of ``roles`` on ``org`` or above it."""
    if not any(has_role_on(user, role, org) for role in roles):
        raise PermissionDenied(_("Your role does not allow this action."))


def roles_of(user: User) -> QuerySet[RoleAssignment]:
    """The user's own role assignments, with their organizations, for display."""
    if not user.is_authenticated:
        return RoleAssignment.objects.none()
    return RoleAssignment.objects.filter(user_id=user.pk).select_related("organization")


def _role_rows(user: User) -> tuple[tuple[str, int, str], ...]:
    """The user's role assignments as (role, organization id, organization path), in one query.

    Cached on the user object, which lives for one request (``request.user`` is loaded anew
    for each), so a page asks for the user's roles once however many checks it makes.
    """
    cached = getattr(user, "_role_rows_cache", None)
    if cached is None:
        cached = tuple(
            RoleAssignment.objects.filter(user_id=user.pk).values_list(
                "role", "organization_id", "organization__path"
            )
        )
        user._role_rows_cache = cached
    return cached


def role_set(user: User) -> frozenset[str]:
    """The roles a user holds anywhere (from the per-request cache of the user's roles)."""
    if not user.is_authenticated:
        return frozenset()
    return frozenset(role for role, _org_id, _path in _role_rows(user))


def role_paths(user: User, roles: Iterable[str]) -> list[str]:
    """The tree paths of the organizations where ``user`` holds one of ``roles`` (no query after the first).

    A scope as literal path prefixes: a row is in scope when its organization's path starts
    with one of them, so a query that starts from the user's own rows (their assignments)
    checks scope without a semi-join over every organization.
    """
    if not user.is_authenticated or not user.is_active:
        return []
    wanted = set(roles)
    return sorted({path for role, _org_id, path in _role_rows(user) if role in wanted})


def get_organization_for_user_or_404(user: User, pk: int, roles: Iterable[str] | None = None) -> Organization:
    """The same 404 for "no such organization" and "not in your scope"."""
    try:
        return organizations_visible_to(user, roles).get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def committees_for_role(user: User, role: str) -> QuerySet[Organization]:
    return organizations_for_role(user, role).filter(kind=OrgKind.COMMITTEE)


def committees_for_roles(user: User, roles: Iterable[str]) -> QuerySet[Organization]:
    """The committees on which ``user`` holds one of ``roles`` (everything for superusers)."""
    return organizations_visible_to(user, roles).filter(kind=OrgKind.COMMITTEE)


def _branch_count_in_subtree() -> Subquery:
    """COUNT of the branches under the outer role assignment's organization (itself included)."""
    branches = (
        Organization.objects.filter(kind=OrgKind.BRANCH)
        .filter(StartsWith(F("path"), OuterRef("organization__path")))
        .order_by()
        # COUNT without GROUP BY: one row holding the number of matching branches.
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return Subquery(branches, output_field=IntegerField())


def roles_with_reach(user: User) -> QuerySet[RoleAssignment]:
    """The user's role assignments, each with ``branch_count``: the branches it reaches (one query)."""
    return roles_of(user).annotate(branch_count=_branch_count_in_subtree())


# ---------------------------------------------------------------------------- people (the directory)


def people_visible_to(user: User) -> QuerySet[User]:
    """The accounts a staff member looks after: those holding a role in their subtrees, and
    those holding no role (a new account waiting for its first role, or one whose roles were
    all removed) that the audit trail records under a committee where they are staff — the
    account's creation or a role's removal writes such a row. Superusers see all.

    Nobody else sees anyone; superuser accounts are a superuser's to see. A role-less account
    recorded under no committee of theirs stays invisible to them (404), so staff of one
    committee never see another committee's new people.
    """
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if user.is_superuser:
        return User.objects.all()
    staff_paths = RoleAssignment.objects.filter(user_id=user.pk, role=Role.STAFF).values_list(
        "organization__path", flat=True
    )
    committee_ids = sorted({int(path.strip("/").split("/")[0]) for path in staff_paths})
    if not committee_ids:
        return User.objects.none()
    staff_orgs = organizations_for_role(user, Role.STAFF)
    in_scope = RoleAssignment.objects.filter(user_id=OuterRef("pk"), organization__in=staff_orgs)
    any_role = RoleAssignment.objects.filter(user_id=OuterRef("pk"))
    recorded_here = AuditEntry.objects.filter(
        target_type=User._meta.model_name,
        target_id=Cast(OuterRef("pk"), CharField()),
        committee_id__in=committee_ids,
    )
    return User.objects.filter(
        Q(Exists(in_scope)) | (~Q(Exists(any_role)) & Q(Exists(recorded_here)))
    ).filter(is_superuser=False)


def get_person_for_user_or_404(user: User, pk) -> User:
    """The same 404 for "no such person" and "not someone you look after"."""
    try:
        return people_visible_to(user).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def role_holders_of(org: Organization) -> QuerySet[RoleAssignment]:
    """Who holds which role on ``org`` or above it (the roles that reach it), ``org``'s own first."""
    return (
        RoleAssignment.objects.filter(organization_id__in=org.ancestor_ids, user__is_active=True)
        .select_related("user", "organization")
        .order_by("-organization__depth", "role", "user__username")
    )


def is_staff_anywhere(user: User) -> bool:
    """Whether ``user`` may use the staff's directory pages at all (superusers may)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or Role.STAFF in role_set(user)


__all__ = [
    "branches_for_role",
    "branches_visible_to",
    "can_see",
    "committees_for_role",
    "committees_for_roles",
    "get_organization_for_user_or_404",
    "get_person_for_user_or_404",
    "has_role_on",
    "is_staff_anywhere",
    "organizations_for_role",
    "organizations_visible_to",
    "people_visible_to",
    "require_role",
    "role_holders_of",
    "role_paths",
    "role_set",
    "roles_of",
    "roles_with_reach",
]
