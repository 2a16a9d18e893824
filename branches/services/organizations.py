"""Writes to the organization tree and role assignments. Views, admin and commands call these.

Every write made on behalf of a person (``actor``) leaves one row in the audit trail
(``branches.audit``); ``actor=None`` is the command line or a data load.
"""

import secrets
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat, Substr, Upper
from django.utils.translation import gettext as _

from ..audit import AuditAction, changes_between, committee_of, record, snapshot
from ..models import (
    ALLOWED_CHILDREN,
    AuditEntry,
    BranchStage,
    CommitteePolicy,
    Organization,
    OrgKind,
    RoleAssignment,
    StageChange,
    User,
    order_key_of,
)
from ..roles import Role
from ..selectors import tree_changed

# What update_organization may change, and what the audit trail shows of an organization.
ORGANIZATION_EDITABLE_FIELDS = ("name", "code", "kind", "parent", "stage", "sort_order")
ORGANIZATION_AUDITED_FIELDS = (*ORGANIZATION_EDITABLE_FIELDS, "is_active")


def _path_for(org: Organization, parent: Organization | None) -> tuple[str, int]:
    if parent is None:
        return f"/{org.pk}/", 0
    return f"{parent.path}{org.pk}/", parent.depth + 1


def _committee_key(path: str) -> int:
    """The committee of a row with this path: the root of the tree ("/12/34/" → 12)."""
    return int(path.strip("/").split("/")[0])


def _organization_snapshot(org: Organization) -> dict:
    values = snapshot(org, [name for name in ORGANIZATION_AUDITED_FIELDS if name != "parent"])
    values["parent"] = org.parent.code if org.parent_id else None
    return values


def _audit_committee(org: Organization) -> Organization | None:
    """The committee whose staff read a row about ``org`` (a new committee: superusers only)."""
    return committee_of(org)


@transaction.atomic
def save_organization(*, org: Organization) -> Organization:
    """Create or update an organization, keeping the materialized paths of its subtree right.

    The caller has run ``full_clean()``. Moving a node rewrites its descendants' paths with
    one UPDATE. Records nothing: the callers below do.
    """
    parent = Organization.objects.select_for_update().get(pk=org.parent_id) if org.parent_id else None
    if org.pk is None:
        org.path = f"/new-{id(org)}/"  # placeholder until the primary key is known
        org.save()
        org.path, org.depth = _path_for(org, parent)
        org.committee_id = _committee_key(org.path)
        org.save(update_fields=["path", "depth", "committee"])
        if org.kind == OrgKind.COMMITTEE:
            CommitteePolicy.objects.get_or_create(committee=org)
        return org

    old = Organization.objects.select_for_update().get(pk=org.pk)
    new_path, new_depth = _path_for(org, parent)
    org.path, org.depth = new_path, new_depth
    org.committee_id = _committee_key(new_path)
    org.save()
    if (old.sort_order, old.code) != (org.sort_order, org.code):
        # The children are listed under this organization's number and code: their keys follow.
        children = list(Organization.objects.filter(parent_id=org.pk).only("pk", "sort_order", "code"))
        for child in children:
            child.order_key = order_key_of(child, org)
        Organization.objects.bulk_update(children, ["order_key"], batch_size=BULK_WRITE_BATCH)
    if old.path != new_path:
        # The whole subtree follows: its paths, depths and (moved to another committee) its key.
        Organization.objects.filter(path__startswith=old.path).exclude(pk=org.pk).update(
            path=Concat(Value(new_path), Substr("path", len(old.path) + 1)),
            depth=F("depth") - old.depth + new_depth,
            committee_id=org.committee_id,
        )
    return org


@transaction.atomic
def create_organization(
    *,
    name: str,
    code: str,
    kind: str,
    parent: Organization | None = None,
    stage: str = "",
    is_active: bool = True,
    sort_order: int = 0,
    actor: User | None = None,
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
    save_organization(org=org)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=org,
        committee=None if org.is_committee else committee_of(org),
        changes={name: [None, value] for name, value in _organization_snapshot(org).items()},
    )
    return org


