"""The write services of organizations and people: what they change, what they refuse, what they record."""

import pytest
from django.core.exceptions import ValidationError

from branches.audit import AuditAction
from branches.errors import RoleGrantRefused
from branches.models import AuditEntry, Organization, OrgKind, RoleAssignment, User
from branches.roles import Role
from branches.services import people
from branches.services.organizations import (
    create_organization,
    set_organization_active,
    update_organization,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password="x-very-long-secret-1")


def audit_count() -> int:
    return AuditEntry.objects.count()


# ---------------------------------------------------------------------------- organizations


def test_creating_an_organization_records_one_entry_for_its_committee(world):
    before = audit_count()
    org = create_organization(
        name="新党支部", code="B9", kind=OrgKind.BRANCH, parent=world.party_committee, actor=world.staff
    )
    assert audit_count() == before + 1
    entry = AuditEntry.objects.first()
    assert (entry.action, entry.actor, entry.committee, entry.target_id) == (
        AuditAction.CREATE,
        world.staff,
        world.committee,
        str(org.pk),
    )
    assert entry.changes["code"] == [None, "B9"]
    assert entry.changes["parent"] == [None, "P1"]


def test_a_new_committee_is_recorded_for_superusers_only(db, superuser):
    committee = create_organization(name="新工委", code="C9", kind=OrgKind.COMMITTEE, actor=superuser)
    entry = AuditEntry.objects.get(target_type="organization", target_id=str(committee.pk))
    assert entry.committee is None


def test_updating_an_organization_records_from_and_to(world):
    before = audit_count()
    org = update_organization(org=world.branch, actor=world.staff, name="教育局一支部", sort_order=5)
    assert org.name == "教育局一支部"
    assert audit_count() == before + 1
    entry = AuditEntry.objects.first()
    assert entry.action == AuditAction.UPDATE
    assert entry.changes == {"name": ["教育局第一党支部", "教育局一支部"], "sort_order": [0, 5]}


def test_an_update_that_changes_nothing_writes_and_records_nothing(world):
    before = audit_count()
    update_organization(org=world.branch, actor=world.staff, name=world.branch.name, code="B1")
    assert audit_count() == before


def test_moving_an_organization_rewrites_its_subtree_and_records_a_move(world):
    update_organization(org=world.party_committee, actor=world.staff, parent=world.other_committee)
    branch = Organization.objects.get(pk=world.branch.pk)
    assert branch.path.startswith(Organization.objects.get(pk=world.other_committee.pk).path)
    entry = AuditEntry.objects.first()
    assert entry.action == AuditAction.MOVE
    assert entry.changes == {"parent": ["C1", "C2"]}
    assert entry.committee == world.other_committee


def test_moving_an_organization_under_its_own_subtree_is_refused(world):
    general = create_organization(
        name="总支", code="G1", kind=OrgKind.PARTY_COMMITTEE, parent=world.party_committee
    )
    before = audit_count()
    with pytest.raises(ValidationError):
        update_organization(org=world.party_committee, actor=world.staff, parent=general)
    assert audit_count() == before


def test_a_duplicate_code_is_refused_whatever_its_case(world):
    with pytest.raises(ValidationError):
        update_organization(org=world.branch, actor=world.staff, code="b2")


def test_deactivating_and_reactivating_record_once_each(world):
    before = audit_count()
    set_organization_active(org=world.branch, active=False, actor=world.staff, note="合并")
    set_organization_active(org=world.branch, active=False, actor=world.staff)
    assert audit_count() == before + 1
    entry = AuditEntry.objects.first()
    assert (entry.action, entry.note) == (AuditAction.DEACTIVATE, "合并")
    set_organization_active(org=world.branch, active=True, actor=world.staff)
    assert AuditEntry.objects.first().action == AuditAction.REACTIVATE
    assert audit_count() == before + 2


# ---------------------------------------------------------------------------- people


def test_creating_a_person_without_a_password_gives_a_one_time_password(world):
    before = audit_count()
    user, one_time = people.create_person(
        actor=world.staff, username="xinren", real_name="新人", phone="138 0000"
    )
    assert one_time and user.check_password(one_time)
    assert user.must_change_password
    assert audit_count() == before + 1
    entry = AuditEntry.objects.first()
    assert entry.committee == world.committee  # the actor's, as the person holds no role yet
    assert one_time not in str(entry.changes)


def test_creating_a_person_with_a_password_does_not_force_a_change(world):
    user, one_time = people.create_person(actor=None, username="xinren", password="a-long-Good-pass-42")
    assert one_time is None
    assert not user.must_change_password


