"""Dynamic management (动态管理): downgrade, revocation, expiry, the branch's star history, admin."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from branches.errors import WorkflowError
from branches.models import User
from branches.roles import Role
from reports.models import JobRun, JobStatus
from reports.tasks import expire_certificates
from reviews.models import Assessment, Certificate, CertificateStatus, StarEvent, StarEventKind
from reviews.services.decision import downgrade_branch, expire_due_certificates, revoke_branch
from tests.factories import make_certificate, make_user, open_default_cycle

pytestmark = pytest.mark.usefixtures("english")

SHANGHAI = ZoneInfo("Asia/Shanghai")
CERTIFIED_AT = datetime.datetime(2025, 6, 20, 10, 0, tzinfo=SHANGHAI)
VALID_UNTIL = datetime.date(2027, 6, 20)
LATER = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=SHANGHAI)


@pytest.fixture
def cycle(world):
    return open_default_cycle(world.committee, world.approver)


def certify(cycle, branch, stars, actor) -> Certificate:
    """The branch certified with ``stars`` on CERTIFIED_AT, as ``certify_batch`` leaves it."""
    return make_certificate(
        Assessment.objects.get(cycle=cycle, branch=branch),
        stars=stars,
        issued_at=CERTIFIED_AT,
        valid_until=VALID_UNTIL,
        actor=actor,
    )


@pytest.fixture
def certificate(cycle, world):
    return certify(cycle, world.branch, 4, world.approver)


# --- Downgrade and revocation ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reason", "violation", "missing"),
    [
        ("", "", {"reason", "violation"}),
        ("多次缺席组织生活", " ", {"violation"}),
        ("", "违反组织纪律", {"reason"}),
    ],
)
def test_a_downgrade_needs_a_reason_and_the_violation(certificate, world, reason, violation, missing):
    with time_machine.travel(LATER, tick=False), pytest.raises(ValidationError) as error:
        downgrade_branch(
            branch=world.branch, actor=world.approver, to_stars=2, reason=reason, violation=violation
        )

    assert set(error.value.message_dict) == missing
    certificate.refresh_from_db()
    assert certificate.stars == 4
    assert StarEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_downgrade_lowers_the_current_level_and_records_who_when_and_why(certificate, world):
    with time_machine.travel(LATER, tick=False):
        event = downgrade_branch(
            branch=world.branch,
            actor=world.approver,
            to_stars=2,
            reason="支部书记受到党内警告处分",
            violation="违反廉洁纪律",
        )

    certificate.refresh_from_db()
    assert (certificate.stars, certificate.certified_stars, certificate.status) == (
        2,
        4,
        CertificateStatus.VALID,
    )
    assert (event.kind, event.from_stars, event.to_stars) == (StarEventKind.DOWNGRADE, 4, 2)
    assert (event.actor, event.at, event.certificate) == (world.approver, LATER, certificate)
    assert (event.reason, event.violation) == ("支部书记受到党内警告处分", "违反廉洁纪律")


@pytest.mark.django_db
@pytest.mark.parametrize("to_stars", [4, 5, 0])
def test_a_downgrade_must_go_below_the_current_level(certificate, world, to_stars):
    with time_machine.travel(LATER, tick=False), pytest.raises(ValidationError):
        downgrade_branch(
            branch=world.branch, actor=world.approver, to_stars=to_stars, reason="r", violation="v"
        )


@pytest.mark.django_db
def test_a_revocation_needs_a_reason_and_the_violation(certificate, world):
    with time_machine.travel(LATER, tick=False), pytest.raises(ValidationError) as error:
        revoke_branch(branch=world.branch, actor=world.approver, reason="", violation="")

    assert set(error.value.message_dict) == {"reason", "violation"}
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID


@pytest.mark.django_db
def test_a_revocation_leaves_the_branch_unrated(client, certificate, world):
    with time_machine.travel(LATER, tick=False):
        event = revoke_branch(
            branch=world.branch, actor=world.approver, reason="发生严重违纪问题", violation="违反政治纪律"
        )
        client.force_login(world.secretary)
        page = client.get(reverse("reviews:branch_detail", args=[world.branch.pk])).content.decode()

    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED
    assert (event.kind, event.from_stars, event.to_stars, event.actor) == (
        StarEventKind.REVOCATION,
        4,
        None,
        world.approver,
    )
    assert "Unrated" in page
    assert "违反政治纪律" in page


@pytest.mark.django_db
def test_a_branch_without_a_certificate_cannot_be_downgraded(world):
    with pytest.raises(WorkflowError):
        downgrade_branch(
            branch=world.sibling_branch, actor=world.approver, to_stars=1, reason="r", violation="v"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["staff", "secretary"])
def test_only_an_approver_lowers_or_revokes(certificate, world, who):
    with pytest.raises(PermissionDenied):
        downgrade_branch(branch=world.branch, actor=world.people[who], to_stars=2, reason="r", violation="v")
    with pytest.raises(PermissionDenied):
        revoke_branch(branch=world.branch, actor=world.people[who], reason="r", violation="v")


@pytest.mark.django_db
def test_the_downgrade_form_asks_for_confirmation(client, certificate, world):
    client.force_login(world.approver)
    url = reverse("reviews:branch_downgrade", args=[world.branch.pk])
    data = {"to_stars": "3", "violation": "违反组织纪律", "reason": "未按期换届"}

    with time_machine.travel(LATER, tick=False):
        unconfirmed = client.post(url, data)
        certificate.refresh_from_db()
        assert (unconfirmed.status_code, certificate.stars) == (200, 4)
        confirmed = client.post(url, {**data, "confirm": "on"})

    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("reviews:branch_detail", args=[world.branch.pk])
    certificate.refresh_from_db()
    assert certificate.stars == 3


@pytest.mark.django_db
def test_the_revoke_form_revokes_after_confirmation(client, certificate, world):
    client.force_login(world.approver)

    with time_machine.travel(LATER, tick=False):
        response = client.post(
            reverse("reviews:branch_revoke", args=[world.branch.pk]),
            {"violation": "违反政治纪律", "reason": "严重违纪", "confirm": "on"},
        )

    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED


@pytest.mark.django_db
def test_dynamic_management_pages_are_403_in_scope_and_404_outside(client, certificate, world):
    with time_machine.travel(LATER, tick=False):
        for name in ("reviews:branch_downgrade", "reviews:branch_revoke"):
            url = reverse(name, args=[world.branch.pk])
            client.force_login(world.secretary)
            assert client.get(url).status_code == 403
            client.force_login(world.other_approver)
            assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_revoking_an_unrated_branch_over_http_is_409(client, world):
    client.force_login(world.approver)

    response = client.get(reverse("reviews:branch_revoke", args=[world.sibling_branch.pk]))

    assert response.status_code == 409


# --- Expiry --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_certificate_is_in_force_through_its_last_day(certificate):
    with time_machine.travel(datetime.datetime(2027, 6, 20, 23, 0, tzinfo=SHANGHAI), tick=False):
        assert expire_due_certificates() == 0

    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID


@pytest.mark.django_db
def test_the_expiry_task_expires_due_certificates_once(client, certificate, cycle, world):
    still_valid = certify(cycle, world.sibling_branch, 5, world.approver)
    Certificate.objects.filter(pk=still_valid.pk).update(valid_until=datetime.date(2028, 1, 1))

    with time_machine.travel(datetime.datetime(2027, 6, 21, 2, 0, tzinfo=SHANGHAI), tick=False):
        first = expire_certificates.delay()
        second = expire_certificates.delay()
        client.force_login(world.secretary)
        page = client.get(reverse("reviews:branch_detail", args=[world.branch.pk])).content.decode()

    assert (first.get(), second.get()) == (1, 0)
    certificate.refresh_from_db()
    still_valid.refresh_from_db()
    assert (certificate.status, still_valid.status) == (CertificateStatus.EXPIRED, CertificateStatus.VALID)
    expiry = StarEvent.objects.get(kind=StarEventKind.EXPIRY)
    assert (expiry.branch, expiry.from_stars, expiry.to_stars, expiry.actor) == (world.branch, 4, None, None)
    assert "Unrated" in page
    # A recorded job like the others: each run leaves a JobRun for the job list.
    runs = JobRun.objects.filter(task_name="reports.tasks.expire_certificates").order_by("pk")
    assert [(run.status, run.attempt, run.error) for run in runs] == [(JobStatus.SUCCEEDED, 1, "")] * 2


@pytest.mark.django_db
def test_a_lapsed_certificate_shows_as_unrated_before_the_task_runs(client, certificate, world):
    with time_machine.travel(datetime.datetime(2027, 7, 1, tzinfo=SHANGHAI), tick=False):
        client.force_login(world.secretary)  # inside: sessions expire after hours
        page = client.get(reverse("reviews:branch_detail", args=[world.branch.pk])).content.decode()

    assert "Unrated" in page


# --- The branch page -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_branch_timeline_shows_every_change_newest_first(client, certificate, world):
    with time_machine.travel(LATER, tick=False):
        downgrade_branch(
            branch=world.branch, actor=world.approver, to_stars=3, reason="整改不到位", violation="违规1"
        )
    with time_machine.travel(datetime.datetime(2026, 9, 1, tzinfo=SHANGHAI), tick=False):
        downgrade_branch(
            branch=world.branch, actor=world.approver, to_stars=2, reason="再次违纪", violation="违规2"
        )
    with time_machine.travel(datetime.datetime(2027, 6, 21, 2, 0, tzinfo=SHANGHAI), tick=False):
        expire_certificates.delay()
        client.force_login(world.secretary)
        page = client.get(reverse("reviews:branch_detail", args=[world.branch.pk])).content.decode()

    positions = [
        page.index(marker) for marker in ('data-kind="expiry"', "违规2", "违规1", 'data-kind="certification"')
    ]
    assert positions == sorted(positions)
    # The star history's events (the timeline below it holds the rectification tasks they opened).
    assert page.split('id="branch-timeline"')[0].count('class="timeline-event"') == 4
    assert "2026-03-01 09:30" in page
    assert "2025—2026年度星级认定" in page  # the certifying cycle


@pytest.mark.django_db
def test_the_branch_page_shows_level_stage_and_validity(client, certificate, world):
    client.force_login(world.secretary)

    with time_machine.travel(LATER, tick=False):
        page = client.get(reverse("reviews:branch_detail", args=[world.branch.pk])).content.decode()

    assert "4 stars" in page
    assert "Basic" in page  # the branch's stage
    assert "2027-06-20" in page
    assert certificate.verification_code in page
    assert "Lower the star level" not in page  # a secretary only reads


@pytest.mark.django_db
def test_the_approver_sees_the_downgrade_and_revoke_buttons(client, certificate, world):
    client.force_login(world.approver)

    with time_machine.travel(LATER, tick=False):
        page = client.get(reverse("reviews:branch_detail", args=[world.branch.pk])).content.decode()

    assert reverse("reviews:branch_downgrade", args=[world.branch.pk]) in page
    assert reverse("reviews:branch_revoke", args=[world.branch.pk]) in page


@pytest.mark.django_db
def test_the_branch_page_is_404_outside_scope_and_for_other_organizations(client, world):
    client.force_login(world.other_approver)
    assert client.get(reverse("reviews:branch_detail", args=[world.branch.pk])).status_code == 404
    client.force_login(world.secretary)
    assert client.get(reverse("reviews:branch_detail", args=[world.sibling_branch.pk])).status_code == 404
    client.force_login(world.approver)
    assert client.get(reverse("reviews:branch_detail", args=[world.party_committee.pk])).status_code == 404


# --- Admin ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_shows_workflow_rows_read_only(client, certificate, world):
    root = User.objects.create_superuser("root", password="x-unused-x")
    client.force_login(root)

    assert client.get(reverse("admin:reviews_certificate_changelist")).status_code == 200
    assert client.get(reverse("admin:reviews_certificate_change", args=[certificate.pk])).status_code == 200
    assert client.get(reverse("admin:reviews_certificate_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:reviews_certificate_delete", args=[certificate.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    for name in ("cycle", "assessment", "assessmentevent", "starevent", "objection"):
        assert client.get(reverse(f"admin:reviews_{name}_changelist")).status_code == 200
    assert Certificate.objects.filter(pk=certificate.pk).exists()


@pytest.mark.django_db
def test_the_admin_shows_staff_only_their_scope(client, certificate, cycle, world):
    from django.contrib.auth.models import Permission

    staff = make_user("sunhua", "孙华", roles=((Role.STAFF, world.party_committee),), is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_certificate"))
    other_cycle = open_default_cycle(world.other_committee, world.other_approver, standard=cycle.standard)
    hidden = certify(other_cycle, world.other_branch, 5, None)
    client.force_login(staff)

    page = client.get(reverse("admin:reviews_certificate_changelist")).content.decode()

    assert certificate.verification_code in page
    assert hidden.verification_code not in page
