"""Quarterly notices (季度通知): who is told what, idempotency, e-mail, the notices page, the nav badge.

The shared world on 2025-04-01, the first day of Q2, every step through the real services:

    市直机关工委 (C1) ── 市教育局机关党委 (P1) ── 教育局第一党支部 (B1): forwarded, 李明 and 王芳 assigned
                     │                          └─ 教育局第二党支部 (B2): submitted; its ★5 certificate of
                     │                                                   2023 runs out on 2025-04-15
                     ├─ 市卫健委机关党委 (P2) ── 卫健委第一党支部 (B4): not started, nobody to tell
                     └─ 工委机关党支部 (B3): not started; its 2023 certificate was revoked
    区直机关工委 (C2) ── 区第一党支部 (D1)

B1 also holds a certificate of 2023 that runs out in August (Q3): not this quarter's news.
孙双 is B3's secretary and on the assessment team, and has no e-mail address.
"""

import datetime
import smtplib
import threading
import time
from collections import Counter
from dataclasses import dataclass, fields
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

from branches.models import Organization, User
from branches.roles import Role
from reports.context_processors import unread_notices
from reports.models import Notice, NoticeKind
from reports.quarters import quarter_days, quarter_of
from reports.services.notices import send_quarterly_notices
from reviews.models import Certificate, CertificateStatus
from reviews.services.decision import revoke_branch
from tests.factories import (
    World,
    certify,
    default_standard,
    forward_and_assign,
    make_sized_committee,
    make_user,
    open_default_cycle,
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
            if "zhaoqiang@example.cn" in message.to:
                raise smtplib.SMTPRecipientsRefused({"zhaoqiang@example.cn": (550, b"no such user")})
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


@pytest.fixture(autouse=True)
def _site(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "https://dangjian.example.cn"
    settings.DEFAULT_FROM_EMAIL = "dangjian@example.cn"
    # Notices are written in the site's language; English keeps these tests independent of
    # the catalogue (one test below checks the site language is the one used).
    settings.LANGUAGE_CODE = "en"


@dataclass(frozen=True)
class NoticesWorld(World):
    """The shared world with two more people and the history drawn at the top of this file."""

    double: User  # secretary of B3 and on the assessment team; has no e-mail address
    other_secretary: User  # secretary of D1, in the other committee

    @property
    def people(self) -> dict[str, User]:
        return {**super().people, "double": self.double, "other_secretary": self.other_secretary}


@pytest.fixture
def notices_world(world) -> NoticesWorld:
    standard = default_standard()
    items = standard_items(standard)
    double = make_user(
        "sunshuang",
        "孙双",
        roles=(
            (Role.BRANCH_SECRETARY, world.branch_under_committee),
            (Role.ASSESSMENT_REVIEWER, world.committee),
        ),
    )
    other_secretary = make_user(
        "zhengqu", "郑区", roles=((Role.BRANCH_SECRETARY, world.other_branch),), email="zhengqu@example.cn"
    )
    reviewers = list(world.reviewers)
    secretaries = {
        world.branch.pk: world.secretary,
        world.sibling_branch.pk: world.sibling_secretary,
        world.branch_under_committee.pk: double,
    }
    # B3 stands directly under the committee, where no parent reviewer can be; an
    # administrator does its preliminary review, as in the demo.
    admin = User.objects.create_superuser("admin", password=None)
    common = {"parent": admin, "approver": world.approver, "reviewers": reviewers, "items": items}

    # 2023: two cycles certify B2 and B3 for 24 months and B1 for 28, so only B2's and B3's
    # certificates end in 2025 Q2; then B3's is revoked.
    with time_machine.travel(CERTIFIED_2023, tick=False):
        short = open_default_cycle(
            world.committee, world.approver, standard=standard, name="2023年度星级认定"
        )
        certify(
            short,
            list(short.assessments.filter(branch__in=[world.sibling_branch, world.branch_under_committee])),
            secretary=secretaries,
            **common,
        )
        long = open_default_cycle(
            world.committee,
            world.approver,
            standard=standard,
            name="2023年度星级认定（补充）",
            validity_months=28,
        )
        certify(long, [long.assessments.get(branch=world.branch)], secretary=secretaries, **common)
        revoke_branch(
            branch=world.branch_under_committee,
            actor=world.approver,
            reason="严重违纪",
            violation="违反组织纪律",
        )

    with time_machine.travel(datetime.datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        current = open_default_cycle(world.committee, world.approver, standard=standard)
        forward_and_assign(
            current.assessments.get(branch=world.branch),
            secretary=world.secretary,
            reviewers=reviewers[:2],
            parent=world.parent_reviewer,
            approver=world.approver,
            items=items,
        )
        submit_full_marks(
            current.assessments.get(branch=world.sibling_branch), world.sibling_secretary, items
        )
        open_default_cycle(world.other_committee, world.other_approver, standard=standard)
    shared = {field.name: getattr(world, field.name) for field in fields(World)}
    return NoticesWorld(**shared, double=double, other_secretary=other_secretary)


def send(world, year=2025, quarter=2, committee="C1") -> int:
    with time_machine.travel(Q2_START, tick=False):
        return send_quarterly_notices(
            committee_id=world.organizations[committee].pk, year=year, quarter=quarter
        )


def notice_of(user, kind=NoticeKind.QUARTERLY) -> Notice:
    return Notice.objects.get(recipient=user, kind=kind)


# ---------------------------------------------------------------------------- the world is as drawn


def test_the_world_has_the_certificates_as_drawn(notices_world):
    b2 = Certificate.objects.get(branch=notices_world.sibling_branch)
    assert (b2.status, b2.valid_until) == (CertificateStatus.VALID, EXPIRY_DAY)
    assert Certificate.objects.get(branch=notices_world.branch).valid_until == datetime.date(2025, 8, 15)
    assert (
        Certificate.objects.get(branch=notices_world.branch_under_committee).status
        == CertificateStatus.REVOKED
    )


# ---------------------------------------------------------------------------- quarters


def test_quarters_have_their_first_and_last_days():
    assert quarter_days(2025, 1) == (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))
    assert quarter_days(2024, 1)[1] == datetime.date(2024, 3, 31)
    assert quarter_days(2025, 4) == (datetime.date(2025, 10, 1), datetime.date(2025, 12, 31))
    assert quarter_of(datetime.date(2025, 4, 1)) == (2025, 2)
    assert quarter_of(datetime.date(2025, 12, 31)) == (2025, 4)


@pytest.mark.parametrize(("year", "quarter"), [(2025, 0), (2025, 5), (1999, 1), (2025, "2")])
def test_a_quarter_that_does_not_exist_is_refused(notices_world, year, quarter):
    with pytest.raises(ValidationError, match="Choose a quarter"):
        send_quarterly_notices(committee_id=notices_world.committee.pk, year=year, quarter=quarter)
    assert not Notice.objects.exists()


def test_only_a_working_committee_sends_notices(notices_world):
    with pytest.raises(Organization.DoesNotExist):
        send_quarterly_notices(committee_id=notices_world.party_committee.pk, year=2025, quarter=2)


# ---------------------------------------------------------------------------- who is told what


def test_each_person_with_a_role_in_the_committee_gets_one_quarterly_notice(notices_world):
    created = send(notices_world)

    quarterly = set(
        Notice.objects.filter(kind=NoticeKind.QUARTERLY).values_list("recipient__username", flat=True)
    )
    assert quarterly == {
        "chenchushen",
        "zhangwei",
        "liuyang",
        "sunshuang",
        "liming",
        "wangfang",
        "zhaoqiang",
    }
    assert set(
        Notice.objects.filter(kind=NoticeKind.EXPIRY).values_list("recipient__username", flat=True)
    ) == {"liuyang"}
    assert created == 8
    notice = notice_of(notices_world.parent_reviewer)
    assert (notice.committee, notice.year, notice.quarter) == (notices_world.committee, 2025, 2)
    assert notice.title == "市直机关工委: work notice for Q2 2025"


def test_a_secretary_is_told_the_status_what_is_left_and_the_deadline(notices_world):
    send(notices_world)

    body = notice_of(notices_world.double).body
    assert body.startswith("Dear 孙双,")
    assert "工委机关党支部 — 2025—2026年度星级认定" in body
    assert "Status: Not started" in body
    assert "To do: score every item, attach the evidence and submit." in body
    assert "Self-assessment deadline: March 31, 2025 (passed)" in body


def test_a_secretary_whose_branch_has_submitted_is_told_it_waits(notices_world):
    send(notices_world)

    notice = notice_of(notices_world.sibling_secretary)
    assert "教育局第二党支部" in notice.body
    assert "Nothing to do now: the preliminary review comes next." in notice.body
    assert "Self-assessment deadline: March 31, 2025" in notice.body
    assert "(passed)" not in notice.body  # nothing is left to do before it
    assessment = notices_world.sibling_branch.assessments.get(cycle__name="2025—2026年度星级认定")
    assert notice.links == [
        {
            "label": "Self-assessment of 教育局第二党支部",
            "url": reverse("reviews:self_assessment", args=[assessment.pk]),
        }
    ]


def test_a_parent_reviewer_is_told_how_many_submissions_wait(notices_world):
    send(notices_world)

    notice = notice_of(notices_world.parent_reviewer)
    assert "市教育局机关党委 — 2025—2026年度星级认定" in notice.body
    assert "1 submission waits for your preliminary review." in notice.body
    assert "Preliminary review deadline: April 30, 2025" in notice.body
    assert notice.links == [
        {"label": "Preliminary review queue", "url": reverse("reviews:preliminary_queue")}
    ]


def test_a_team_reviewer_is_told_the_assignments_still_to_score(notices_world):
    send(notices_world)

    notice = notice_of(notices_world.reviewers[0])
    assert "1 assigned assessment waits for your scores." in notice.body
    assert "Scoring deadline: May 31, 2025" in notice.body
    assert notice.links == [{"label": "My scoring assignments", "url": reverse("reviews:my_assignments")}]
    idle = notice_of(notices_world.reviewers[2])
    assert "No assigned assessment is waiting for your scores at present." in idle.body


def test_someone_with_two_roles_gets_one_notice_with_both_parts(notices_world):
    send(notices_world)

    notice = notice_of(notices_world.double)
    assert "工委机关党支部" in notice.body and "Assessment team — 2025—2026年度星级认定" in notice.body
    assert [link["url"] for link in notice.links][1:] == [reverse("reviews:my_assignments")]


def test_nobody_outside_the_committee_and_no_approver_is_notified(notices_world):
    send(notices_world)

    assert not Notice.objects.filter(recipient=notices_world.other_secretary).exists()
    assert not Notice.objects.filter(recipient=notices_world.approver).exists()


def test_an_inactive_user_is_not_notified(notices_world):
    User.objects.filter(pk=notices_world.reviewers[2].pk).update(is_active=False)

    send(notices_world)

    assert not Notice.objects.filter(recipient=notices_world.reviewers[2]).exists()


def test_without_an_open_cycle_only_expiring_certificates_are_announced(notices_world):
    send(notices_world, year=2025, quarter=2, committee="C2")
    # C2 has an open cycle: its secretary is told; C1's people are not touched by C2's run.
    assert set(Notice.objects.values_list("recipient__username", flat=True)) == {"zhengqu"}

    notices_world.committee.cycles.update(status="certified")
    send(notices_world)
    assert set(
        Notice.objects.filter(committee=notices_world.committee).values_list("kind", "recipient__username")
    ) == {(NoticeKind.EXPIRY, "liuyang")}


def test_notices_are_written_in_the_site_language_whatever_language_is_active(notices_world, settings):
    settings.LANGUAGE_CODE = "zh-hans"

    send(notices_world)

    assert "未开始" in notice_of(notices_world.double).body  # "Not started", translated


# ---------------------------------------------------------------------------- expiring certificates


def test_a_certificate_running_out_this_quarter_is_announced_to_its_branch(notices_world):
    send(notices_world)

    notice = notice_of(notices_world.sibling_secretary, NoticeKind.EXPIRY)
    assert notice.title == "市直机关工委: star certificates expiring in Q2 2025"
    assert "教育局第二党支部: the 5-star certificate is valid until April 15, 2025." in notice.body
    certificate = Certificate.objects.get(branch=notices_world.sibling_branch)
    assert {
        "label": "Certificate of 教育局第二党支部 (PDF)",
        "url": reverse("reports:certificate_pdf", args=[certificate.pk]),
    } in notice.links
    assert {
        "label": "Star history of 教育局第二党支部",
        "url": reverse("reviews:branch_detail", args=[notices_world.sibling_branch.pk]),
    } in notice.links


def test_certificates_running_out_later_or_revoked_are_not_announced(notices_world):
    send(notices_world)

    assert not Notice.objects.filter(recipient=notices_world.secretary, kind=NoticeKind.EXPIRY).exists()
    assert not Notice.objects.filter(recipient=notices_world.double, kind=NoticeKind.EXPIRY).exists()


def test_next_quarter_announces_the_certificate_running_out_then(notices_world):
    with time_machine.travel(datetime.datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        send_quarterly_notices(committee_id=notices_world.committee.pk, year=2025, quarter=3)

    notice = notice_of(notices_world.secretary, NoticeKind.EXPIRY)
    assert "教育局第一党支部: the 5-star certificate is valid until Aug. 15, 2025." in notice.body


# ---------------------------------------------------------------------------- idempotency and e-mail


def test_running_twice_creates_nothing_more_and_sends_no_second_email(notices_world, mailoutbox):
    first = send(notices_world)
    after_first = list(Notice.objects.order_by("pk").values_list("pk", "title", "body"))
    mails = len(mailoutbox)

    second = send(notices_world)

    assert (first, second) == (8, 0)
    assert list(Notice.objects.order_by("pk").values_list("pk", "title", "body")) == after_first
    assert len(mailoutbox) == mails == 7  # eight notices, one to 孙双 who has no address
    assert Counter(address for mail in mailoutbox for address in mail.to) == {
        "chenchushen@example.cn": 1,
        "zhangwei@example.cn": 1,
        "liuyang@example.cn": 2,  # the quarterly notice and the expiry notice
        "liming@example.cn": 1,
        "wangfang@example.cn": 1,
        "zhaoqiang@example.cn": 1,
    }


def test_a_notice_already_there_is_left_as_it_is(notices_world, mailoutbox):
    send(notices_world)
    Notice.objects.filter(recipient=notices_world.parent_reviewer).update(
        body="已编辑", read_at=timezone.now()
    )

    send(notices_world)

    notice = notice_of(notices_world.parent_reviewer)
    assert notice.body == "已编辑" and notice.read_at is not None


def test_emailed_notices_are_stamped_and_those_without_an_address_are_not(notices_world, mailoutbox):
    send(notices_world)

    assert notice_of(notices_world.parent_reviewer).emailed_at == Q2_START
    assert notice_of(notices_world.double).emailed_at is None


def test_the_email_is_plain_text_from_the_site_address_with_full_links(notices_world, mailoutbox):
    send(notices_world)

    notice = notice_of(notices_world.parent_reviewer)
    mail = next(m for m in mailoutbox if m.to == ["chenchushen@example.cn"])
    assert mail.from_email == "dangjian@example.cn"
    assert mail.subject == notice.title
    assert mail.content_subtype == "plain" and not getattr(mail, "alternatives", None)
    assert notice.body in mail.body
    assert "Preliminary review queue: https://dangjian.example.cn/preliminary/" in mail.body
    assert f"https://dangjian.example.cn{reverse('reports:notice_detail', args=[notice.pk])}" in mail.body


def test_a_failing_mail_server_leaves_the_notices_to_be_mailed_by_the_next_run(
    notices_world, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.reports.test_notices.BrokenBackend"
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send(notices_world)
    assert Notice.objects.count() == 8
    assert not Notice.objects.filter(emailed_at__isnull=False).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send(notices_world) == 0

    assert len(mailoutbox) == 7
    assert Notice.objects.filter(emailed_at__isnull=False).count() == 7


def test_an_address_the_server_refuses_does_not_stop_the_others(notices_world, settings, mailoutbox, caplog):
    settings.EMAIL_BACKEND = "tests.reports.test_notices.RefusingBackend"

    send(notices_world)

    assert len(mailoutbox) == 6
    assert notice_of(notices_world.reviewers[2]).emailed_at is None
    assert notice_of(notices_world.reviewers[1]).emailed_at is not None
    assert any("refused its address" in record.getMessage() for record in caplog.records)


def test_a_server_failing_mid_run_keeps_what_went_out_and_the_next_run_sends_the_rest(
    notices_world, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.reports.test_notices.FailingAfterTwoBackend"
    FailingAfterTwoBackend.sent = 0
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send(notices_world)
    assert len(mailoutbox) == 2
    assert Notice.objects.filter(emailed_at__isnull=False).count() == 2

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    send(notices_world)

    assert len(mailoutbox) == 7
    assert len({(tuple(mail.to), mail.subject) for mail in mailoutbox}) == 7  # nobody got one twice


def _committee_with(n_branches: int, prefix: str) -> Organization:
    """A committee with a cycle open, a parent reviewer, and a secretary and a team reviewer per branch."""
    sized = make_sized_committee(prefix, n_branches)
    committee, (parent,) = sized.committee, sized.party_committees
    approver = make_user(f"{prefix}approver", roles=((Role.COMMITTEE_APPROVER, committee),))
    make_user(f"{prefix}parent", roles=((Role.PARENT_REVIEWER, parent),), email=f"{prefix}p@example.cn")
    for n, branch in enumerate(sized.branches):
        make_user(f"{prefix}s{n}", roles=((Role.BRANCH_SECRETARY, branch),), email=f"{prefix}s{n}@example.cn")
        make_user(
            f"{prefix}r{n}", roles=((Role.ASSESSMENT_REVIEWER, committee),), email=f"{prefix}r{n}@example.cn"
        )
    open_default_cycle(committee, approver)
    return committee


def test_the_number_of_queries_does_not_grow_with_the_number_of_people(db, mailoutbox):
    small = _committee_with(2, "S")
    large = _committee_with(12, "L")

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
    committee = _committee_with(5, "R")
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


def test_the_notices_page_lists_only_my_notices_newest_first_with_unread_ones_marked(client, notices_world):
    send(notices_world)
    with time_machine.travel(datetime.datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        send_quarterly_notices(committee_id=notices_world.committee.pk, year=2025, quarter=3)
    mine = list(
        Notice.objects.filter(recipient=notices_world.sibling_secretary).order_by("-created_at", "-pk")
    )
    mine[-1].read_at = timezone.now()
    mine[-1].save()
    client.force_login(notices_world.sibling_secretary)

    page = client.get(reverse("reports:notice_list")).text

    positions = [page.index(reverse("reports:notice_detail", args=[n.pk]) + '"') for n in mine]
    assert positions == sorted(positions)
    assert "Q3 2025" in page and "Q2 2025" in page
    assert page.count("notice-unread") == len(mine) - 1
    others = Notice.objects.exclude(recipient=notices_world.sibling_secretary)
    for notice in others:
        assert reverse("reports:notice_detail", args=[notice.pk]) + '"' not in page


def test_the_notices_page_pages_through_many_notices(client, notices_world):
    user = notices_world.reviewers[2]
    Notice.objects.bulk_create(
        Notice(
            recipient=user,
            committee=notices_world.committee,
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


def test_opening_a_notice_shows_it_and_marks_it_read_once(client, notices_world):
    send(notices_world)
    notice = notice_of(notices_world.parent_reviewer)
    client.force_login(notices_world.parent_reviewer)

    with time_machine.travel(datetime.datetime(2025, 4, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        response = client.get(reverse("reports:notice_detail", args=[notice.pk]))
    with time_machine.travel(datetime.datetime(2025, 4, 3, 10, 0, tzinfo=SHANGHAI), tick=False):
        client.get(reverse("reports:notice_detail", args=[notice.pk]))

    assert response.status_code == 200
    assert "1 submission waits for your preliminary review." in response.text
    assert f'href="{reverse("reviews:preliminary_queue")}"' in response.text
    notice.refresh_from_db()
    assert notice.read_at == datetime.datetime(2025, 4, 2, 10, 0, tzinfo=SHANGHAI)


def test_another_persons_notice_is_404_and_stays_unread(client, notices_world):
    send(notices_world)
    notice = notice_of(notices_world.parent_reviewer)
    client.force_login(notices_world.secretary)

    assert client.get(reverse("reports:notice_detail", args=[notice.pk])).status_code == 404
    assert client.get(reverse("reports:notice_detail", args=[999999])).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_a_link_that_is_not_a_site_path_is_not_shown(client, notices_world):
    user = notices_world.reviewers[2]
    notice = Notice.objects.create(
        recipient=user,
        committee=notices_world.committee,
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


def test_mark_all_read_marks_only_my_notices(client, notices_world):
    send(notices_world)
    client.force_login(notices_world.sibling_secretary)

    assert client.get(reverse("reports:notice_mark_all_read")).status_code == 405
    response = client.post(reverse("reports:notice_mark_all_read"))

    assert response.status_code == 302 and response["Location"] == reverse("reports:notice_list")
    assert not Notice.objects.filter(recipient=notices_world.sibling_secretary, read_at__isnull=True).exists()
    assert (
        Notice.objects.exclude(recipient=notices_world.sibling_secretary).filter(read_at__isnull=True).count()
        == 6
    )


def test_the_notices_pages_need_a_sign_in(client, notices_world):
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


def test_the_navigation_shows_the_unread_count_going_down_as_notices_are_read(client, notices_world):
    send(notices_world)
    client.force_login(notices_world.sibling_secretary)
    assert reverse("reports:notice_list") in client.get(reverse("home")).text
    assert badge(client) == "2"

    client.get(reverse("reports:notice_detail", args=[notice_of(notices_world.sibling_secretary).pk]))
    assert badge(client) == "1"

    client.post(reverse("reports:notice_mark_all_read"))
    assert badge(client) is None


def test_the_unread_count_is_one_query_and_only_when_shown(notices_world):
    send(notices_world)
    request = RequestFactory().get("/")
    request.user = notices_world.sibling_secretary

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