@pytest.mark.parametrize("username", ["ZhangWei", "", "has space", "x" * 151])
def test_a_bad_or_taken_user_name_is_refused_and_nothing_recorded(world, username):
    before = audit_count()
    with pytest.raises(ValidationError) as error:
        people.create_person(actor=world.staff, username=username)
    assert "username" in error.value.message_dict
    assert audit_count() == before


def test_a_too_weak_password_is_refused(world):
    with pytest.raises(ValidationError) as error:
        people.create_person(actor=world.staff, username="xinren", password="123")
    assert "password" in error.value.message_dict


def test_updating_a_person_records_only_what_changed(world):
    before = audit_count()
    people.update_person(actor=world.staff, user=world.secretary, real_name="张伟", phone="13900000000")
    assert audit_count() == before + 1
    assert AuditEntry.objects.first().changes == {"phone": ["", "13900000000"]}
    people.update_person(actor=world.staff, user=world.secretary, real_name="张伟")
    assert audit_count() == before + 1


def test_a_bad_email_is_refused(world):
    with pytest.raises(ValidationError):
        people.update_person(actor=world.staff, user=world.secretary, email="not-an-address")


def test_deactivating_a_person_records_once(world):
    before = audit_count()
    people.set_person_active(actor=world.staff, user=world.secretary, active=False)
    people.set_person_active(actor=world.staff, user=world.secretary, active=False)
    assert not User.objects.get(pk=world.secretary.pk).is_active
    assert audit_count() == before + 1


def test_nobody_deactivates_their_own_account(world):
    with pytest.raises(RoleGrantRefused):
        people.set_person_active(actor=world.staff, user=world.staff, active=False)


def test_staff_cannot_touch_a_superuser_account(world, superuser):
    before = audit_count()
    with pytest.raises(RoleGrantRefused):
        people.reset_password(actor=world.staff, user=superuser)
    assert audit_count() == before


def test_resetting_a_password_records_it_but_never_the_password(world):
    before = audit_count()
    one_time = people.reset_password(actor=world.staff, user=world.secretary)
    user = User.objects.get(pk=world.secretary.pk)
    assert user.check_password(one_time) and user.must_change_password
    assert audit_count() == before + 1
    entry = AuditEntry.objects.first()
    assert entry.action == AuditAction.RESET_PASSWORD
    assert one_time not in str(entry.changes) + entry.note


