"""People holding no role are seen only by staff of the committee whose audit trail records them.

A new account holds no role until its first grant, and an account whose last role was removed
holds none again; either way the audit trail files its row under a committee (the creator's,
the removed role's). Staff of another committee get 404 on its page and never find it in the
list, the list's search, the export or the Django admin; superusers see everyone.
"""

import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from openpyxl import load_workbook

from branches.models import RoleAssignment, User
from branches.roles import Role
from branches.selectors import people_visible_to
from branches.services.people import create_person, revoke_role
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_staff(world):
    """Party-affairs staff of the other committee (C2), with the admin's permissions on people."""
    user = make_user("qudangwu", roles=((Role.STAFF, world.other_committee),))
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="branches", codename__regex=r"^(view|change)_user$"
        )
    )
    return user


def exported_usernames(client, **query) -> set[str]:
    response = client.get(reverse("directory:person_export"), query)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return {row[0] for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True)}


def listed_usernames(client, **query) -> set[str]:
    response = client.get(reverse("directory:person_list"), query)
    assert response.status_code == 200
    return {person.username for person in response.context["page"]}


def assert_hidden_from(client, person: User) -> None:
    assert client.get(reverse("directory:person_detail", args=[person.pk])).status_code == 404
    assert client.get(reverse("directory:person_edit", args=[person.pk])).status_code == 404
    assert person.username not in listed_usernames(client)
    assert person.username not in listed_usernames(client, q=person.username)
    assert person.username not in exported_usernames(client)
    assert person.username not in exported_usernames(client, q=person.username)


def assert_seen_by(client, person: User) -> None:
    assert client.get(reverse("directory:person_detail", args=[person.pk])).status_code == 200
    assert person.username in listed_usernames(client, q=person.username)
    assert person.username in exported_usernames(client, q=person.username)


def test_a_new_account_is_seen_by_its_committees_staff_only(client, world, other_staff):
    client.force_login(world.staff)
    client.post(reverse("directory:person_create"), {"username": "xinren", "real_name": "新人"})
    newcomer = User.objects.get(username="xinren")
    assert not RoleAssignment.objects.filter(user=newcomer).exists()
    assert_seen_by(client, newcomer)

    client.force_login(other_staff)
    assert_hidden_from(client, newcomer)
    # And the other way round: C2's new account is not C1's to see.
    theirs, _password = create_person(actor=other_staff, username="qu_xinren", real_name="区新人")
    assert_seen_by(client, theirs)
    client.force_login(world.staff)
    assert_hidden_from(client, theirs)


def test_staff_of_a_party_committee_see_the_new_accounts_they_create(client, world):
    local = make_user("jiaoyu", roles=((Role.STAFF, world.party_committee),))
    client.force_login(local)
    response = client.post(
        reverse("directory:person_create"), {"username": "jiaoyu_xin", "real_name": "教育新人"}
    )
    person = User.objects.get(username="jiaoyu_xin")
    assert response.status_code == 302
    assert_seen_by(client, person)  # to grant the first role on the page they land on


def test_an_account_whose_last_role_was_removed_stays_with_that_committee(client, world, other_staff):
    assignment = RoleAssignment.objects.get(user=world.secretary)
    revoke_role(actor=world.staff, assignment=assignment)
    assert not RoleAssignment.objects.filter(user=world.secretary).exists()

    client.force_login(world.staff)
    assert_seen_by(client, world.secretary)
    client.force_login(other_staff)
    assert_hidden_from(client, world.secretary)


def test_an_account_no_committee_recorded_is_for_superusers_only(client, world, other_staff):
    # 路人 was made outside the product's services: no committee's trail names them.
    assert world.outsider not in people_visible_to(world.staff)
    assert world.outsider not in people_visible_to(other_staff)
    root = User.objects.create_superuser("root", password="x-very-long-secret-1")
    assert world.outsider in people_visible_to(root)
    client.force_login(world.staff)
    assert_hidden_from(client, world.outsider)


def test_the_admin_lists_and_opens_only_the_staffs_own_role_less_people(client, world, other_staff):
    theirs, _password = create_person(actor=world.staff, username="xinren", real_name="新人")
    client.force_login(other_staff)
    changelist = client.get(reverse("admin:branches_user_changelist"), {"q": "xinren"})
    assert changelist.status_code == 200
    assert theirs not in list(changelist.context["cl"].result_list)
    response = client.get(reverse("admin:branches_user_change", args=[theirs.pk]))
    assert response.status_code == 302  # the admin's answer to an object outside the queryset
    assert response.url == reverse("admin:index")
    mine, _password = create_person(actor=other_staff, username="qu_xinren", real_name="区新人")
    changelist = client.get(reverse("admin:branches_user_changelist"), {"q": "xinren"})
    assert list(changelist.context["cl"].result_list) == [mine]
