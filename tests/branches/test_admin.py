import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from branches.models import Organization, OrgKind, RoleAssignment
from branches.roles import Role
from branches.services.people import create_person
from tests.factories import make_user


@pytest.fixture
def staff_client(client, people):
    staff = people["staff"]  # staff role on P2
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="branches", codename__regex=r"^(view|change|add)_")
    )
    client.force_login(staff)
    return client


def test_staff_admin_lists_only_organizations_in_their_subtree(staff_client):
    response = staff_client.get(reverse("admin:branches_organization_changelist"))
    assert response.status_code == 200
    shown = {o.code for o in response.context["cl"].result_list}
    assert shown == {"P2", "B4"}


def test_staff_admin_cannot_open_an_organization_outside_their_subtree(staff_client, tree):
    response = staff_client.get(reverse("admin:branches_organization_change", args=[tree["B1"].pk]))
    assert response.status_code == 302  # the admin's "does not exist" redirect, no form
    response = staff_client.get(reverse("admin:branches_organization_change", args=[tree["B4"].pk]))
    assert response.status_code == 200


def test_staff_admin_cannot_place_an_organization_outside_their_subtree(staff_client, tree):
    response = staff_client.post(
        reverse("admin:branches_organization_add"),
        {"name": "新支部", "code": "NEW", "kind": OrgKind.BRANCH, "parent": tree["P1"].pk, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert not Organization.objects.filter(code="NEW").exists()


def test_staff_admin_adds_a_branch_inside_their_subtree_with_its_path(staff_client, tree):
    response = staff_client.post(
        reverse("admin:branches_organization_add"),
        {
            "name": "新支部",
            "code": "NEW",
            "sort_order": 0,  # the admin form shows the sort number (default 0) and posts it
            "kind": OrgKind.BRANCH,
            "parent": tree["P2"].pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    new = Organization.objects.get(code="NEW")
    assert new.path == f"{tree['P2'].path}{new.pk}/"


def test_staff_admin_lists_only_role_assignments_in_scope(staff_client, people):
    response = staff_client.get(reverse("admin:branches_roleassignment_changelist"))
    shown = {a.user.username for a in response.context["cl"].result_list}
    assert shown == {"sunhua"}


def test_staff_admin_users_are_those_in_scope_or_role_less_on_their_committees_trail(
    staff_client, people, tree
):
    newcomer, _password = create_person(actor=people["staff"], username="newcomer", real_name="新人")
    make_user("stranger")  # no role, and no committee's audit trail names them (like 路人)
    colleague = make_user("colleague", roles=((Role.BRANCH_SECRETARY, tree["B4"]),))
    response = staff_client.get(reverse("admin:branches_user_changelist"))
    shown = {u.username for u in response.context["cl"].result_list}
    assert shown == {"sunhua", newcomer.username, colleague.username}


def test_staff_admin_cannot_grant_a_role_outside_their_subtree(staff_client, people, tree):
    response = staff_client.post(
        reverse("admin:branches_roleassignment_add"),
        {"user": people["outsider"].pk, "role": Role.BRANCH_SECRETARY, "organization": tree["B1"].pk},
    )
    assert response.status_code == 200
    assert not RoleAssignment.objects.filter(user=people["outsider"]).exists()


def test_staff_admin_sets_the_sort_order_and_the_tree_stays_indented_by_path(staff_client, tree):
    b4 = tree["B4"]
    response = staff_client.post(
        reverse("admin:branches_organization_change", args=[b4.pk]),
        {
            "name": b4.name,
            "code": b4.code,
            "sort_order": 7,
            "kind": b4.kind,
            "parent": b4.parent_id,
            "stage": b4.stage,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    b4.refresh_from_db()
    assert b4.sort_order == 7 and b4.path.startswith(tree["P2"].path)
    listed = staff_client.get(reverse("admin:branches_organization_changelist")).context["cl"].result_list
    assert [o.code for o in listed] == ["P2", "B4"]  # the admin's list is the tree, by path
