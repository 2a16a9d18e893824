"""Quarterly notices (季度通知): who is told what, idempotency, e-mail, the notices page, the nav badge.

The world on 2025-04-01, the first day of Q2, every step through the real services:

    市直机关工委 (C1) ── 市教育局机关党委 (P1) ── 教育局第一党支部 (B1): forwarded, reviewer1 and reviewer2 assigned
                     │                          └─ 教育局第二党支部 (B2): submitted; its ★5 certificate of
                     │                                                   2023 runs out on 2025-04-15
                     └─ 工委机关党支部 (B3): not started; its 2023 certificate was revoked
    区直机关工委 (C2) ── 区第一党支部 (D1)

B1 also holds a certificate of 2023 that runs out in August (Q3): not this quarter's news.
"""

import datetime
import smtplib
import threading
import time
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import Organization, OrgKind, User
from branches.roles import Role
from branches.services.organizations import create_organization
from reports.context_processors import unread_notices
from reports.models import Notice, NoticeKind
from reports.quarters import quarter_days, quarter_of
from reports.services.notices import send_quarterly_notices
from reviews.models import Certificate, CertificateStatus
from reviews.services.decision import revoke_branch
from scoring.models import Standard, StandardStatus
from tests.reports.test_branch_reports import (
    certify,
    forward_and_assign,
    make_user,
    new_cycle,
    standard_items,
    submit_full_marks,
)

pytestmark = pytest.mark.usefixtures("english")

SHANGHAI = ZoneInfo("Asia/Shanghai")
Q2_START = datetime.datetime(2025, 4, 1, 9, 0, tzinfo=SHANGHAI)
CERTIFIED_2023 = datetime.datetime(2023, 4, 10, 9, 0, tzinfo=SHANGHAI)
EXPIRY_DAY = datetime.date(2025, 4, 15)  # B2: certified 2023-04-15 for 24 months


class BrokenBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("the mail server went away")


class RefusingBackend(LocmemBackend):
    """The test outbox, behind a server that refuses one address."""

    def send_messages(self, messages):
        for message in messages:
            if "reviewer3@example.cn" in message.to:
                raise smtplib.SMTPRecipientsRefused({"reviewer3@example.cn": (550, b"no such user")})
        return super().send_messages(messages)


class FailingAfterTwoBackend(LocmemBackend):
    """The test outbox, behind a server that goes away after two messages."""

    sent = 0

    def send_messages(self, messages):
        if FailingAfterTwoBackend.sent >= 2:
            raise smtplib.SMTPServerDisconnected("the mail server went away")
        FailingAfterTwoBackend.sent += len(messages)
        return super().send_messages(messages)


class SlowBackend(LocmemBackend):
    """The test outbox, slow enough that concurrent runs overlap while one is sending."""

    def send_messages(self, messages):
        time.sleep(0.3)
        return super().send_messages(messages)


@dataclass
class World:
    tree: dict[str, Organization]
    people: dict[str, User]


