"""The denormalised committee key: every organization's ``committee`` is the root of its path,
after any create, move, bulk create, import or bulk build, and scoping by it reaches exactly
what the path prefixes reach."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Q

from branches import selectors as scoping
from branches.models import Organization, OrgKind, RoleAssignment
from branches.roles import Role
from branches.services.organizations import (
    create_organization,
    create_organizations_bulk,
    save_organization_recorded,
    update_organization,
)
from branches.spreadsheets import Sheet, write_workbook
from directory.imports import apply_import_plan, plan_import_file
from directory.imports.workbook import ORG_HEADERS, PEOPLE_HEADERS
from tests.factories import make_branch, make_party_committee, make_user

pytestmark = pytest.mark.django_db


def wrong_keys() -> list[tuple[str, str, int | None]]:
    """(code, path, key) of every organization whose key is not the root of its path."""
    return [
        (code, path, key)
        for code, path, key in Organization.objects.values_list("code", "path", "committee_id")
        if key != int(path.strip("/").split("/")[0])
    ]


def keys(*orgs: Organization) -> list[int]:
    return [Organization.objects.get(pk=org.pk).committee_id for org in orgs]


def test_a_new_committee_points_to_itself_and_its_rows_to_it(world):
    assert world.committee.committee_id == world.committee.pk
    assert keys(world.party_committee, world.branch, world.branch_under_committee) == [world.committee.pk] * 3
    assert keys(world.other_branch) == [world.other_committee.pk]
    assert wrong_keys() == []


def test_a_party_committee_moved_to_another_committee_takes_its_whole_subtree_along(world):
    general = create_organization(
        name="教育局机关党总支", code="G1", kind=OrgKind.GENERAL_BRANCH, parent=world.party_committee
    )
    deep = make_branch("党总支第一党支部", "GB1", parent=general)

    update_organization(org=world.party_committee, parent=world.other_committee, actor=world.staff)

    moved = (world.party_committee, general, deep, world.branch, world.sibling_branch)
    assert keys(*moved) == [world.other_committee.pk] * len(moved)
    # What stayed behind keeps its key.
    assert keys(world.second_party_committee, world.cousin_branch) == [world.committee.pk] * 2
    assert wrong_keys() == []

    update_organization(org=world.party_committee, parent=world.committee, actor=world.staff)
    assert keys(*moved) == [world.committee.pk] * len(moved)
    assert wrong_keys() == []


def test_a_move_inside_the_committee_keeps_the_key(world):
    update_organization(org=world.branch, parent=world.second_party_committee, actor=world.staff)
    assert keys(world.branch) == [world.committee.pk]
    assert wrong_keys() == []


def test_a_branch_turned_into_a_committee_becomes_its_own_key(world):
    lone = make_branch("独立党支部", "LONE", parent=world.committee)
    update_organization(org=lone, kind=OrgKind.COMMITTEE, parent=None, stage="")
    assert keys(lone) == [lone.pk]
    assert wrong_keys() == []


def test_the_admin_save_keeps_the_key(world):
    branch = Organization.objects.get(pk=world.cousin_branch.pk)
    branch.parent = world.other_committee
    branch.full_clean(exclude=["path"])
    save_organization_recorded(org=branch, actor=None)
    assert keys(branch) == [world.other_committee.pk]
    assert wrong_keys() == []


def test_bulk_created_rows_get_their_committee_new_or_existing(world):
    created = create_organizations_bulk(
        [
            {"name": "新支部", "code": "NB", "kind": OrgKind.BRANCH, "parent_code": "NP"},
            {"name": "新党委", "code": "NP", "kind": OrgKind.PARTY_COMMITTEE, "parent_code": "NC"},
            {"name": "新工委", "code": "NC", "kind": OrgKind.COMMITTEE},
            {"name": "挂在老党委下", "code": "OB", "kind": OrgKind.BRANCH, "parent": world.party_committee},
        ]
    )
    new_committee = created[2]
    # The objects returned carry the key as well as the rows.
    assert [org.committee_id for org in created] == [new_committee.pk] * 3 + [world.committee.pk]
    assert keys(*created) == [new_committee.pk] * 3 + [world.committee.pk]
    assert wrong_keys() == []


def _sheet(path, organizations):
    write_workbook(
        [Sheet("组织", list(ORG_HEADERS), organizations), Sheet("人员", list(PEOPLE_HEADERS), [])],
        path,
    )
    return path


def test_an_import_that_creates_and_moves_keeps_every_key(world, tmp_path):
    path = _sheet(
        tmp_path / "tree.xlsx",
        [
            ["N1", "新第一党支部", "党支部", "NP", "", 2],
            ["NP", "新机关党委", "党委", "C1", "", 9],
            ["B4", world.cousin_branch.name, "党支部", "P1", "", ""],  # a move inside C1
            ["X1", "新工委", "工委", "", "", ""],
            ["X2", "新工委第一党支部", "党支部", "X1", "", ""],
        ],
    )
    plan = plan_import_file(path, actor=None)
    assert not plan.has_errors, [r.errors for r in plan.rows if r.errors]

    apply_import_plan(plan, actor=None, file_name="tree.xlsx")

    orgs = {org.code: org for org in Organization.objects.filter(code__in=["N1", "NP", "X1", "X2", "B4"])}
    assert [orgs[code].committee_id for code in ("N1", "NP", "B4")] == [world.committee.pk] * 3
    assert [orgs[code].committee_id for code in ("X1", "X2")] == [orgs["X1"].pk] * 2
    assert wrong_keys() == []


def test_an_import_moving_a_party_committee_to_another_committee_moves_its_subtree(world, tmp_path):
    path = _sheet(tmp_path / "move.xlsx", [["P1", world.party_committee.name, "党委", "C2", "", ""]])
    plan = plan_import_file(path, actor=None)
    assert not plan.has_errors, [r.errors for r in plan.rows if r.errors]

    apply_import_plan(plan, actor=None, file_name="move.xlsx")

    assert keys(world.party_committee, world.branch, world.sibling_branch) == [world.other_committee.pk] * 3
    assert wrong_keys() == []


def test_the_scale_builder_writes_the_key():
    call_command(
        "build_scale_committee", prefix="KEY", branches=12, party_committees=3, cycles=1, stdout=io.StringIO()
    )
    committee = Organization.objects.get(code__startswith="KEY", kind=OrgKind.COMMITTEE)
    assert Organization.objects.filter(committee=committee).count() == 1 + 3 + 12
    assert wrong_keys() == []


# ---------------------------------------------------------------------------- scoping by the key


def _by_prefix(user, roles=None) -> set[str]:
    """What the path-prefix semi-join (the scoping before the key) reaches, as the reference."""
    held = RoleAssignment.objects.filter(user=user)
    if roles is not None:
        held = held.filter(role__in=roles)
    condition = Q(pk__in=[])
    for path in held.values_list("organization__path", flat=True):
        condition |= Q(path__startswith=path)
    return set(Organization.objects.filter(condition).values_list("code", flat=True))


@pytest.mark.parametrize(
    "who", ["secretary", "parent_reviewer", "reviewer1", "approver", "staff", "other_approver", "outsider"]
)
def test_the_scope_by_key_is_the_scope_by_path(world, who):
    user = world.people[who]
    assert set(scoping.organizations_visible_to(user).values_list("code", flat=True)) == _by_prefix(user)


def test_mixed_roles_reach_the_union_and_other_roles_do_not_count(world):
    user = make_user(
        "mixed",
        "混合",
        roles=(
            (Role.PARENT_REVIEWER, world.party_committee),
            (Role.BRANCH_SECRETARY, world.branch),  # inside the party committee: adds nothing
            (Role.BRANCH_SECRETARY, world.other_branch),
            (Role.STAFF, world.other_committee),
        ),
    )
    scope = scoping.user_scope(user)
    assert scope.committees == (world.other_committee.pk,)
    assert scope.subtrees == ((world.committee.pk, world.party_committee.path),)
    assert set(scoping.organizations_visible_to(user).values_list("code", flat=True)) == _by_prefix(user)
    secretary_only = set(
        scoping.organizations_visible_to(user, [Role.BRANCH_SECRETARY]).values_list("code", flat=True)
    )
    assert secretary_only == {"B1", "D1"} == _by_prefix(user, [Role.BRANCH_SECRETARY])


def test_a_role_on_a_moved_party_committee_follows_it(world):
    update_organization(org=world.party_committee, parent=world.other_committee)
    reviewer = type(world.parent_reviewer).objects.get(pk=world.parent_reviewer.pk)  # a new request
    codes = set(scoping.organizations_visible_to(reviewer).values_list("code", flat=True))
    assert codes == {"P1", "B1", "B2"} == _by_prefix(reviewer)
    assert scoping.can_see(reviewer, Organization.objects.get(code="B1"))
    assert not scoping.can_see(reviewer, world.cousin_branch)


def test_the_lower_roles_filter_carries_the_committee_key(world):
    sql = str(scoping.organizations_visible_to(world.parent_reviewer).query)
    assert "committee_id" in sql and "LIKE" in sql.upper()
    sql = str(scoping.organizations_visible_to(world.approver).query)
    assert "committee_id" in sql and "LIKE" not in sql.upper() and "EXISTS" not in sql.upper()


def test_no_role_and_inactive_people_see_nothing(world):
    assert not scoping.organizations_visible_to(world.outsider).exists()
    world.approver.is_active = False
    assert not scoping.organizations_visible_to(world.approver).exists()


def test_roles_with_reach_counts_the_branches_of_each_role(world):
    make_party_committee("新党委", "NP", parent=world.committee)
    staff = type(world.staff).objects.get(pk=world.staff.pk)
    counts = {ra.organization.code: ra.branch_count for ra in scoping.roles_with_reach(staff)}
    assert counts == {"C1": 4}
    reviewer = type(world.parent_reviewer).objects.get(pk=world.parent_reviewer.pk)
    assert {ra.organization.code: ra.branch_count for ra in scoping.roles_with_reach(reviewer)} == {"P1": 2}
