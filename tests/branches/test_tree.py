import pytest
from django.core.exceptions import ValidationError

from branches.models import Organization, OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization, save_organization


def test_paths_encode_the_ancestry(tree):
    b5 = tree["B5"]
    assert b5.ancestor_ids == [tree["C1"].pk, tree["P1"].pk, tree["G1"].pk, b5.pk]
    assert b5.depth == 3


def test_subtree_is_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = {o.code for o in Organization.objects.filter(path__startswith=tree["P1"].path)}
    assert codes == {"P1", "G1", "B1", "B2", "B5"}


def test_moving_an_organization_moves_its_subtree(tree):
    g1 = tree["G1"]
    g1.parent = tree["P2"]
    g1.full_clean()
    save_organization(org=g1)
    b5 = Organization.objects.get(code="B5")
    assert b5.path == f"{tree['P2'].path}{g1.pk}/{b5.pk}/"
    assert b5.depth == 3
    assert set(
        Organization.objects.filter(path__startswith=tree["P1"].path).values_list("code", flat=True)
    ) == {
        "P1",
        "B1",
        "B2",
    }


def test_an_organization_cannot_move_under_its_own_subtree(tree):
    p1 = tree["P1"]
    p1.parent = tree["G1"]
    with pytest.raises(ValidationError) as excinfo:
        p1.full_clean()
    assert "parent" in excinfo.value.message_dict


@pytest.mark.parametrize(
    ("kind", "parent_code"),
    [
        (OrgKind.COMMITTEE, "C1"),  # a committee has no parent
        (OrgKind.BRANCH, None),  # a branch needs one
        (OrgKind.PARTY_COMMITTEE, "B1"),  # nothing stands under a branch
        (OrgKind.PARTY_COMMITTEE, "G1"),  # a general branch holds only branches
    ],
)
def test_the_tree_shape_is_enforced(tree, kind, parent_code):
    with pytest.raises(ValidationError):
        create_organization(
            name="新组织", code="NEW", kind=kind, parent=tree[parent_code] if parent_code else None
        )


def test_codes_are_unique_ignoring_case(tree):
    with pytest.raises(ValidationError):
        create_organization(name="重复", code="b1", kind=OrgKind.BRANCH, parent=tree["P1"])


def test_only_branches_have_a_stage_and_branches_start_basic(tree):
    assert tree["B1"].stage == "basic"
    with pytest.raises(ValidationError):
        create_organization(
            name="党委", code="PX", kind=OrgKind.PARTY_COMMITTEE, parent=tree["C1"], stage="model"
        )


def test_a_committee_gets_its_policy_with_defaults(tree):
    policy = tree["C1"].policy
    assert policy.five_star_target_percent == 80
    assert policy.five_goods_min_percent == 50


@pytest.mark.parametrize(
    ("role", "code", "allowed"),
    [
        (Role.BRANCH_SECRETARY, "B1", True),
        (Role.BRANCH_SECRETARY, "P1", False),
        (Role.PARENT_REVIEWER, "P1", True),
        (Role.PARENT_REVIEWER, "G1", True),
        (Role.PARENT_REVIEWER, "C1", False),
        (Role.ASSESSMENT_REVIEWER, "C1", True),
        (Role.ASSESSMENT_REVIEWER, "P1", False),
        (Role.COMMITTEE_APPROVER, "C1", True),
        (Role.COMMITTEE_APPROVER, "B1", False),
        (Role.STAFF, "B1", True),
        (Role.STAFF, "C1", True),
    ],
)
def test_roles_are_held_on_the_right_kind_of_organization(tree, role, code, allowed):
    user = User.objects.create_user("someone", password="x-unused-x")
    if allowed:
        assign_role(user=user, role=role, organization=tree[code])
        assert user.role_assignments.count() == 1
    else:
        with pytest.raises(ValidationError):
            assign_role(user=user, role=role, organization=tree[code])


def test_assigning_the_same_role_twice_keeps_one_row(tree):
    user = User.objects.create_user("someone", password="x-unused-x")
    assign_role(user=user, role=Role.STAFF, organization=tree["P1"])
    assign_role(user=user, role=Role.STAFF, organization=tree["P1"])
    assert user.role_assignments.count() == 1