@pytest.fixture(autouse=True)
def _site(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "https://dangjian.example.cn"
    settings.DEFAULT_FROM_EMAIL = "dangjian@example.cn"
    # Notices are written in the site's language; English keeps these tests independent of
    # the catalogue (one test below checks the site language is the one used).
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def world(db) -> World:
    standard = Standard.objects.get(status=StandardStatus.PUBLISHED)
    items = standard_items(standard)
    c1 = create_organization(name="市直机关工委", code="C1", kind=OrgKind.COMMITTEE)
    p1 = create_organization(name="市教育局机关党委", code="P1", kind=OrgKind.PARTY_COMMITTEE, parent=c1)
    b1 = create_organization(name="教育局第一党支部", code="B1", kind=OrgKind.BRANCH, parent=p1)
    b2 = create_organization(name="教育局第二党支部", code="B2", kind=OrgKind.BRANCH, parent=p1)
    b3 = create_organization(name="工委机关党支部", code="B3", kind=OrgKind.BRANCH, parent=c1)
    c2 = create_organization(name="区直机关工委", code="C2", kind=OrgKind.COMMITTEE)
    d1 = create_organization(name="区第一党支部", code="D1", kind=OrgKind.BRANCH, parent=c2)
    tree = {o.code: o for o in (c1, p1, b1, b2, b3, c2, d1)}
    people = {
        "approver": make_user("approver", "周审批", (Role.COMMITTEE_APPROVER, c1), email="zhou@example.cn"),
        "parent": make_user("parent", "陈初审", (Role.PARENT_REVIEWER, p1), email="chen@example.cn"),
        "secretary1": make_user("secretary1", "张伟", (Role.BRANCH_SECRETARY, b1), email="zhang@example.cn"),
        "secretary2": make_user("secretary2", "刘洋", (Role.BRANCH_SECRETARY, b2), email="liu@example.cn"),
        # Secretary of B3 and on the assessment team; has no e-mail address.
        "double": make_user("double", "孙双", (Role.BRANCH_SECRETARY, b3), (Role.ASSESSMENT_REVIEWER, c1)),
        "other_secretary": make_user(
            "other_secretary", "郑区", (Role.BRANCH_SECRETARY, d1), email="zheng@example.cn"
        ),
    }
    for n, name in enumerate(["李明", "王芳", "赵强"], start=1):
        people[f"reviewer{n}"] = make_user(
            f"reviewer{n}", name, (Role.ASSESSMENT_REVIEWER, c1), email=f"reviewer{n}@example.cn"
        )
    reviewers = [people[f"reviewer{n}"] for n in (1, 2, 3)]
    secretaries = {b1.pk: people["secretary1"], b2.pk: people["secretary2"], b3.pk: people["double"]}
    # B3 stands directly under the committee, where no parent reviewer can be; an
    # administrator does its preliminary review, as in the demo.
    admin = User.objects.create_superuser("admin", password="x-unused-x")
    common = {"parent": admin, "approver": people["approver"], "reviewers": reviewers, "items": items}

    # 2023: two cycles certify B2 and B3 for 24 months and B1 for 28, so only B2's and B3's
    # certificates end in 2025 Q2; then B3's is revoked.
    with time_machine.travel(CERTIFIED_2023, tick=False):
        short = new_cycle(c1, people["approver"], standard, name="2023年度星级认定")
        certify(short, list(short.assessments.exclude(branch=b1)), secretary=secretaries, **common)
        long = new_cycle(
            c1, people["approver"], standard, name="2023年度星级认定（补充）", validity_months=28
        )
        certify(long, [long.assessments.get(branch=b1)], secretary=secretaries, **common)
        revoke_branch(branch=b3, actor=people["approver"], reason="严重违纪", violation="违反组织纪律")

    with time_machine.travel(datetime.datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        current = new_cycle(c1, people["approver"], standard)
        forward_and_assign(
            current.assessments.get(branch=b1),
            secretary=people["secretary1"],
            reviewers=reviewers[:2],
            parent=people["parent"],
            approver=people["approver"],
            items=items,
        )
        submit_full_marks(current.assessments.get(branch=b2), people["secretary2"], items)
        new_cycle(c2, make_user("c2_approver", "", (Role.COMMITTEE_APPROVER, c2)), standard)
    return World(tree=tree, people=people)


def send(world, year=2025, quarter=2, committee="C1") -> int:
    with time_machine.travel(Q2_START, tick=False):
        return send_quarterly_notices(committee_id=world.tree[committee].pk, year=year, quarter=quarter)


def notice_of(user, kind=NoticeKind.QUARTERLY) -> Notice:
    return Notice.objects.get(recipient=user, kind=kind)


# ---------------------------------------------------------------------------- the world is as drawn


def test_the_world_has_the_certificates_as_drawn(world):
    b2 = Certificate.objects.get(branch=world.tree["B2"])
    assert (b2.status, b2.valid_until) == (CertificateStatus.VALID, EXPIRY_DAY)
    assert Certificate.objects.get(branch=world.tree["B1"]).valid_until == datetime.date(2025, 8, 15)
    assert Certificate.objects.get(branch=world.tree["B3"]).status == CertificateStatus.REVOKED


# ---------------------------------------------------------------------------- quarters


def test_quarters_have_their_first_and_last_days():
    assert quarter_days(2025, 1) == (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))
    assert quarter_days(2024, 1)[1] == datetime.date(2024, 3, 31)
    assert quarter_days(2025, 4) == (datetime.date(2025, 10, 1), datetime.date(2025, 12, 31))
    assert quarter_of(datetime.date(2025, 4, 1)) == (2025, 2)
    assert quarter_of(datetime.date(2025, 12, 31)) == (2025, 4)


@pytest.mark.parametrize(("year", "quarter"), [(2025, 0), (2025, 5), (1999, 1), (2025, "2")])
def test_a_quarter_that_does_not_exist_is_refused(world, year, quarter):
    with pytest.raises(ValidationError, match="Choose a quarter"):
        send_quarterly_notices(committee_id=world.tree["C1"].pk, year=year, quarter=quarter)
    assert not Notice.objects.exists()


def test_only_a_working_committee_sends_notices(world):
    with pytest.raises(Organization.DoesNotExist):
        send_quarterly_notices(committee_id=world.tree["P1"].pk, year=2025, quarter=2)


# ---------------------------------------------------------------------------- who is told what


def test_each_person_with_a_role_in_the_committee_gets_one_quarterly_notice(world):
    created = send(world)

    quarterly = set(
        Notice.objects.filter(kind=NoticeKind.QUARTERLY).values_list("recipient__username", flat=True)
    )
    assert quarterly == {
        "parent",
        "secretary1",
        "secretary2",
        "double",
        "reviewer1",
        "reviewer2",
        "reviewer3",
    }
    assert set(
        Notice.objects.filter(kind=NoticeKind.EXPIRY).values_list("recipient__username", flat=True)
    ) == {"secretary2"}
    assert created == 8
    notice = notice_of(world.people["parent"])
    assert (notice.committee, notice.year, notice.quarter) == (world.tree["C1"], 2025, 2)
    assert notice.title == "市直机关工委: work notice for Q2 2025"


def test_a_secretary_is_told_the_status_what_is_left_and_the_deadline(world):
    send(world)

    body = notice_of(world.people["double"]).body
    assert body.startswith("Dear 孙双,")
    assert "工委机关党支部 — 2025—2026年度星级认定" in body
    assert "Status: Not started" in body
    assert "To do: score every item, attach the evidence and submit." in body
    assert "Self-assessment deadline: March 31, 2025 (passed)" in body


def test_a_secretary_whose_branch_has_submitted_is_told_it_waits(world):
    send(world)

    notice = notice_of(world.people["secretary2"])
    assert "教育局第二党支部" in notice.body
    assert "Nothing to do now: the preliminary review comes next." in notice.body
    assert "Self-assessment deadline: March 31, 2025" in notice.body
    assert "(passed)" not in notice.body  # nothing is left to do before it
    assessment = world.tree["B2"].assessments.get(cycle__name="2025—2026年度星级认定")
    assert notice.links == [
        {
            "label": "Self-assessment of 教育局第二党支部",
            "url": reverse("reviews:self_assessment", args=[assessment.pk]),
        }
    ]


def test_a_parent_reviewer_is_told_how_many_submissions_wait(world):
    send(world)

    notice = notice_of(world.people["parent"])
    assert "市教育局机关党委 — 2025—2026年度星级认定" in notice.body
    assert "1 submission waits for your preliminary review." in notice.body
    assert "Preliminary review deadline: April 30, 2025" in notice.body
    assert notice.links == [
        {"label": "Preliminary review queue", "url": reverse("reviews:preliminary_queue")}
    ]


def test_a_team_reviewer_is_told_the_assignments_still_to_score(world):
    send(world)

    notice = notice_of(world.people["reviewer1"])
    assert "1 assigned assessment waits for your scores." in notice.body
    assert "Scoring deadline: May 31, 2025" in notice.body
    assert notice.links == [{"label": "My scoring assignments", "url": reverse("reviews:my_assignments")}]
    idle = notice_of(world.people["reviewer3"])
    assert "No assigned assessment is waiting for your scores at present." in idle.body


def test_someone_with_two_roles_gets_one_notice_with_both_parts(world):
    send(world)

    notice = notice_of(world.people["double"])
    assert "工委机关党支部" in notice.body and "Assessment team — 2025—2026年度星级认定" in notice.body
    assert [link["url"] for link in notice.links][1:] == [reverse("reviews:my_assignments")]


def test_nobody_outside_the_committee_and_no_approver_is_notified(world):
    send(world)

    assert not Notice.objects.filter(recipient=world.people["other_secretary"]).exists()
    assert not Notice.objects.filter(recipient=world.people["approver"]).exists()


def test_an_inactive_user_is_not_notified(world):
    User.objects.filter(pk=world.people["reviewer3"].pk).update(is_active=False)

    send(world)

    assert not Notice.objects.filter(recipient=world.people["reviewer3"]).exists()


def test_without_an_open_cycle_only_expiring_certificates_are_announced(world):
    send(world, year=2025, quarter=2, committee="C2")
    # C2 has an open cycle: its secretary is told; C1's people are not touched by C2's run.
    assert set(Notice.objects.values_list("recipient__username", flat=True)) == {"other_secretary"}

    world.tree["C1"].cycles.update(status="certified")
    send(world)
    assert set(
        Notice.objects.filter(committee=world.tree["C1"]).values_list("kind", "recipient__username")
    ) == {(NoticeKind.EXPIRY, "secretary2")}


def test_notices_are_written_in_the_site_language_whatever_language_is_active(world, settings):
    settings.LANGUAGE_CODE = "zh-hans"

    send(world)

    assert "未开始" in notice_of(world.people["double"]).body  # "Not started", translated


# ---------------------------------------------------------------------------- expiring certificates


def test_a_certificate_running_out_this_quarter_is_announced_to_its_branch(world):
    send(world)

    notice = notice_of(world.people["secretary2"], NoticeKind.EXPIRY)
    assert notice.title == "市直机关工委: star certificates expiring in Q2 2025"
    assert "教育局第二党支部: the 5-star certificate is valid until April 15, 2025." in notice.body
    certificate = Certificate.objects.get(branch=world.tree["B2"])
    assert {
        "label": "Certificate of 教育局第二党支部 (PDF)",
        "url": reverse("reports:certificate_pdf", args=[certificate.pk]),
    } in notice.links
    assert {
        "label": "Star history of 教育局第二党支部",
        "url": reverse("reviews:branch_detail", args=[world.tree["B2"].pk]),
    } in notice.links


def test_certificates_running_out_later_or_revoked_are_not_announced(world):
    send(world)

    assert not Notice.objects.filter(recipient=world.people["secretary1"], kind=NoticeKind.EXPIRY).exists()
    assert not Notice.objects.filter(recipient=world.people["double"], kind=NoticeKind.EXPIRY).exists()


def test_next_quarter_announces_the_certificate_running_out_then(world):
    with time_machine.travel(datetime.datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        send_quarterly_notices(committee_id=world.tree["C1"].pk, year=2025, quarter=3)

    notice = notice_of(world.people["secretary1"], NoticeKind.EXPIRY)
    assert "教育局第一党支部: the 5-star certificate is valid until Aug. 15, 2025." in notice.body


# ---------------------------------------------------------------------------- idempotency and e-mail


def test_running_twice_creates_nothing_more_and_sends_no_second_email(world, mailoutbox):
    first = send(world)
    after_first = list(Notice.objects.order_by("pk").values_list("pk", "title", "body"))
    mails = len(mailoutbox)

    second = send(world)

    assert (first, second) == (8, 0)
    assert list(Notice.objects.order_by("pk").values_list("pk", "title", "body")) == after_first
    assert len(mailoutbox) == mails == 7  # eight notices, one to 孙双 who has no address
    assert Counter(address for mail in mailoutbox for address in mail.to) == {
        "chen@example.cn": 1,
        "zhang@example.cn": 1,
        "liu@example.cn": 2,  # the quarterly notice and the expiry notice
        "reviewer1@example.cn": 1,
        "reviewer2@example.cn": 1,
        "reviewer3@example.cn": 1,
    }


def test_a_notice_already_there_is_left_as_it_is(world, mailoutbox):
    send(world)
    Notice.objects.filter(recipient=world.people["parent"]).update(body="已编辑", read_at=timezone.now())

    send(world)

    notice = notice_of(world.people["parent"])
    assert notice.body == "已编辑" and notice.read_at is not None


def test_emailed_notices_are_stamped_and_those_without_an_address_are_not(world, mailoutbox):
    send(world)

    assert notice_of(world.people["parent"]).emailed_at == Q2_START
    assert notice_of(world.people["double"]).emailed_at is None


def test_the_email_is_plain_text_from_the_site_address_with_full_links(world, mailoutbox):
    send(world)

    notice = notice_of(world.people["parent"])
    mail = next(m for m in mailoutbox if m.to == ["chen@example.cn"])
    assert mail.from_email == "dangjian@example.cn"
    assert mail.subject == notice.title
    assert mail.content_subtype == "plain" and not getattr(mail, "alternatives", None)
    assert notice.body in mail.body
    assert "Preliminary review queue: https://dangjian.example.cn/preliminary/" in mail.body
    assert f"https://dangjian.example.cn{reverse('reports:notice_detail', args=[notice.pk])}" in mail.body


def test_a_failing_mail_server_leaves_the_notices_to_be_mailed_by_the_next_run(world, settings, mailoutbox):
    settings.EMAIL_BACKEND = "tests.reports.test_notices.BrokenBackend"
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send(world)
    assert Notice.objects.count() == 8
    assert not Notice.objects.filter(emailed_at__isnull=False).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send(world) == 0

    assert len(mailoutbox) == 7
    assert Notice.objects.filter(emailed_at__isnull=False).count() == 7


def test_an_address_the_server_refuses_does_not_stop_the_others(world, settings, mailoutbox, caplog):
    settings.EMAIL_BACKEND = "tests.reports.test_notices.RefusingBackend"

    send(world)

    assert len(mailoutbox) == 6
    assert notice_of(world.people["reviewer3"]).emailed_at is None
    assert notice_of(world.people["reviewer2"]).emailed_at is not None
    assert any("refused its address" in record.getMessage() for record in caplog.records)


def test_a_server_failing_mid_run_keeps_what_went_out_and_the_next_run_sends_the_rest(
    world, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.reports.test_notices.FailingAfterTwoBackend"
    FailingAfterTwoBackend.sent = 0
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send(world)
    assert len(mailoutbox) == 2
    assert Notice.objects.filter(emailed_at__isnull=False).count() == 2

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    send(world)

    assert len(mailoutbox) == 7
    assert len({(tuple(mail.to), mail.subject) for mail in mailoutbox}) == 7  # nobody got one twice


def _committee_with(n_branches: int, prefix: str, standard) -> Organization:
    committee = create_organization(name=f"{prefix}工委", code=f"{prefix}C", kind=OrgKind.COMMITTEE)
    parent = create_organization(
        name=f"{prefix}党委", code=f"{prefix}P", kind=OrgKind.PARTY_COMMITTEE, parent=committee
    )
    approver = make_user(f"{prefix}approver", "", (Role.COMMITTEE_APPROVER, committee))
    make_user(f"{prefix}parent", "", (Role.PARENT_REVIEWER, parent), email=f"{prefix}p@example.cn")
    for n in range(n_branches):
        branch = create_organization(
            name=f"{prefix}支部{n}", code=f"{prefix}B{n}", kind=OrgKind.BRANCH, parent=parent
        )
        make_user(f"{prefix}s{n}", "", (Role.BRANCH_SECRETARY, branch), email=f"{prefix}s{n}@example.cn")
        make_user(
            f"{prefix}r{n}", "", (Role.ASSESSMENT_REVIEWER, committee), email=f"{prefix}r{n}@example.cn"
        )
    new_cycle(committee, approver, standard)
    return committee


def test_the_number_of_queries_does_not_grow_with_the_number_of_people(db, mailoutbox):
    standard = Standard.objects.get(status=StandardStatus.PUBLISHED)
    small = _committee_with(2, "S", standard)
    large = _committee_with(12, "L", standard)

    counts = []
    for committee in (small, large):
        with CaptureQueriesContext(connection) as queries:
            send_quarterly_notices(committee_id=committee.pk, year=2025, quarter=2)
        counts.append(len(queries.captured_queries))

    assert counts[0] == counts[1]
    assert counts[0] <= 20
    assert Notice.objects.filter(committee=large).count() == 1 + 12 + 12


@pytest.mark.django_db(transaction=True)
def test_four_runs_at_once_write_each_notice_once_and_mail_it_once(settings, mailoutbox):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers; the race needs row locks")
    settings.EMAIL_BACKEND = "tests.reports.test_notices.SlowBackend"
    committee = _committee_with(5, "R", Standard.objects.get(status=StandardStatus.PUBLISHED))
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            send_quarterly_notices(committee_id=committee.pk, year=2025, quarter=2)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Notice.objects.filter(committee=committee).count() == 1 + 5 + 5
    assert Counter(address for mail in mailoutbox for address in mail.to) == dict.fromkeys(
        User.objects.exclude(email="").values_list("email", flat=True), 1
    )
    assert not Notice.objects.filter(emailed_at__isnull=True).exists()


# ---------------------------------------------------------------------------- the notices page


def test_the_notices_page_lists_only_my_notices_newest_first_with_unread_ones_marked(client, world):
    send(world)
    with time_machine.travel(datetime.datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        send_quarterly_notices(committee_id=world.tree["C1"].pk, year=2025, quarter=3)
    mine = list(Notice.objects.filter(recipient=world.people["secretary2"]).order_by("-created_at", "-pk"))
    mine[-1].read_at = timezone.now()
    mine[-1].save()
    client.force_login(world.people["secretary2"])

    page = client.get(reverse("reports:notice_list")).text

    positions = [page.index(reverse("reports:notice_detail", args=[n.pk]) + '"') for n in mine]
    assert positions == sorted(positions)
    assert "Q3 2025" in page and "Q2 2025" in page
    assert page.count("notice-unread") == len(mine) - 1
    others = Notice.objects.exclude(recipient=world.people["secretary2"])
    for notice in others:
        assert reverse("reports:notice_detail", args=[notice.pk]) + '"' not in page


def test_the_notices_page_pages_through_many_notices(client, world):
    user = world.people["reviewer3"]
    Notice.objects.bulk_create(
        Notice(
            recipient=user,
            committee=world.tree["C1"],
            year=2000 + n,
            quarter=1,
            kind="quarterly",
            title=f"通知{n}",
            body="",
        )
        for n in range(25)
    )
    client.force_login(user)

    first = client.get(reverse("reports:notice_list"))
    second = client.get(reverse("reports:notice_list"), {"page": 2})

    assert len(first.context["page"].object_list) == 20
    assert len(second.context["page"].object_list) == 5


def test_opening_a_notice_shows_it_and_marks_it_read_once(client, world):
    send(world)
    notice = notice_of(world.people["parent"])
    client.force_login(world.people["parent"])

    with time_machine.travel(datetime.datetime(2025, 4, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        response = client.get(reverse("reports:notice_detail", args=[notice.pk]))
    with time_machine.travel(datetime.datetime(2025, 4, 3, 10, 0, tzinfo=SHANGHAI), tick=False):
        client.get(reverse("reports:notice_detail", args=[notice.pk]))

    assert response.status_code == 200
    assert "1 submission waits for your preliminary review." in response.text
    assert f'href="{reverse("reviews:preliminary_queue")}"' in response.text
    notice.refresh_from_db()
    assert notice.read_at == datetime.datetime(2025, 4, 2, 10, 0, tzinfo=SHANGHAI)


def test_another_persons_notice_is_404_and_stays_unread(client, world):
    send(world)
    notice = notice_of(world.people["parent"])
    client.force_login(world.people["secretary1"])

    assert client.get(reverse("reports:notice_detail", args=[notice.pk])).status_code == 404
    assert client.get(reverse("reports:notice_detail", args=[999999])).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_a_link_that_is_not_a_site_path_is_not_shown(client, world):
    user = world.people["reviewer3"]
    notice = Notice.objects.create(
        recipient=user,
        committee=world.tree["C1"],
        year=2025,
        quarter=1,
        kind="quarterly",
        title="测试",
        body="",
        links=[
            {"label": "bad", "url": "javascript:alert(1)"},
            {"label": "far", "url": "//evil.example/"},
            {"label": "good", "url": "/scoring/"},
        ],
    )
    client.force_login(user)

    page = client.get(reverse("reports:notice_detail", args=[notice.pk])).text

    assert "javascript:alert" not in page and "evil.example" not in page
    assert 'href="/scoring/"' in page


def test_mark_all_read_marks_only_my_notices(client, world):
    send(world)
    client.force_login(world.people["secretary2"])

    assert client.get(reverse("reports:notice_mark_all_read")).status_code == 405
    response = client.post(reverse("reports:notice_mark_all_read"))

    assert response.status_code == 302 and response["Location"] == reverse("reports:notice_list")
    assert not Notice.objects.filter(recipient=world.people["secretary2"], read_at__isnull=True).exists()
    assert (
        Notice.objects.exclude(recipient=world.people["secretary2"]).filter(read_at__isnull=True).count() == 6
    )


def test_the_notices_pages_need_a_sign_in(client, world):
    for url in (reverse("reports:notice_list"), reverse("reports:notice_detail", args=[1])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------------------- the badge in the navigation


def badge(client) -> str | None:
    page = client.get(reverse("home")).text
    marker = 'id="nav-unread-count">'
    if marker not in page:
        return None
    return page.split(marker, 1)[1].split("<", 1)[0]


def test_the_navigation_shows_the_unread_count_going_down_as_notices_are_read(client, world):
    send(world)
    client.force_login(world.people["secretary2"])
    assert reverse("reports:notice_list") in client.get(reverse("home")).text
    assert badge(client) == "2"

    client.get(reverse("reports:notice_detail", args=[notice_of(world.people["secretary2"]).pk]))
    assert badge(client) == "1"

    client.post(reverse("reports:notice_mark_all_read"))
    assert badge(client) is None


def test_the_unread_count_is_one_query_and_only_when_shown(world):
    send(world)
    request = RequestFactory().get("/")
    request.user = world.people["secretary2"]

    with CaptureQueriesContext(connection) as queries:
        context = unread_notices(request)
    assert len(queries.captured_queries) == 0
    with CaptureQueriesContext(connection) as queries:
        assert int(str(context["unread_notice_count"])) == 2
        assert bool(context["unread_notice_count"])
    assert len(queries.captured_queries) == 1
    assert "COUNT" in queries.captured_queries[0]["sql"].upper()


def test_a_visitor_who_is_not_signed_in_gets_no_count(db):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    with CaptureQueriesContext(connection) as queries:
        assert unread_notices(request) == {}
    assert not queries.captured_queries
