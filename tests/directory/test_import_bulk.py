"""The bulk services the import writes new rows with: the same result as one by one, refusals
checked before anything is written, and a number of queries that does not grow with the rows."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from branches.errors import RoleGrantRefused
from branches.models import AuditEntry, CommitteePolicy, Organization, OrgKind, RoleAssignment, User
from branches.roles import Role
from branches.services.organizations import BulkRowsRefused, create_organization, create_organizations_bulk
from branches.services.people import create_people_bulk, create_person, grant_role, grant_roles_bulk

pytestmark = pytest.mark.django_db


class _Undo(Exception):
    pass


def _tree_rows(prefix: str = "N", party_committees: int = 2, branches: int = 2) -> list[dict]:
    """A new committee with party committees and branches, parents listed after children on purpose."""
    rows = []
    for p in range(party_committees):
        for b in range(branches):
            rows.append(
                {
                    "name": f"第{p}{b}支部",
                    "code": f"{prefix}B{p}{b}",
                    "kind": OrgKind.BRANCH,
                    "parent_code": f"{prefix}P{p}",
                    "stage": "distinctive" if b else "",
                    "sort_order": b,
                }
            )
        rows.append(
            {
                "name": f"第{p}党委",
                "code": f"{prefix}P{p}",
                "kind": OrgKind.PARTY_COMMITTEE,
                "parent_code": f"{prefix}C",
            }
        )
    rows.append({"name": "新工委", "code": f"{prefix}C", "kind": OrgKind.COMMITTEE})
    return rows


PEOPLE = [
    {"username": "newsec0", "real_name": "新书记", "phone": "13700000000", "email": "a@example.cn"},
    {"username": "newsec1", "real_name": "", "phone": "", "email": ""},
]


def _state(actor_id) -> dict:
    """Everything the writes leave, with keys replaced by codes and user names (keys may differ)."""
    code_of = dict(Organization.objects.values_list("pk", "code"))
    name_of = dict(User.objects.values_list("pk", "username"))

    def path(value: str) -> str:
        return "/".join(code_of[int(part)] for part in value.strip("/").split("/"))

    orgs = sorted(
        (
            o.code,
            o.name,
            o.kind,
            o.stage,
            o.sort_order,
            o.is_active,
            o.depth,
            path(o.path),
            code_of.get(o.parent_id),
        )
        for o in Organization.objects.all()
    )
    users = sorted(
        (u.username, u.real_name, u.phone, u.email, u.must_change_password, u.is_active)
        for u in User.objects.all()
    )
    roles = sorted(
        (name_of[a.user_id], a.role, code_of[a.organization_id]) for a in RoleAssignment.objects.all()
    )
    audit = sorted(
        (
            e.actor_id == actor_id,
            code_of.get(e.committee_id) or "",
            e.action,
            e.target_type,
            code_of.get(int(e.target_id)) if e.target_type == "organization" else name_of[int(e.target_id)],
            e.target_label,
            repr(sorted(e.changes.items())),
            e.note,
        )
        for e in AuditEntry.objects.all()
    )
    policies = sorted(code_of[c] for c in CommitteePolicy.objects.values_list("committee_id", flat=True))
    return {"orgs": orgs, "users": users, "roles": roles, "audit": audit, "policies": policies}


def _one_by_one(actor, rows, people, grants):
    made = {}
    pending = list(rows)
    while pending:  # parents first, as the import does
        for row in list(pending):
            parent_code = row.get("parent_code")
            if parent_code and parent_code not in made:
                continue
            fields = {k: v for k, v in row.items() if k not in ("parent_code", "parent")}
            made[row["code"]] = create_organization(
                actor=actor, parent=made.get(parent_code) or row.get("parent"), **fields
            )
            pending.remove(row)
    users = {p["username"]: create_person(actor=actor, **p)[0] for p in people}
    for username, role, code in grants:
        grant_role(actor=actor, user=users[username], role=role, organization=made[code])


def _in_bulk(actor, rows, people, grants):
    made = {org.code: org for org in create_organizations_bulk(rows, actor=actor)}
    users = {user.username: user for user, _password in create_people_bulk(people, actor=actor)}
    grant_roles_bulk([(users[u], role, made[code]) for u, role, code in grants], actor=actor)


def _result_of(write, actor) -> dict:
    try:
        with transaction.atomic():
            write()
            state = _state(actor.pk if actor else None)
            raise _Undo
    except _Undo:
        pass
    return state


@pytest.mark.parametrize("as_superuser", [False, True])
def test_bulk_writes_leave_exactly_what_one_by_one_leaves(world, as_superuser):
    actor = User.objects.create_superuser("root", "root@example.cn", "x") if as_superuser else None
    rows = _tree_rows()
    grants = [
        ("newsec0", Role.BRANCH_SECRETARY, "NB00"),
        ("newsec1", Role.BRANCH_SECRETARY, "NB01"),
        ("newsec0", Role.PARENT_REVIEWER, "NP1"),
        ("newsec1", Role.STAFF, "NC"),
        ("newsec1", Role.STAFF, "NC"),  # twice: granted once, recorded once
    ]
    one = _result_of(lambda: _one_by_one(actor, rows, PEOPLE, grants), actor)
    bulk = _result_of(lambda: _in_bulk(actor, rows, PEOPLE, grants), actor)
    assert one == bulk
    assert len(bulk["orgs"]) == len(Organization.objects.all()) + len(rows)
    assert ("NB01", "第01支部", "branch", "distinctive", 1, True, 2, "NC/NP0/NB01", "NP0") in bulk["orgs"]
    assert ("NB00", "第00支部", "branch", "basic", 0, True, 2, "NC/NP0/NB00", "NP0") in bulk["orgs"]
    assert "NC" in bulk["policies"]


def test_bulk_organizations_under_an_existing_parent_by_staff(world):
    rows = [
        {"name": "新支部", "code": "X1", "kind": OrgKind.BRANCH, "parent": world.party_committee},
        {"name": "新党总支", "code": "X2", "kind": OrgKind.GENERAL_BRANCH, "parent": world.committee},
        {"name": "总支下支部", "code": "X3", "kind": OrgKind.BRANCH, "parent_code": "x2"},
    ]
    one = _result_of(
        lambda: _one_by_one(
            world.staff, [{**rows[0]}, {**rows[1]}, {**rows[2], "parent_code": "X2"}], [], []
        ),
        world.staff,
    )
    bulk = _result_of(lambda: create_organizations_bulk(rows, actor=world.staff), world.staff)
    assert one == bulk
    created = create_organizations_bulk(rows, actor=world.staff)
    assert [o.code for o in created] == ["X1", "X2", "X3"]
    assert (
        Organization.objects.get(code="X3").path == f"{world.committee.path}{created[1].pk}/{created[2].pk}/"
    )
    assert created[2].path == Organization.objects.get(code="X3").path  # the returned objects are current


def test_a_bad_row_is_named_and_nothing_is_written(world):
    before = (Organization.objects.count(), AuditEntry.objects.count())
    rows = [
        {"name": "好支部", "code": "OK1", "kind": OrgKind.BRANCH, "parent": world.party_committee},
        {"name": "重复", "code": "b1", "kind": OrgKind.BRANCH, "parent": world.party_committee},
        {"name": "党委在支部下", "code": "BAD", "kind": OrgKind.PARTY_COMMITTEE, "parent": world.branch},
        {"name": "又一个", "code": "ok1", "kind": OrgKind.BRANCH, "parent": world.party_committee},
        {"name": "无上级", "code": "ORPHAN", "kind": OrgKind.BRANCH, "parent_code": "NOWHERE"},
        {
            "name": "阶段",
            "code": "STAGE",
            "kind": OrgKind.PARTY_COMMITTEE,
            "parent": world.committee,
            "stage": "basic",
        },
    ]
    with pytest.raises(BulkRowsRefused) as refused:
        create_organizations_bulk(rows, actor=world.staff)
    assert set(refused.value.row_errors) == {1, 2, 3, 4, 5}
    # Each message names its row, in the interface's language (第 2 行：… in Chinese).
    assert any(message.startswith("第 2 行：") for message in refused.value.messages)
    assert (Organization.objects.count(), AuditEntry.objects.count()) == before


def test_a_loop_of_parents_in_the_batch_is_refused(world):
    rows = [
        {"name": "甲", "code": "L1", "kind": OrgKind.PARTY_COMMITTEE, "parent_code": "L2"},
        {"name": "乙", "code": "L2", "kind": OrgKind.PARTY_COMMITTEE, "parent_code": "L1"},
    ]
    with pytest.raises(BulkRowsRefused) as refused:
        create_organizations_bulk(rows)
    assert set(refused.value.row_errors) == {0, 1}


def test_bulk_people_refuse_taken_and_repeated_user_names_and_bad_fields(world):
    rows = [
        {"username": "ZhangWei"},  # world.secretary, in other letters
        {"username": "fresh"},
        {"username": "FRESH"},
        {"username": "phone", "phone": "call me"},
        {"username": "bad name!"},
    ]
    with pytest.raises(BulkRowsRefused) as refused:
        create_people_bulk(rows, actor=world.staff)
    assert set(refused.value.row_errors) == {0, 2, 3, 4}
    assert not User.objects.filter(username__iexact="fresh").exists()


def test_bulk_people_get_one_time_passwords_that_work(world):
    created = create_people_bulk(PEOPLE, actor=world.staff)
    for user, password in created:
        stored = User.objects.get(pk=user.pk)
        assert stored.must_change_password and stored.check_password(password)
    assert len({password for _user, password in created}) == len(created)


def test_bulk_grants_keep_separation_of_duties(world):
    with pytest.raises(RoleGrantRefused):
        grant_roles_bulk([(world.staff, Role.PARENT_REVIEWER, world.party_committee)], actor=world.staff)
    with pytest.raises(RoleGrantRefused):
        grant_roles_bulk([(world.outsider, Role.COMMITTEE_APPROVER, world.committee)], actor=world.staff)
    with pytest.raises(RoleGrantRefused):  # outside the staff's committee
        grant_roles_bulk([(world.outsider, Role.BRANCH_SECRETARY, world.other_branch)], actor=world.staff)
    with pytest.raises(BulkRowsRefused) as refused:
        grant_roles_bulk(
            [
                (world.outsider, Role.BRANCH_SECRETARY, world.branch),
                (world.outsider, Role.BRANCH_SECRETARY, world.party_committee),  # wrong kind
            ],
            actor=world.staff,
        )
    assert set(refused.value.row_errors) == {1}
    assert not RoleAssignment.objects.filter(user=world.outsider).exists()
    Organization.objects.filter(pk=world.sibling_branch.pk).update(is_active=False)
    with pytest.raises(ValidationError):
        grant_roles_bulk([(world.outsider, Role.BRANCH_SECRETARY, world.sibling_branch)], actor=world.staff)
    granted = grant_roles_bulk([(world.outsider, Role.BRANCH_SECRETARY, world.branch)], actor=world.staff)
    assert granted[0].pk and RoleAssignment.objects.filter(user=world.outsider).count() == 1


def _queries(write) -> int:
    with CaptureQueriesContext(connection) as captured:
        write()
    return len(captured)


def test_bulk_queries_do_not_grow_with_the_rows(world):
    def write(prefix, size):
        orgs = create_organizations_bulk(
            _tree_rows(prefix, party_committees=size, branches=5), actor=world.staff
        )
        users = create_people_bulk(
            [{"username": f"{prefix}u{i}"} for i in range(size * 5)], actor=world.staff
        )
        branches = [o for o in orgs if o.kind == OrgKind.BRANCH]
        grant_roles_bulk(
            [(user, Role.BRANCH_SECRETARY, org) for (user, _p), org in zip(users, branches, strict=True)],
            actor=None,
        )

    small = _queries(lambda: write("S", 2))  # 13 organizations, 10 people
    large = _queries(lambda: write("L", 40))  # 241 organizations, 200 people
    # One by one would be thousands; in bulk only the INSERT batches (SQLite's limit of
    # variables) grow: a handful more for twenty times the rows.
    assert large <= small + 12
