"""Changes made in the Django admin and to standards land in the audit trail, under the same rules."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from branches.audit import AuditAction
from branches.models import AuditEntry, CommitteePolicy, Organization, RoleAssignment, User
from branches.roles import Role
from reviews.models import AssessmentStatus
from tests.factories import make_assessment, make_cycle, make_draft_standard

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, world):
    root = User.objects.create_superuser("root", password="x-very-long-secret-1")
    client.force_login(root)
    client.root = root
    return client


@pytest.fixture
def staff_admin(client, world):
    world.staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="branches", codename__regex=r"^(view|change|add|delete)_"
        )
    )
    client.force_login(world.staff)
    return client


def org_post(org, **changes):
    data = {
        "name": org.name,
        "code": org.code,
        "sort_order": org.sort_order,
        "kind": org.kind,
        "parent": org.parent_id or "",
        "stage": org.stage,
        "is_active": "on" if org.is_active else "",
    }
    data.update(changes)
    return data


def test_an_admin_edit_of_an_organization_is_recorded_with_from_and_to(staff_admin, world):
    before = AuditEntry.objects.count()
    response = staff_admin.post(
        reverse("admin:branches_organization_change", args=[world.branch.pk]),
        org_post(world.branch, name="改名"),
    )
    assert response.status_code == 302
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.first()
    assert (entry.action, entry.actor, entry.changes) == (
        AuditAction.UPDATE,
        world.staff,
        {"name": ["教育局第一党支部", "改名"]},
    )


def test_an_admin_save_without_changes_records_nothing(staff_admin, world):
    before = AuditEntry.objects.count()
    staff_admin.post(
        reverse("admin:branches_organization_change", args=[world.branch.pk]), org_post(world.branch)
    )
    assert AuditEntry.objects.count() == before


def test_the_committee_policy_changed_in_the_admin_is_recorded(superuser_client, world):
    policy = CommitteePolicy.objects.get(committee=world.committee)
    data = org_post(world.committee)
    data.update(
        {
            "policy-TOTAL_FORMS": "1",
            "policy-INITIAL_FORMS": "1",
            "policy-MIN_NUM_FORMS": "0",
            "policy-MAX_NUM_FORMS": "1",
            "policy-0-id": policy.pk,
            "policy-0-committee": world.committee.pk,
        }
    )
    # Every field of the policy as it is (the model may grow), then the one change.
    for field in CommitteePolicy._meta.concrete_fields:
        if field.name not in ("id", "committee"):
            value = getattr(policy, field.attname)
            data[f"policy-0-{field.name}"] = "" if value is None else str(value)
    data["policy-0-five_star_target_percent"] = "70"
    response = superuser_client.post(
        reverse("admin:branches_organization_change", args=[world.committee.pk]), data
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    entry = AuditEntry.objects.get(target_type="committeepolicy")
    assert entry.committee == world.committee
    assert entry.changes == {"five_star_target_percent": ["80.00", "70"]}


def test_staff_cannot_grant_themselves_a_role_in_the_admin(staff_admin, world):
    before = AuditEntry.objects.count()
    response = staff_admin.post(
        reverse("admin:branches_roleassignment_add"),
        {"user": world.staff.pk, "role": Role.PARENT_REVIEWER, "organization": world.party_committee.pk},
    )
    assert response.status_code == 200
    assert not RoleAssignment.objects.filter(user=world.staff, role=Role.PARENT_REVIEWER).exists()
    assert AuditEntry.objects.count() == before


def test_staff_cannot_grant_the_approver_in_the_admin(staff_admin, world, outsider_recorded):
    response = staff_admin.post(
        reverse("admin:branches_roleassignment_add"),
        {"user": world.outsider.pk, "role": Role.COMMITTEE_APPROVER, "organization": world.committee.pk},
    )
    assert response.status_code == 200
    assert not RoleAssignment.objects.filter(user=world.outsider).exists()


def test_a_role_granted_and_removed_in_the_admin_is_recorded(staff_admin, world, outsider_recorded):
    response = staff_admin.post(
        reverse("admin:branches_roleassignment_add"),
        {"user": world.outsider.pk, "role": Role.BRANCH_SECRETARY, "organization": world.cousin_branch.pk},
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=world.outsider)
    assert AuditEntry.objects.filter(action=AuditAction.GRANT_ROLE, actor=world.staff).count() == 1
    response = staff_admin.post(
        reverse("admin:branches_roleassignment_delete", args=[assignment.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEntry.objects.filter(action=AuditAction.REVOKE_ROLE, actor=world.staff).count() == 1


def test_an_account_changed_in_the_admin_is_recorded(superuser_client, world):
    user = world.secretary
    user.date_joined = user.date_joined.replace(microsecond=0)
    user.save()
    joined = timezone.localtime(user.date_joined)
    response = superuser_client.post(
        reverse("admin:branches_user_change", args=[user.pk]),
        {
            "username": user.username,
            "real_name": "张伟伟",
            "phone": "",
            "email": user.email,
            "is_active": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
            "role_assignments-MIN_NUM_FORMS": "0",
            "role_assignments-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    entry = AuditEntry.objects.get(target_type="user", action=AuditAction.UPDATE)
    assert entry.changes == {"real_name": ["张伟", "张伟伟"]}


def test_publishing_a_standard_is_recorded(world):
    from scoring.services.standards import publish_standard

    standard = make_draft_standard(committee=world.committee)
    publish_standard(standard=standard, actor=world.staff)
    entry = AuditEntry.objects.get(target_type="standard")
    assert (entry.action, entry.committee, entry.changes) == (
        AuditAction.PUBLISH,
        world.committee,
        {"status": ["draft", "published"]},
    )


def test_a_schedule_changed_in_the_admin_is_recorded(superuser_client, world):
    crontab = CrontabSchedule.objects.create(minute="0", hour="6", day_of_month="1", month_of_year="1,4,7,10")
    response = superuser_client.post(
        reverse("admin:django_celery_beat_crontabschedule_change", args=[crontab.pk]),
        {
            "minute": "30",
            "hour": "6",
            "day_of_month": "1",
            "month_of_year": "1,4,7,10",
            "day_of_week": "*",
            "timezone": "Asia/Shanghai",
            "periodictask_set-TOTAL_FORMS": "0",
            "periodictask_set-INITIAL_FORMS": "0",
            "periodictask_set-MIN_NUM_FORMS": "0",
            "periodictask_set-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    entry = AuditEntry.objects.get(target_type="crontabschedule")
    assert entry.action == AuditAction.UPDATE and entry.changes["minute"] == ["0", "30"]
    assert PeriodicTask  # the same mixin wraps the periodic tasks' admin


def test_the_audit_trail_refuses_updates_and_deletes(world):
    from django.core.exceptions import ValidationError

    entry = AuditEntry.objects.first()
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    assert Organization.objects.exists()


def test_an_untouched_role_row_does_not_block_saving_ones_own_account(superuser_client, world):
    from branches.services.organizations import assign_role

    root = superuser_client.root
    root.date_joined = root.date_joined.replace(microsecond=0)
    root.save()
    held = assign_role(user=root, role=Role.STAFF, organization=world.committee)
    joined = timezone.localtime(root.date_joined)
    response = superuser_client.post(
        reverse("admin:branches_user_change", args=[root.pk]),
        {
            "username": root.username,
            "real_name": "系统管理员",
            "phone": "",
            "email": "",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "role_assignments-TOTAL_FORMS": "1",
            "role_assignments-INITIAL_FORMS": "1",
            "role_assignments-MIN_NUM_FORMS": "0",
            "role_assignments-MAX_NUM_FORMS": "1000",
            "role_assignments-0-id": held.pk,
            "role_assignments-0-user": root.pk,
            "role_assignments-0-role": Role.STAFF,
            "role_assignments-0-organization": world.committee.pk,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert RoleAssignment.objects.filter(pk=held.pk).exists()


def test_deactivating_in_the_admin_is_refused_while_an_assessment_is_in_flight(staff_admin, world):
    cycle = make_cycle(world.committee, opened_by=world.approver)
    make_assessment(cycle, world.branch, status=AssessmentStatus.SUBMITTED)
    before = AuditEntry.objects.count()
    response = staff_admin.post(
        reverse("admin:branches_organization_change", args=[world.party_committee.pk]),
        org_post(world.party_committee, is_active="", name="市教育局机关党委（改）"),
    )
    assert response.status_code == 200  # the form again, with the reason on it
    errors = response.context["adminform"].form.errors["is_active"]
    assert "教育局第一党支部" in errors[0] and cycle.name in errors[0]
    assert (
        Organization.objects.filter(path__startswith=world.party_committee.path, is_active=False).count() == 0
    )
    assert Organization.objects.get(pk=world.party_committee.pk).name == "市教育局机关党委"
    assert AuditEntry.objects.count() == before


def test_deactivating_in_the_admin_takes_the_subtree_as_the_site_does(staff_admin, world):
    cycle = make_cycle(world.committee, opened_by=world.approver)
    make_assessment(cycle, world.branch, status=AssessmentStatus.SUBMITTED)  # P1's, not P2's
    response = staff_admin.post(
        reverse("admin:branches_organization_change", args=[world.second_party_committee.pk]),
        org_post(world.second_party_committee, is_active=""),
    )
    assert response.status_code == 302
    subtree = Organization.objects.filter(path__startswith=world.second_party_committee.path)
    assert set(subtree.values_list("code", "is_active")) == {("P2", False), ("B4", False)}
    deactivated = AuditEntry.objects.filter(action=AuditAction.DEACTIVATE, actor=world.staff)
    assert set(deactivated.values_list("target_label", flat=True)) >= {"市卫健委机关党委", "卫健委第一党支部"}
    assert deactivated.count() == 2
    # Ticking it again is the admin's ordinary save (a reactivation, recorded).
    response = staff_admin.post(
        reverse("admin:branches_organization_change", args=[world.second_party_committee.pk]),
        org_post(Organization.objects.get(pk=world.second_party_committee.pk), is_active="on"),
    )
    assert response.status_code == 302
    assert Organization.objects.get(pk=world.second_party_committee.pk).is_active


def test_an_assessment_in_flight_after_the_forms_check_is_refused_with_a_message_not_an_error(
    staff_admin, world, monkeypatch
):
    # The race: the form's check saw nothing in flight, the service under the row's lock does.
    import directory.admin

    monkeypatch.setattr(directory.admin, "deactivation_refusal", lambda org: None)
    cycle = make_cycle(world.committee, opened_by=world.approver)
    make_assessment(cycle, world.branch, status=AssessmentStatus.SUBMITTED)
    before = AuditEntry.objects.count()
    url = reverse("admin:branches_organization_change", args=[world.party_committee.pk])
    response = staff_admin.post(
        url, org_post(world.party_committee, is_active="", name="市教育局机关党委（改）")
    )
    assert response.status_code == 302 and response["Location"] == url
    shown = [str(message) for message in response.wsgi_request._messages]
    assert any("教育局第一党支部" in message for message in shown)
    # Nothing of the form was kept: the name change rolled back with the refusal.
    assert Organization.objects.get(pk=world.party_committee.pk).name == "市教育局机关党委"
    assert not Organization.objects.filter(
        path__startswith=world.party_committee.path, is_active=False
    ).exists()
    assert AuditEntry.objects.count() == before