@transaction.atomic
def update_organization(
    *, org: Organization, actor: User | None = None, stage_changes: list | None = None, **fields
) -> Organization:
    """Change the named fields of ``org``; a new parent moves it with its whole subtree.

    Nothing changed → nothing written and nothing recorded. A branch whose stage changes gets
    a ``StageChange``; with a ``stage_changes`` list the unsaved row is appended to it instead,
    for a caller that writes many at once (the import).
    """
    unknown = set(fields) - set(ORGANIZATION_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_organization() cannot change {sorted(unknown)}")
    org = Organization.objects.select_related("parent").get(pk=org.pk)
    before = _organization_snapshot(org)
    old_parent_id = org.parent_id
    for name, value in fields.items():
        setattr(org, name, value)
    if org.kind != OrgKind.BRANCH and "stage" not in fields:
        org.stage = ""  # a branch turned into a parent organization leaves its stage behind
    org.full_clean(exclude=["path"])
    after = _organization_snapshot(org)
    changes = changes_between(before, after)
    if not changes:
        return org
    save_organization(org=org)
    org.refresh_from_db()
    if "stage" in changes and org.kind == OrgKind.BRANCH and org.stage:
        change = _stage_change(branch=org, from_stage=before["stage"] or "", actor=actor, reason="")
        if stage_changes is None:
            change.save()
        else:
            stage_changes.append(change)  # the caller writes them in bulk (the import)
    record(
        actor=actor,
        action=AuditAction.MOVE if org.parent_id != old_parent_id else AuditAction.UPDATE,
        target=org,
        committee=_audit_committee(org),
        changes=changes,
    )
    return org


@transaction.atomic
def set_organization_active(
    *, org: Organization, active: bool, actor: User | None = None, note: str = ""
) -> Organization:
    """Deactivate or reactivate ``org`` (not its subtree); unchanged → nothing recorded."""
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if org.is_active == active:
        return org
    org.is_active = active
    org.save(update_fields=["is_active"])
    record(
        actor=actor,
        action=AuditAction.REACTIVATE if active else AuditAction.DEACTIVATE,
        target=org,
        committee=_audit_committee(org),
        changes={"is_active": [not active, active]},
        note=note,
    )
    return org


@transaction.atomic
def save_organization_recorded(*, org: Organization, actor: User | None) -> Organization:
    """Save an organization changed by a form of its own (the Django admin), recording what changed.

    The admin's form has already set the fields and run ``full_clean``.
    """
    old = Organization.objects.select_related("parent").filter(pk=org.pk).first() if org.pk else None
    before = _organization_snapshot(old) if old is not None else None
    save_organization(org=org)
    org = Organization.objects.select_related("parent").get(pk=org.pk)
    after = _organization_snapshot(org)
    if before is None:
        action, changes = AuditAction.CREATE, {name: [None, value] for name, value in after.items()}
        committee = None if org.is_committee else committee_of(org)
    else:
        changes = changes_between(before, after)
        if not changes:
            return org
        if "parent" in changes:
            action = AuditAction.MOVE
        elif set(changes) == {"is_active"}:
            action = AuditAction.REACTIVATE if org.is_active else AuditAction.DEACTIVATE
        else:
            action = AuditAction.UPDATE
        committee = _audit_committee(org)
    if before is not None and "stage" in changes and org.kind == OrgKind.BRANCH and org.stage:
        _stage_change(branch=org, from_stage=before["stage"] or "", actor=actor, reason="").save()
    record(actor=actor, action=action, target=org, committee=committee, changes=changes)
    return org


def _stage_change(*, branch: Organization, from_stage: str, actor: User | None, reason: str) -> StageChange:
    """An unsaved StageChange from ``from_stage`` to the branch's stage now."""
    return StageChange(
        branch=branch,
        from_stage=from_stage,
        to_stage=branch.stage,
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=reason,
    )


@transaction.atomic
def change_stage(
    *, branch: Organization, to_stage: str, actor: User | None, reason: str
) -> StageChange | None:
    """Move a branch to another stage (基础 / 特色 / 示范), with its StageChange and an audit row.

    The same stage again → nothing written (None).
    """
    branch = Organization.objects.select_for_update().get(pk=branch.pk)
    if branch.kind != OrgKind.BRANCH:
        raise ValidationError(_("Only a party branch has a stage."))
    if to_stage not in BranchStage.values:
        raise ValidationError(_("Unknown stage."))
    if branch.stage == to_stage:
        return None
    from_stage = branch.stage
    branch.stage = to_stage
    branch.save(update_fields=["stage"])
    change = _stage_change(branch=branch, from_stage=from_stage, actor=actor, reason=reason)
    change.save()
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=branch,
        committee=_audit_committee(branch),
        changes={"stage": [from_stage, to_stage]},
        note=reason,
    )
    return change


