"""Who may see and act on which organizations. Every other app asks only this module.

A role is held on an organization and reaches its whole subtree. Superusers see
everything. Everything here returns lazy querysets built as a single SQL query (the
user's role assignments are matched against the tree paths inside an EXISTS), so callers
can filter, paginate and count them further without extra round trips.
"""

from collections.abc import Iterable

from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.lookups import StartsWith
from django.http import Http404

from .models import Organization, OrgKind, Role, RoleAssignment, User


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
    return RoleAssignment.objects.filter(
        user_id=user.pk, role=role, organization_id__in=org.ancestor_ids
    ).exists()


def roles_of(user: User) -> QuerySet[RoleAssignment]:
    """The user's own role assignments, with their organizations, for display."""
    if not user.is_authenticated:
        return RoleAssignment.objects.none()
    return RoleAssignment.objects.filter(user_id=user.pk).select_related("organization")


def role_set(user: User) -> frozenset[str]:
    """The roles a user holds anywhere (cached on the user object for one request)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_set_cache", None)
    if cached is None:
        cached = frozenset(RoleAssignment.objects.filter(user_id=user.pk).values_list("role", flat=True))
        user._role_set_cache = cached
    return cached


def get_organization_for_user_or_404(user: User, pk: int, roles: Iterable[str] | None = None) -> Organization:
    """The same 404 for "no such organization" and "not in your scope"."""
    try:
        return organizations_visible_to(user, roles).get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def committees_for_role(user: User, role: str) -> QuerySet[Organization]:
    return organizations_for_role(user, role).filter(kind=OrgKind.COMMITTEE)


__all__ = [
    "Role",
    "branches_for_role",
    "branches_visible_to",
    "can_see",
    "committees_for_role",
    "get_organization_for_user_or_404",
    "has_role_on",
    "organizations_for_role",
    "organizations_visible_to",
    "role_set",
    "roles_of",
]
