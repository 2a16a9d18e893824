import pytest
from django.http import Http404

from branches import selectors as scoping
from branches.models import User
from branches.roles import Role

ALL_C1 = {"C1", "P1", "P2", "G1", "B1", "B2", "B3", "B4", "B5"}

# Exactly what each user sees: own organization, its children, never a sibling, parent or
# the other committee.
VISIBLE = {
    "secretary": {"B1"},
    "parent_reviewer": {"P1", "G1", "B1", "B2", "B5"},
    "assessment_reviewer": ALL_C1,
    "approver": ALL_C1,
    "staff": {"P2", "B4"},
    "outsider": set(),
}
ORG_CODES = ["C1", "P1", "P2", "G1", "B1", "B2", "B3", "B4", "B5", "C2", "D1"]


@pytest.mark.parametrize("who", VISIBLE)
def test_each_role_sees_exactly_its_subtree(people, who):
    codes = set(scoping.organizations_visible_to(people[who]).values_list("code", flat=True))
    assert codes == VISIBLE[who]


@pytest.mark.parametrize("who", VISIBLE)
@pytest.mark.parametrize("code", ORG_CODES)
def test_lookup_by_id_answers_404_outside_scope(tree, people, who, code):
    user, org = people[who], tree[code]
    if code in VISIBLE[who]:
        assert scoping.get_organization_for_user_or_404(user, org.pk) == org
        assert scoping.can_see(user, org)
    else:
        with pytest.raises(Http404):
            scoping.get_organization_for_user_or_404(user, org.pk)
        assert not scoping.can_see(user, org)


def test_lookup_of_a_missing_or_malformed_id_answers_404(people):
    with pytest.raises(Http404):
        scoping.get_organization_for_user_or_404(people["approver"], 999_999)
    with pytest.raises(Http404):
        scoping.get_organization_for_user_or_404(people["approver"], "1 or 1=1")


def test_branches_visible_excludes_parent_organizations(people):
    codes = set(scoping.branches_visible_to(people["parent_reviewer"]).values_list("code", flat=True))
    assert codes == {"B1", "B2", "B5"}


def test_a_role_reaches_only_where_it_is_held(tree, people):
    approver = people["approver"]
    assert scoping.has_role_on(approver, Role.COMMITTEE_APPROVER, tree["B3"])
    assert not scoping.has_role_on(approver, Role.COMMITTEE_APPROVER, tree["D1"])
    assert not scoping.has_role_on(approver, Role.BRANCH_SECRETARY, tree["B1"])
    reviewer = people["parent_reviewer"]
    assert scoping.has_role_on(reviewer, Role.PARENT_REVIEWER, tree["B5"])
    assert not scoping.has_role_on(reviewer, Role.PARENT_REVIEWER, tree["C1"])
    assert not scoping.has_role_on(reviewer, Role.PARENT_REVIEWER, tree["B4"])


def test_branches_for_role_ignores_other_roles_of_the_same_user(tree, people):
    from branches.services.organizations import assign_role

    user = people["secretary"]
    assign_role(user=user, role=Role.STAFF, organization=tree["P2"])
    assert set(scoping.branches_for_role(user, Role.BRANCH_SECRETARY).values_list("code", flat=True)) == {
        "B1"
    }
    assert set(scoping.branches_visible_to(user).values_list("code", flat=True)) == {"B1", "B4"}


def test_superuser_sees_everything(tree):
    admin = User.objects.create_superuser("root", password="x-unused-x")
    assert scoping.organizations_visible_to(admin).count() == len(ORG_CODES)


def test_inactive_user_sees_nothing(people):
    approver = people["approver"]
    approver.is_active = False
    approver.save()
    assert not scoping.organizations_visible_to(approver).exists()


def test_scope_is_one_query_however_many_roles(tree, people, django_assert_num_queries):
    from branches.services.organizations import assign_role

    user = people["staff"]
    for code in ["P1", "B1", "C2"]:
        assign_role(user=user, role=Role.STAFF, organization=tree[code])
    # The roles are read once (then cached on the user for the request), the rows in one more.
    with django_assert_num_queries(2):
        codes = set(scoping.organizations_visible_to(user).values_list("code", flat=True))
    assert codes == {"P1", "G1", "B1", "B2", "B5", "P2", "B4", "C2", "D1"}
    with django_assert_num_queries(1):
        assert set(scoping.branches_visible_to(user).values_list("code", flat=True)) < codes
