"""Writes to the organization tree and role assignments. Views, admin and commands call these."""

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from ..models import CommitteePolicy, Organization, OrgKind, RoleAssignment, User
from ..roles import Role


def _path_for(org: Organization, parent: Organization | None) -> tuple[str, int]:
    if parent is None:
        return f"/{org.pk}/", 0
    return f"{parent.path}{org.pk}/", parent.depth + 1


@transaction.atomic
def save_organization(*, org: Organization) -> Organization:
    """Create or update an organization, keeping the materialized paths of its subtree right.

    The caller has run ``full_clean()``. Moving a node rewrites its descendants' paths with
    one UPDATE.
    """
    parent = Organization.objects.select_for_update().get(pk=org.parent_id) if org.parent_id else None
    if org.pk is None:
        org.path = f"/new-{id(org)}/"  # placeholder until the primary key is known
        org.save()
        org.path, org.depth = _path_for(org, parent)
        org.save(update_fields=["path", "depth"])
        if org.kind == OrgKind.COMMITTEE:
            CommitteePolicy.objects.get_or_create(committee=org)
        return org

    old = Organization.objects.select_for_update().get(pk=org.pk)
    new_path, new_depth = _path_for(org, parent)
    org.path, org.depth = new_path, new_depth
    org.save()
    if old.path != new_path:
        Organization.objects.filter(path__startswith=old.path).exclude(pk=org.pk).update(
            path=Concat(Value(new_path), Substr("path", len(old.path) + 1)),
            depth=F("depth") - old.depth + new_depth,
        )
    return org


def create_organization(
    *,
    name: str,
    code: str,
    kind: str,
    parent: Organization | None = None,
    stage: str = "",
    is_active: bool = True,
    sort_order: int = 0,
) -> Organization:
    org = Organization(
        name=name,
        code=code,
        kind=kind,
        parent=parent,
        stage=stage,
        is_active=is_active,
        sort_order=sort_order,
    )
    org.full_clean(exclude=["path"])
    return save_organization(org=org)


def assign_role(*, user: User, role: Role | str, organization: Organization) -> RoleAssignment:
    assignment = RoleAssignment(user=user, role=role, organization=organization)
    assignment.full_clean(validate_unique=False, validate_constraints=False)
    obj, _created = RoleAssignment.objects.get_or_create(user=user, role=role, organization=organization)
    return obj