def assign_role(*, user: User, role: Role | str, organization: Organization) -> RoleAssignment:
    """The bare write of a role (tests, the demo, data loads); people's pages use ``grant_role``."""
    assignment = RoleAssignment(user=user, role=role, organization=organization)
    assignment.full_clean(validate_unique=False, validate_constraints=False)
    obj, _created = RoleAssignment.objects.get_or_create(user=user, role=role, organization=organization)
    return obj


# ---------------------------------------------------------------------------- in bulk

# Rows per INSERT and per lookup of existing keys (well inside SQLite's limit of variables).
BULK_WRITE_BATCH = 500


class BulkRowsRefused(ValidationError):
    """A bulk service refused some of its rows; nothing was written.

    ``row_errors`` maps the index of each refused row (in the list the caller gave) to its
    messages; ``messages`` holds them all, each naming its row.
    """

    def __init__(self, row_errors: dict[int, list[str]]):
        self.row_errors = dict(sorted(row_errors.items()))
        super().__init__(
            [
                _("Row %(row)s: %(error)s") % {"row": index + 1, "error": message}
                for index, messages in self.row_errors.items()
                for message in messages
            ]
        )


def chunked_values(values: Sequence, size: int = BULK_WRITE_BATCH) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _existing_organization_codes(codes: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunked_values(sorted(set(codes))):
        found.update(
            Organization.objects.annotate(ucode=Upper("code"))
            .filter(ucode__in=chunk)
            .values_list("ucode", flat=True)
        )
    return found


def _bulk_organization_errors(org: Organization, parent_kind: str | None) -> list[str]:
    """What ``full_clean`` would refuse of a new organization, checked without a query."""
    errors: list[str] = []
    try:
        org.clean_fields(exclude=["path", "parent"])
    except ValidationError as error:
        errors.extend(error.messages)
    if org.kind == OrgKind.COMMITTEE and parent_kind is not None:
        errors.append(_("A working committee is the top of its tree and has no parent."))
    elif org.kind and org.kind != OrgKind.COMMITTEE and parent_kind is None:
        errors.append(_("Choose the organization this one belongs to."))
    elif (
        parent_kind is not None
        and org.kind in OrgKind.values
        and org.kind not in ALLOWED_CHILDREN[parent_kind]
    ):
        errors.append(
            _("A %(kind)s cannot be placed under a %(parent_kind)s.")
            % {"kind": OrgKind(org.kind).label, "parent_kind": OrgKind(parent_kind).label}
        )
    if org.kind != OrgKind.BRANCH and org.stage:
        errors.append(_("Only a party branch has a stage."))
    return errors


@transaction.atomic
def create_organizations_bulk(rows: Sequence[dict], *, actor: User | None = None) -> list[Organization]:
    """Create many organizations at once, as ``create_organization`` would one by one.

    Each row has the keyword arguments of ``create_organization`` (``name``, ``code``, ``kind``,
    ``stage``, ``is_active``, ``sort_order``) and either ``parent`` (an existing organization) or
    ``parent_code`` (the code of another row of ``rows``). Everything is checked first, in
    memory plus one lookup of the codes already taken; any refused row → ``BulkRowsRefused``
    and nothing written. Then the rows are inserted parents first, level by level, each level
    with one INSERT per batch and one UPDATE setting the paths; the new committees get their
    policy, and every organization one row of the audit trail, exactly as one by one.
    Returns the organizations in the order of ``rows``.
    """
    rows = list(rows)
    errors: dict[int, list[str]] = {}
    by_code: dict[str, int] = {}
    for index, row in enumerate(rows):
        ucode = (row.get("code") or "").upper()
        if ucode in by_code:
            errors.setdefault(index, []).append(
                _("The code “%(code)s” appears twice.") % {"code": row.get("code")}
            )
        elif ucode:
            by_code[ucode] = index
    taken = _existing_organization_codes(list(by_code))
    for ucode in taken:
        errors.setdefault(by_code[ucode], []).append(
            _("The code “%(code)s” is already taken.") % {"code": rows[by_code[ucode]]["code"]}
        )

    orgs: list[Organization] = []
    parent_index: list[int | None] = []
    for index, row in enumerate(rows):
        kind = row.get("kind", "")
        stage = row.get("stage", "") or ""
        if kind == OrgKind.BRANCH and not stage:
            stage = BranchStage.BASIC
        parent = row.get("parent")
        org = Organization(
            name=row.get("name", ""),
            code=row.get("code", ""),
            kind=kind,
            parent=parent,
            stage=stage,
            is_active=row.get("is_active", True),
            sort_order=row.get("sort_order", 0),
            path=f"/new-{index}/",  # unique placeholder until the primary key is known
        )
        orgs.append(org)
        parent_code = (row.get("parent_code") or "").upper()
        parent_index.append(by_code.get(parent_code) if parent_code else None)
        if parent_code and parent_index[-1] is None:
            errors.setdefault(index, []).append(
                _("The parent code “%(code)s” is not in this batch.") % {"code": row.get("parent_code")}
            )
    for index, org in enumerate(orgs):
        in_batch = parent_index[index]
        if in_batch is not None:
            parent_kind = rows[in_batch].get("kind")
        else:
            parent_kind = org.parent.kind if org.parent_id else None
        found = _bulk_organization_errors(org, parent_kind)
        if found:
            errors.setdefault(index, []).extend(found)

    levels = _bulk_levels(orgs, parent_index, errors)
    if errors:
        raise BulkRowsRefused(errors)

    token = secrets.token_hex(8)
    policies: list[CommitteePolicy] = []
    for level in levels:
        for index in level:
            if parent_index[index] is not None:
                orgs[index].parent = orgs[parent_index[index]]
            orgs[index].path = f"/new-{token}-{index}/"
            orgs[index].order_key = order_key_of(orgs[index], orgs[index].parent)
        Organization.objects.bulk_create([orgs[index] for index in level], batch_size=BULK_WRITE_BATCH)
        _set_bulk_paths(token)
        for index in level:
            org = orgs[index]
            org.path, org.depth = _path_for(org, org.parent if org.parent_id else None)
            org.committee_id = _committee_key(org.path)
            if org.kind == OrgKind.COMMITTEE:
                policies.append(CommitteePolicy(committee=org))
    CommitteePolicy.objects.bulk_create(policies, batch_size=BULK_WRITE_BATCH)
    recorded_actor = actor if actor is not None and actor.is_authenticated else None
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=recorded_actor,
                committee_id=None if orgs[index].is_committee else orgs[index].ancestor_ids[0],
                action=AuditAction.CREATE,
                target_type=Organization._meta.model_name,
                target_id=str(orgs[index].pk),
                target_label=str(orgs[index])[:200],
                changes={name: [None, value] for name, value in _organization_snapshot(orgs[index]).items()},
            )
            for level in levels
            for index in level
        ],
        batch_size=BULK_WRITE_BATCH,
    )
    tree_changed()  # bulk inserts send no post_save
    return orgs


