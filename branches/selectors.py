"""Who may see and act on which organizations (scoped reads). Every other app asks only this module.

A role is held on an organization and reaches its whole subtree. Superusers see
everything. The user's role assignments are read once per request (``_role_rows``, cached on
the user object) and turned into a scope of literal values: a role held on a committee
reaches every row whose committee key (``Organization.committee``, or a row's own key such
as a cycle's committee) is that committee — an equality on an index, which the planner
estimates from its statistics —; a role held lower reaches the rows under its path prefix,
within its committee. Everything here returns lazy querysets, so callers can filter,
paginate and count them further without extra round trips.
"""

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .kept import CommitBump, counted_apart
from .models import AuditEntry, Organization, OrgKind, RoleAssignment, User
from .roles import Role

T = TypeVar("T")


def _root_of(path: str) -> int:
    """The committee at the top of a path ("/12/34/" → 12)."""
    return int(path.strip("/").split("/")[0])


@dataclass(frozen=True)
class Scope:
    """What a user's roles reach: whole committees, and subtrees held below a committee.

    ``subtrees`` holds (committee id, path) of roles held lower, without those already inside
    a reached committee or another listed subtree. ``everything`` is a superuser's scope.
    """

    committees: tuple[int, ...] = ()
    subtrees: tuple[tuple[int, str], ...] = ()
    everything: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.committees or self.subtrees)

    def q(self, org: str = "", committee: str | None = None) -> Q:
        """The rows in scope, for a queryset of a model whose organization is ``org``.

        ``org`` is the lookup prefix of the row's organization ("" for organizations
        themselves, "branch__" for a row belonging to a branch); ``committee`` names a
        committee key on the row itself (e.g. "cycle__committee_id"), used for the
        committees reached whole instead of the organization's key. Nothing in scope → a
        condition no row meets.
        """
        if self.everything:
            return Q()
        if self.is_empty:
            return Q(pk__in=[])
        whole = committee or f"{org}committee_id"
        condition = Q()
        if self.committees:
            condition |= Q(**{f"{whole}__in": list(self.committees)})
        for _committee_id, path in self.subtrees:
            # The path prefix alone: a literal prefix is one range of the path index, estimated
            # from its histogram; with the committee key beside it the planner would multiply
            # two selectivities it takes for independent and underestimate by the committee's
            # share of all rows. (The path starts with the committee, so the key adds nothing.)
            condition |= Q(**{f"{org}path__startswith": path})
        return condition

    def committees_q(self, field: str = "committee_id") -> Q:
        """Rows whose committee (``field``) the user reaches whole: a role held below a
        committee never reaches the committee's own rows (its cycles, rounds, policy)."""
        if self.everything:
            return Q()
        return Q(**{f"{field}__in": list(self.committees)})

    def member_q(self, field: str = "committee_id") -> Q:
        """Rows whose committee (``field``) is one where the user holds a role at all, on it or below."""
        if self.everything:
            return Q()
        return Q(**{f"{field}__in": sorted({*self.committees, *(c for c, _path in self.subtrees)})})


def user_scope(user: User, roles: Iterable[str] | None = None) -> Scope:
    """The scope of ``user``'s roles among ``roles`` (all roles: None), from the cached role rows."""
    if not user.is_authenticated or not user.is_active:
        return Scope()
    if user.is_superuser:
        return Scope(everything=True)
    wanted = None if roles is None else set(roles)
    committees: set[int] = set()
    lower: set[tuple[int, str]] = set()
    for role, org_id, path in _role_rows(user):
        if wanted is not None and role not in wanted:
            continue
        root = _root_of(path)
        if root == org_id:
            committees.add(org_id)
        else:
            lower.add((root, path))
    subtrees: list[tuple[int, str]] = []
    for root, path in sorted(lower, key=lambda item: (len(item[1]), item[1])):
        if root in committees or any(path.startswith(kept) for _root, kept in subtrees):
            continue
        subtrees.append((root, path))
    return Scope(committees=tuple(sorted(committees)), subtrees=tuple(subtrees))