def test_one_time_passwords_differ_and_pass_the_validators():
    from django.contrib.auth.password_validation import validate_password

    passwords = {people.generate_one_time_password() for _i in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        validate_password(password)


# ---------------------------------------------------------------------------- roles


def test_staff_grants_a_secretary_inside_their_scope_and_it_is_recorded(world):
    before = audit_count()
    assignment = people.grant_role(
        actor=world.staff, user=world.outsider, role=Role.BRANCH_SECRETARY, organization=world.cousin_branch
    )
    assert assignment.pk
    assert audit_count() == before + 1
    entry = AuditEntry.objects.first()
    assert (entry.action, entry.committee, entry.target_id) == (
        AuditAction.GRANT_ROLE,
        world.committee,
        str(world.outsider.pk),
    )
    assert entry.changes == {"role": [None, "branch_secretary"], "organization": [None, "B4"]}


def test_granting_a_role_already_held_records_nothing(world):
    before = audit_count()
    existing = RoleAssignment.objects.get(user=world.secretary, role=Role.BRANCH_SECRETARY)
    again = people.grant_role(
        actor=world.staff, user=world.secretary, role=Role.BRANCH_SECRETARY, organization=world.branch
    )
    assert again.pk == existing.pk
    assert audit_count() == before


def test_nobody_grants_a_role_to_themselves(world, superuser):
    before = audit_count()
    with pytest.raises(RoleGrantRefused):
        people.grant_role(
            actor=world.staff, user=world.staff, role=Role.PARENT_REVIEWER, organization=world.party_committee
        )
    with pytest.raises(RoleGrantRefused):
        people.grant_role(actor=superuser, user=superuser, role=Role.STAFF, organization=world.committee)
    assert audit_count() == before
    assert not RoleAssignment.objects.filter(user=world.staff, role=Role.PARENT_REVIEWER).exists()


def test_nobody_removes_a_role_of_their_own(world):
    assignment = RoleAssignment.objects.get(user=world.staff, role=Role.STAFF)
    before = audit_count()
    with pytest.raises(RoleGrantRefused):
        people.revoke_role(actor=world.staff, assignment=assignment)
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert audit_count() == before


@pytest.mark.parametrize(
    ("role", "org_code"),
    [(Role.COMMITTEE_APPROVER, "C1"), (Role.STAFF, "C1")],
)
def test_staff_cannot_grant_the_approver_or_staff_on_a_committee(world, role, org_code):
    before = audit_count()
    with pytest.raises(RoleGrantRefused) as error:
        people.grant_role(
            actor=world.staff, user=world.outsider, role=role, organization=world.organizations[org_code]
        )
    assert error.value.messages
    assert not RoleAssignment.objects.filter(user=world.outsider).exists()
    assert audit_count() == before


def test_staff_cannot_remove_the_committee_approver(world):
    assignment = RoleAssignment.objects.get(user=world.approver, role=Role.COMMITTEE_APPROVER)
    with pytest.raises(RoleGrantRefused):
        people.revoke_role(actor=world.staff, assignment=assignment)


def test_a_superuser_grants_the_committee_approver(world, superuser):
    before = audit_count()
    people.grant_role(
        actor=superuser, user=world.outsider, role=Role.COMMITTEE_APPROVER, organization=world.committee
    )
    assert audit_count() == before + 1


def test_staff_may_grant_staff_on_a_party_committee(world):
    assert people.may_grant(world.staff, Role.STAFF, world.party_committee)
    people.grant_role(
        actor=world.staff, user=world.outsider, role=Role.STAFF, organization=world.party_committee
    )


def test_staff_of_a_party_committee_cannot_grant_outside_its_subtree(world):
    local = make_user("jiaoyudangwu", "教育局党务", roles=((Role.STAFF, world.party_committee),))
    assert people.may_grant(local, Role.BRANCH_SECRETARY, world.sibling_branch)
    assert not people.may_grant(local, Role.BRANCH_SECRETARY, world.cousin_branch)
    before = audit_count()
    with pytest.raises(RoleGrantRefused):
        people.grant_role(
            actor=local, user=world.outsider, role=Role.BRANCH_SECRETARY, organization=world.cousin_branch
        )
    with pytest.raises(RoleGrantRefused):
        people.grant_role(
            actor=local, user=world.outsider, role=Role.BRANCH_SECRETARY, organization=world.other_branch
        )
    assert audit_count() == before


def test_non_staff_roles_grant_nothing(world):
    for person in (world.approver, world.parent_reviewer, world.secretary, world.outsider):
        assert not people.may_grant(person, Role.BRANCH_SECRETARY, world.branch)


def test_the_command_line_may_grant_everything(world):
    assert people.may_grant(None, Role.COMMITTEE_APPROVER, world.committee)
    people.grant_role(
        actor=None, user=world.outsider, role=Role.COMMITTEE_APPROVER, organization=world.committee
    )


def test_a_role_on_the_wrong_kind_of_organization_is_refused(world):
    before = audit_count()
    with pytest.raises(ValidationError) as error:
        people.grant_role(
            actor=world.staff,
            user=world.outsider,
            role=Role.BRANCH_SECRETARY,
            organization=world.party_committee,
        )
    assert not isinstance(error.value, RoleGrantRefused)
    assert audit_count() == before


def test_revoking_a_role_records_one_entry(world):
    assignment = RoleAssignment.objects.get(user=world.secretary, role=Role.BRANCH_SECRETARY)
    before = audit_count()
    people.revoke_role(actor=world.staff, assignment=assignment)
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert audit_count() == before + 1
    entry = AuditEntry.objects.first()
    assert entry.action == AuditAction.REVOKE_ROLE
    assert entry.changes == {"role": ["branch_secretary", None], "organization": ["B1", None]}


def test_no_role_is_granted_on_a_deactivated_organization(world):
    set_organization_active(org=world.cousin_branch, active=False)
    with pytest.raises(ValidationError):
        people.grant_role(
            actor=world.staff,
            user=world.outsider,
            role=Role.BRANCH_SECRETARY,
            organization=world.cousin_branch,
        )


def test_a_deactivated_staff_member_grants_nothing(world):
    people.set_person_active(actor=None, user=world.staff, active=False)
    staff = User.objects.get(pk=world.staff.pk)
    assert not people.may_grant(staff, Role.BRANCH_SECRETARY, world.branch)


def test_staff_manage_the_accounts_of_people_whose_every_role_they_may_grant(world, superuser):
    assert people.may_manage_person(world.staff, world.secretary)
    assert people.may_manage_person(world.staff, world.outsider)  # no role yet
    # The approver's role is a superuser's to grant: resetting the password would hand it over.
    assert not people.may_manage_person(world.staff, world.approver)
    assert not people.may_manage_person(world.staff, world.other_approver)
    assert not people.may_manage_person(world.staff, world.staff)
    assert not people.may_manage_person(world.staff, superuser)
    assert not people.may_manage_person(world.approver, world.secretary)
    assert people.may_manage_person(superuser, world.approver)
    assert people.may_manage_person(None, superuser)


def test_staff_cannot_reset_the_password_of_the_committee_approver(world):
    before = audit_count()
    with pytest.raises(RoleGrantRefused):
        people.reset_password(actor=world.staff, user=world.approver)
    assert audit_count() == before
