"""Branch names repeat across the tree ("第一党支部" under many party committees): selects name the parent."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from branches.roles import Role
from tests.factories import make_branch, make_party_committee, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(world):
    """Two branches both called 第一党支部, under P1 and under a new party committee P3."""
    p3 = make_party_committee("市财政局机关党委", "P3", parent=world.committee)
    return make_branch("第一党支部", "T1", parent=world.party_committee), make_branch(
        "第一党支部", "T2", parent=p3
    )


def _options(html: str) -> list[str]:
    select = html[html.index('name="organization"') :]
    select = select[: select.index("</select>")]
    return [part.split(">", 1)[1].split("<", 1)[0] for part in select.split("<option")[1:]]


def test_the_role_assignment_select_names_each_branch_with_its_parent(client, world, twins):
    admin = make_user("guanliyuan", "管理员", is_staff=True, is_superuser=True)
    client.force_login(admin)

    response = client.get(reverse("admin:branches_roleassignment_add"))

    options = _options(response.text)
    assert "第一党支部（市教育局机关党委）" in options
    assert "第一党支部（市财政局机关党委）" in options
    assert "教育局第一党支部（市教育局机关党委）" in options
    assert "市直机关工委" in options  # a committee has no parent to name
    assert "第一党支部" not in options  # never the bare, ambiguous name


def test_the_staff_members_select_names_the_parent_too_and_stays_in_scope(client, world, twins):
    staff = make_user("sunhua", "孙华", roles=((Role.STAFF, world.party_committee),), is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="branches", codename__regex=r"^(view|change|add)_")
    )
    client.force_login(staff)

    response = client.get(reverse("admin:branches_roleassignment_add"))

    options = _options(response.text)
    assert "第一党支部（市教育局机关党委）" in options
    assert "第一党支部（市财政局机关党委）" not in options  # P3 is outside the staff member's subtree