def scope_q(
    user: User, roles: Iterable[str] | None = None, *, org: str = "", committee: str | None = None
) -> Q:
    """``user_scope(user, roles).q(org, committee)``: the condition other apps filter their rows by."""
    return user_scope(user, roles).q(org, committee)


def organizations_visible_to(user: User, roles: Iterable[str] | None = None) -> QuerySet[Organization]:
    """Organizations in the subtree of any organization where ``user`` holds one of ``roles``."""
    scope = user_scope(user, roles)
    if scope.is_empty:
        return Organization.objects.none()
    return Organization.objects.filter(scope.q())


def organizations_for_role(user: User, role: str) -> QuerySet[Organization]:
    return organizations_visible_to(user, [role])


def branches_visible_to(user: User, roles: Iterable[str] | None = None) -> QuerySet[Organization]:
    return organizations_visible_to(user, roles).filter(kind=OrgKind.BRANCH)


def branches_for_role(user: User, role: str) -> QuerySet[Organization]:
    return branches_visible_to(user, [role])


def can_see(user: User, org: Organization) -> bool:
    """Whether ``org`` is in ``user``'s scope (from the cached roles and ``org``'s path: no query)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    ancestors = set(org.ancestor_ids)
    return any(org_id in ancestors for _role, org_id, _path in _role_rows(user))


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
    return committees_for_roles(user, [role])


def committees_for_roles(user: User, roles: Iterable[str]) -> QuerySet[Organization]:
    """The committees on which ``user`` holds one of ``roles`` (everything for superusers)."""
    scope = user_scope(user, roles)
    if scope.is_empty:
        return Organization.objects.none()
    return Organization.objects.filter(scope.committees_q("pk"), kind=OrgKind.COMMITTEE)


def roles_with_reach(user: User) -> list[RoleAssignment]:
    """The user's role assignments, each with ``branch_count``: the branches it reaches.

    One query for the assignments; the counts come from ``reach_counts`` (the cache, else one
    COUNT by the committee key or a path prefix each).
    """
    rows = list(roles_of(user))
    if getattr(user, "_role_rows_cache", None) is None:
        # The same rows the role checks read: the rest of the request asks no more.
        user._role_rows_cache = tuple((row.role, row.organization_id, row.organization.path) for row in rows)
    counts = reach_counts(sorted({(row.organization_id, row.organization.path) for row in rows}))
    for row in rows:
        row.branch_count = counts[row.organization_id]
    return rows


# The number of branches a role reaches is shown on every home page; a committee's is a count
# over the whole province. It is kept in the cache until the tree changes (``tree_changed``,
# called after every organization saved, deleted or created in bulk) and at most REACH_TTL.
_TREE_VERSION_KEY = "branches:tree-version"
REACH_TTL = 300


def _bump_tree() -> None:
    cache.set(_TREE_VERSION_KEY, time.time_ns(), None)


def tree_changed() -> None:
    """Organizations were added, moved or removed: the branch counts are counted again.

    Bumped at once and again when the transaction commits, as ``statuses_changed`` explains."""
    _bump_tree()
    transaction.on_commit(_bump_tree, robust=True)


# Figures counted over a committee (how many assessments at each status, branches at each star)
# are kept in the cache under the versions of the tree and of the statuses, and the day (a
# certificate lapses at midnight). ``statuses_changed`` is called by every service that moves a
# status or changes a star: ``branches.workflow.move_status`` for one row, the bulk moves and
# the star services for many. It bumps the version at once (the same transaction reads fresh
# figures) and again when the transaction commits (a reader that counted before the commit
# stored its figures under a version nobody asks for any more).
_STATUS_VERSION_KEY = "branches:status-version"
FIGURES_TTL = 300


def _bump_statuses() -> None:
    cache.set(_STATUS_VERSION_KEY, time.time_ns(), None)


def statuses_changed() -> None:
    """A status, a decided star or a certificate changed: cached figures are counted again."""
    _bump_statuses()
    # robust: the change is committed by then; a cache that fails is logged, not the user's error.
    transaction.on_commit(_bump_statuses, robust=True)


# The callbacks the two functions above leave for the commit (tests tell them from the tasks).
VERSION_BUMPS = (_bump_tree, _bump_statuses)


def is_version_bump(callback) -> bool:
    """Whether an on-commit callback only bumps cache versions (these above, or a written
    table's, branches/kept.py), which tests looking for the tasks a commit starts leave out."""
    return callback in VERSION_BUMPS or isinstance(callback, CommitBump)


def cached_figures(name: str, scope: Iterable, compute: Callable[[], T]) -> T:
    """``compute()``, kept per ``name`` and ``scope`` (literal values: what the figures count
    over) until the tree or a status changes, the day turns, or FIGURES_TTL passes. Without a
    shared cache (settings.CACHE_FIGURES false) every call counts."""
    if not settings.CACHE_FIGURES:
        return compute()
    versions = cache.get_many([_TREE_VERSION_KEY, _STATUS_VERSION_KEY])
    parts = (
        tuple(scope),
        versions.get(_TREE_VERSION_KEY, 0),
        versions.get(_STATUS_VERSION_KEY, 0),
        timezone.localdate().isoformat(),
    )
    key = f"figures:{name}:{hashlib.sha256(repr(parts).encode()).hexdigest()[:32]}"
    with counted_apart({k: versions.get(k) for k in (_TREE_VERSION_KEY, _STATUS_VERSION_KEY)}):
        found = cache.get(key)
        if found is None:
            found = compute()
            cache.set(key, found, FIGURES_TTL)
    return found


def reach_counts(roots: Iterable[tuple[int, str]]) -> dict[int, int]:
    """{organization id: branches in its subtree} for (id, path) pairs, from the cache or one
    statement counting all the others (a committee by its key, a lower organization by its path
    within it)."""
    roots = list(roots)
    if not roots:
        return {}
    if settings.CACHE_FIGURES:
        version = cache.get(_TREE_VERSION_KEY)
        # A page part kept around these counts holds while the tree does (branches/kept.py).
        with counted_apart({_TREE_VERSION_KEY: version}):
            return _reach_counts(roots, version or 0)
    return _reach_counts(roots, 0)


def _reach_counts(roots: list[tuple[int, str]], version) -> dict[int, int]:
    keys = {f"branches:reach:{version}:{org_id}": (org_id, path) for org_id, path in roots}
    # Without a shared cache (settings.CACHE_FIGURES false) every count is counted again.
    found = cache.get_many(list(keys)) if settings.CACHE_FIGURES else {}
    counts = {keys[key][0]: n for key, n in found.items()}
    missing = {key: pair for key, pair in keys.items() if key not in found}
    if missing:
        # Every count still unknown in one statement, whatever the number of roles.
        conditions = {}
        for org_id, path in missing.values():
            root = _root_of(path)
            condition = (
                Q(committee_id=root) if root == org_id else Q(committee_id=root, path__startswith=path)
            )
            conditions[f"n{org_id}"] = Count("pk", filter=condition)
        roots = sorted({_root_of(path) for _org_id, path in missing.values()})
        totals = Organization.objects.filter(kind=OrgKind.BRANCH, committee_id__in=roots).aggregate(
            **conditions
        )
        fresh = {}
        for key, (org_id, _path) in missing.items():
            counts[org_id] = fresh[key] = totals[f"n{org_id}"]
        if settings.CACHE_FIGURES:
            cache.set_many(fresh, REACH_TTL)
    return counts


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
    "VERSION_BUMPS",
    "Scope",
    "branches_for_role",
    "branches_visible_to",
    "cached_figures",
    "can_see",
    "committees_for_role",
    "committees_for_roles",
    "get_organization_for_user_or_404",
    "get_person_for_user_or_404",
    "has_role_on",
    "is_staff_anywhere",
    "is_version_bump",
    "organizations_for_role",
    "organizations_visible_to",
    "people_visible_to",
    "require_role",
    "role_holders_of",
    "role_paths",
    "role_set",
    "roles_of",
    "roles_with_reach",
    "scope_q",
    "statuses_changed",
    "tree_changed",
    "user_scope",
]