def _bulk_levels(orgs: list[Organization], parent_index: list[int | None], errors: dict) -> list[list[int]]:
    """The rows by their depth in the batch (rows under an existing parent first); a cycle is an error."""
    level_of: dict[int, int] = {}
    for start in range(len(orgs)):
        chain, index = [], start
        while index is not None and index not in level_of:
            if index in chain:  # a loop of rows naming one another as parents
                for looped in chain[chain.index(index) :]:
                    errors.setdefault(looped, []).append(
                        _("An organization cannot be moved under itself or its own subtree.")
                    )
                    level_of[looped] = 0
                break
            chain.append(index)
            index = parent_index[index]
        base = level_of[index] + 1 if index is not None and index in level_of else 0
        for offset, member in enumerate(reversed(chain)):
            level_of.setdefault(member, base + offset)
    levels: dict[int, list[int]] = {}
    for index in range(len(orgs)):
        levels.setdefault(level_of[index], []).append(index)
    return [levels[depth] for depth in sorted(levels)]


def _set_bulk_paths(token: str) -> None:
    """One UPDATE per kind of row: the rows just inserted get their parent's path plus their own
    key, and their parent's committee (a new committee: itself)."""
    placeholder = f"/new-{token}-"
    parents = Organization.objects.filter(pk=OuterRef("parent_id"))
    new = Organization.objects.filter(path__startswith=placeholder)
    new.filter(parent__isnull=True).update(
        path=Concat(Value("/"), Cast("pk", CharField()), Value("/"), output_field=CharField()),
        depth=0,
        committee_id=F("pk"),
    )
    new.filter(parent__isnull=False).update(
        path=Concat(
            Subquery(parents.values("path")[:1]),
            Cast("pk", CharField()),
            Value("/"),
            output_field=CharField(),
        ),
        depth=Subquery(parents.values("depth")[:1]) + 1,
        committee_id=Subquery(parents.values("committee_id")[:1]),
    )
