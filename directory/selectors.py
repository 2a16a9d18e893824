"""Scoped reads for the directory pages: the staff's tree with counts, branch lists, people, the audit trail.

Every function takes the signed-in user and answers only within their scope (branches.selectors).
The counts of the tree are a fixed number of queries whatever the number of branches: the
branches and the certificates in force are counted per parent in the database, and the
sums up the tree are added in Python over the (few) parent organizations.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import ngettext

from branches.models import ORG_ORDER, AuditEntry, Organization, OrgKind, RoleAssignment, User
from branches.roles import Role
from branches.selectors import cached_figures, organizations_for_role, people_visible_to
from reviews.models import Certificate, CertificateStatus
from scoring.models import MAX_STARS, MIN_STARS

TREE_STAR_LEVELS = tuple(range(MAX_STARS, MIN_STARS - 1, -1))
# Every kind but the branch, as an IN list: the (committee, kind) index finds a committee's
# hundred parents among its 20,000 branches, where "kind <> 'branch'" reads them all.
NON_BRANCH_KINDS = tuple(kind for kind in OrgKind if kind != OrgKind.BRANCH)


def staff_scope(user: User) -> QuerySet[Organization]:
    """The organizations a staff member manages (the subtrees where they hold the staff role)."""
    return organizations_for_role(user, Role.STAFF)


def star_in_force(today: datetime.date | None = None) -> Subquery:
    """The stars of the outer branch's certificate in force (NULL when unrated), as a subquery."""
    today = today or timezone.localdate()
    certificates = Certificate.objects.filter(
        branch_id=OuterRef("pk"), status=CertificateStatus.VALID, valid_until__gte=today
    ).values("stars")[:1]
    return Subquery(certificates, output_field=IntegerField())


def search_organizations(queryset: QuerySet[Organization], q: str) -> QuerySet[Organization]:
    q = (q or "").strip()
    if not q:
        return queryset
    return queryset.filter(Q(name__icontains=q) | Q(code__icontains=q))


def branches_listed(
    user: User, *, under: Organization | None = None, q: str = "", active: str = ""
) -> QuerySet:
    """The branches of the user's staff scope (or under ``under``), with ``star`` in force and the parent."""
    branches = staff_scope(user).filter(kind=OrgKind.BRANCH)
    if under is not None:
        branches = branches.filter(committee_id=under.committee_id, path__startswith=under.path)
    if active == "yes":
        branches = branches.filter(is_active=True)
    elif active == "no":
        branches = branches.filter(is_active=False)
    return (
        search_organizations(branches, q)
        .annotate(star=star_in_force())
        .select_related("parent")
        .order_by("order_key")  # under the parent, both by ORG_ORDER (branch_order)
    )


@dataclass
class TreeNode:
    """A committee, party committee or general branch with the branches of its whole subtree."""

    org: Organization
    level: int
    branch_count: int = 0
    star_counts: dict[int, int] = field(default_factory=dict)

    @property
    def unrated(self) -> int:
        return self.branch_count - sum(self.star_counts.values())

    @property
    def stars(self) -> list[tuple[int, int, str]]:
        """(star level, branches holding it, the level's name) from five stars down."""
        names = star_level_names()
        return [(stars, self.star_counts.get(stars, 0), names[stars]) for stars in TREE_STAR_LEVELS]

    @property
    def branch_label(self) -> str:
        # Translated here rather than in the template: a province's tree has a hundred nodes.
        return ngettext("%(counter)s branch", "%(counter)s branches", self.branch_count) % {
            "counter": self.branch_count
        }


def star_level_names() -> dict[int, str]:
    """{stars: "3 stars"} in the active language."""
    return {
        stars: ngettext("%(counter)s star", "%(counter)s stars", stars) % {"counter": stars}
        for stars in TREE_STAR_LEVELS
    }


def roots_of(orgs: list[Organization]) -> list[Organization]:
    """The organizations in ``orgs`` with no ancestor in ``orgs`` (the tops of a staff member's subtrees)."""
    ids = {org.pk for org in orgs}
    return [org for org in orgs if not any(pk in ids for pk in org.ancestor_ids[:-1])]


def organization_tree(user: User, root: Organization | None = None) -> list[TreeNode]:
    """The non-branch organizations of the user's staff scope in tree order, each with the
    count of active branches in its subtree and the count of them at each star in force.

    Three queries, whatever the number of branches; the two counts are kept in the cache
    (``cached_figures``) until a star or the tree changes.
    """
    scope = staff_scope(user)
    if root is not None:
        scope = scope.filter(committee_id=root.committee_id, path__startswith=root.path)
    parents = list(scope.filter(kind__in=NON_BRANCH_KINDS).order_by(*ORG_ORDER))
    by_pk = {org.pk: org for org in parents}
    children: dict[int | None, list[Organization]] = {}
    for org in parents:
        key = org.parent_id if org.parent_id in by_pk else None
        children.setdefault(key, []).append(org)

    nodes: dict[int, TreeNode] = {}
    ordered: list[TreeNode] = []

    def walk(org: Organization, level: int) -> None:
        node = TreeNode(org=org, level=level)
        nodes[org.pk] = node
        ordered.append(node)
        for child in children.get(org.pk, []):
            walk(child, level + 1)

    for top in children.get(None, []):
        walk(top, 0)

    branches = scope.filter(kind=OrgKind.BRANCH, is_active=True)

    def count():
        # Two counts over every branch in scope: kept until a star or the tree changes.
        per_parent = list(branches.order_by().values_list("parent_id").annotate(n=Count("pk")))
        certified = Certificate.objects.filter(
            branch__in=branches, status=CertificateStatus.VALID, valid_until__gte=timezone.localdate()
        )
        per_star = list(
            certified.order_by().values_list("branch__parent_id", "stars").annotate(n=Count("pk"))
        )
        return per_parent, per_star

    # The scope is the organizations listed: every branch counted hangs under one of them.
    per_parent, per_star = cached_figures("organization-tree", sorted(by_pk), count)
    paths = {org.pk: org.ancestor_ids for org in parents}
    for parent_id, n in per_parent:
        for pk in paths.get(parent_id, []):
            if pk in nodes:
                nodes[pk].branch_count += n
    for parent_id, stars, n in per_star:
        for pk in paths.get(parent_id, []):
            if pk in nodes:
                counts = nodes[pk].star_counts
                counts[stars] = counts.get(stars, 0) + n
    return ordered


def parent_choices(
    user: User, *, kind: str = "", moving: Organization | None = None
) -> QuerySet[Organization]:
    """Where an organization may be placed: non-branch organizations in scope, never its own subtree."""
    choices = staff_scope(user).filter(kind__in=NON_BRANCH_KINDS, is_active=True)
    if moving is not None and moving.pk:
        choices = choices.exclude(path__startswith=moving.path)
    return choices.select_related("parent").order_by("path")


def organization_label(org: Organization) -> str:
    """A name as a select shows it: with its parent, since two branches may share a name."""
    if org.parent_id and org.parent is not None:
        return f"{org.name}（{org.parent.name}）"
    return org.name


# ---------------------------------------------------------------------------- people


def people_listed(
    user: User, *, q: str = "", role: str = "", organization: Organization | None = None, active: str = ""
) -> QuerySet[User]:
    """The people of the user's scope, filtered as the people page asks, by user name."""
    people = people_visible_to(user)
    q = (q or "").strip()
    if q:
        people = people.filter(Q(username__icontains=q) | Q(real_name__icontains=q) | Q(phone__icontains=q))
    if role or organization is not None:
        held = RoleAssignment.objects.all()
        if role:
            held = held.filter(role=role)
        if organization is not None:
            held = held.filter(organization__path__startswith=organization.path)
        people = people.filter(pk__in=held.values("user_id"))
    if active == "yes":
        people = people.filter(is_active=True)
    elif active == "no":
        people = people.filter(is_active=False)
    return people.order_by("username")


def roles_by_person(user_ids) -> dict[int, list[RoleAssignment]]:
    """The role assignments of these people, with their organizations (one query)."""
    found: dict[int, list[RoleAssignment]] = {}
    for assignment in (
        RoleAssignment.objects.filter(user_id__in=list(user_ids))
        .select_related("organization__parent")
        .order_by("user_id", "organization__depth", "organization__code", "role")
    ):
        found.setdefault(assignment.user_id, []).append(assignment)
    return found


# ---------------------------------------------------------------------------- the audit trail


def audit_visible_to(user: User) -> QuerySet[AuditEntry]:
    """Superusers read every row; staff of a committee the rows of their committees."""
    if not user.is_authenticated or not user.is_active:
        return AuditEntry.objects.none()
    if user.is_superuser:
        return AuditEntry.objects.all()
    committees = RoleAssignment.objects.filter(
        user_id=user.pk, role=Role.STAFF, organization__kind=OrgKind.COMMITTEE
    ).values("organization_id")
    return AuditEntry.objects.filter(committee_id__in=committees)


def may_read_audit(user: User) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        user.is_superuser
        or RoleAssignment.objects.filter(
            user_id=user.pk, role=Role.STAFF, organization__kind=OrgKind.COMMITTEE
        ).exists()
    )


def audit_listed(
    user: User,
    *,
    target_type: str = "",
    action: str = "",
    actor: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[AuditEntry]:
    entries = audit_visible_to(user)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if action:
        entries = entries.filter(action=action)
    actor = (actor or "").strip()
    if actor:
        entries = entries.filter(Q(actor__username__icontains=actor) | Q(actor__real_name__icontains=actor))
    if since:
        entries = entries.filter(at__date__gte=since)
    if until:
        entries = entries.filter(at__date__lte=until)
    return entries.select_related("actor", "committee").order_by("-at", "-pk")
