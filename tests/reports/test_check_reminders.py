"""Reminders of the quarterly check rounds: who still has work gets a notice and an e-mail, once.

The check world of tests/checks/helpers.py: P1 (A, B, C) reviewed by k_p1, P2 (D, E, F) by
k_p2; the 2025 Q4 round has the default deadlines — self-reports by 2025-12-31, scores by
2026-01-15 — so reminders of the self-report start on 12-28 and of the scores on 01-12, and the
overdue one comes on 01-16.
"""

import datetime

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.roles import Role
from checks.models import CheckSheet
from checks.selectors import check_items
from checks.services.rounds import open_check_round, publish_check_round, save_self_report
from reports.models import JobRun, JobStatus, Notice, NoticeKind
from reports.services.reminders import reminder_kinds, send_check_reminders
from reports.tasks import check_round_reminders, send_check_reminders_task
from tests.checks.helpers import build_check_world, score_sheet
from tests.factories import make_branch, make_user

pytestmark = pytest.mark.django_db

OPENED = "2025-10-01 07:00 +0800"


@pytest.fixture
def world(db):
    world = build_check_world()
    for user in (world.secretary_a, world.p1_reviewer, world.p2_reviewer, world.staff, world.approver):
        user.email = f"{user.username}@example.cn"
        user.save(update_fields=["email"])
    world.secretary_b = make_user(
        "k_sec_b", "B书记", roles=((Role.BRANCH_SECRETARY, world.branches["B"]),), email="b@example.cn"
    )
    with time_machine.travel(OPENED, tick=False):
        world.round, _created = open_check_round(committee=world.committee, year=2025, quarter=4)
    return world


def remind(world, day: str) -> int:
    with time_machine.travel(f"{day} 09:00 +0800", tick=False):
        return send_check_reminders(committee_id=world.committee.pk, year=2025, quarter=4)


def reminders(kind=None) -> list[tuple[str, str]]:
    rows = Notice.objects.exclude(kind__in=[NoticeKind.QUARTERLY, NoticeKind.EXPIRY])
    if kind:
        rows = rows.filter(kind=kind)
    return sorted(rows.values_list("recipient__username", "kind"))


def sheet(world, code) -> CheckSheet:
    return CheckSheet.objects.get(round=world.round, branch=world.branches[code])


def test_which_reminders_a_day_calls_for(world):
    r = world.round
    assert (r.self_report_deadline, r.scoring_deadline) == (
        datetime.date(2025, 12, 31),
        datetime.date(2026, 1, 15),
    )
    assert reminder_kinds(r, datetime.date(2025, 12, 27)) == []
    assert reminder_kinds(r, datetime.date(2025, 12, 28)) == [NoticeKind.CHECK_REPORT_DUE]
    assert reminder_kinds(r, datetime.date(2025, 12, 31)) == [NoticeKind.CHECK_REPORT_DUE]
    assert reminder_kinds(r, datetime.date(2026, 1, 1)) == []
    assert reminder_kinds(r, datetime.date(2026, 1, 12)) == [NoticeKind.CHECK_SCORING_DUE]
    assert reminder_kinds(r, datetime.date(2026, 1, 15)) == [NoticeKind.CHECK_SCORING_DUE]
    assert reminder_kinds(r, datetime.date(2026, 1, 16)) == [NoticeKind.CHECK_SCORING_LATE]
    r.self_reports = False
    assert reminder_kinds(r, datetime.date(2025, 12, 30)) == []


def test_nothing_is_sent_before_the_reminders_start(world):
    assert remind(world, "2025-12-27") == 0
    assert reminders() == [] and mail.outbox == []


def test_secretaries_with_an_open_self_report_are_reminded_once(world):
    items = check_items(world.round.standard_id)
    with time_machine.travel("2025-12-20 10:00 +0800", tick=False):
        save_self_report(
            sheet=sheet(world, "B"), actor=world.secretary_b, texts={items[0].pk: "已召开支委会。"}
        )
    assert remind(world, "2025-12-29") == 1
    assert remind(world, "2025-12-30") == 0  # the next day, and a second run: nothing new
    assert remind(world, "2025-12-30") == 0
    assert reminders() == [("k_sec_a", NoticeKind.CHECK_REPORT_DUE)]  # B has reported
    notice = Notice.objects.get(recipient=world.secretary_a)
    assert "A支部" in notice.body and notice.title.startswith("考核工委")
    assert notice.links[0]["url"] == f"/checks/sheets/{sheet(world, 'A').pk}/self-report/"
    assert [message.to for message in mail.outbox] == [["k_sec_a@example.cn"]]
    assert notice.title == mail.outbox[0].subject and notice.emailed_at is not None


def test_a_secretary_whose_sheet_is_already_scored_gets_no_reminder(world):
    score_sheet(sheet(world, "A"), world.p1_reviewer, "90.0")
    assert remind(world, "2025-12-29") == 1
    assert reminders() == [("k_sec_b", NoticeKind.CHECK_REPORT_DUE)]


def test_reviewers_with_unscored_sheets_are_reminded_before_the_deadline_and_once_after_it(world):
    for code in "ABC":  # P1's reviewer has done all the work
        score_sheet(sheet(world, code), world.p1_reviewer, "90.0")
    assert remind(world, "2026-01-13") == 1
    assert reminders() == [("k_p2", NoticeKind.CHECK_SCORING_DUE)]
    body = Notice.objects.get(recipient=world.p2_reviewer).body
    assert "3" in body and "D支部" in body and "F支部" in body and "A支部" not in body
    score_sheet(sheet(world, "D"), world.p2_reviewer, "88.0")
    assert remind(world, "2026-01-15") == 0  # due: already reminded
    assert remind(world, "2026-01-16") == 1  # the day after the deadline: overdue, once
    assert remind(world, "2026-01-17") == 0
    assert reminders() == [("k_p2", NoticeKind.CHECK_SCORING_DUE), ("k_p2", NoticeKind.CHECK_SCORING_LATE)]
    late = Notice.objects.get(kind=NoticeKind.CHECK_SCORING_LATE)
    assert "D支部" not in late.body and "E支部" in late.body
    assert [message.to for message in mail.outbox] == [["k_p2@example.cn"], ["k_p2@example.cn"]]


def test_a_branch_directly_under_the_committee_reminds_the_committees_people(world):
    direct = make_branch("直属支部", "KZ", parent=world.committee)
    with time_machine.travel(OPENED, tick=False):
        open_check_round(committee=world.committee, year=2026, quarter=1)
    from checks.models import CheckRound

    round_2026 = CheckRound.objects.get(year=2026, quarter=1)
    for row in CheckSheet.objects.filter(round=round_2026).exclude(branch=direct).select_related("branch"):
        score_sheet(row, world.reviewer_of(row.branch.name[0]), "90.0")
    with time_machine.travel("2026-04-14 09:00 +0800", tick=False):
        assert send_check_reminders(committee_id=world.committee.pk, year=2026, quarter=1) == 2
    assert sorted(Notice.objects.filter(year=2026).values_list("recipient__username", flat=True)) == [
        "k_approver",
        "k_staff",
    ]


def test_a_published_round_reminds_nobody(world):
    for code in "ABCDEF":
        score_sheet(sheet(world, code), world.reviewer_of(code), "90.0")
    with time_machine.travel("2026-01-10 10:00 +0800", tick=False):
        publish_check_round(check_round=world.round, actor=world.approver)
    assert remind(world, "2026-01-16") == 0 and reminders() == []


def test_the_daily_job_fans_out_per_open_round_and_records_each_run(
    world, django_capture_on_commit_callbacks
):
    with time_machine.travel("2026-01-13 09:00 +0800", tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert check_round_reminders.apply().get() == 1
        with django_capture_on_commit_callbacks(execute=True):
            check_round_reminders.apply()
    assert reminders() == [("k_p1", NoticeKind.CHECK_SCORING_DUE), ("k_p2", NoticeKind.CHECK_SCORING_DUE)]
    runs = JobRun.objects.filter(task_name=send_check_reminders_task.name)
    assert runs.count() == 2 and {run.status for run in runs} == {JobStatus.SUCCEEDED}
    assert {run.arguments["committee_id"] for run in runs} == {world.committee.pk}
    assert len(mail.outbox) == 2


def reminder_queries(prefix: str, size: int) -> int:
    from tests.factories import make_sized_committee

    sized = make_sized_committee(prefix, size, party_committees=2)
    for index, branch in enumerate(sized.branches):
        make_user(
            f"{prefix}s{index}", roles=((Role.BRANCH_SECRETARY, branch),), email=f"{prefix}{index}@example.cn"
        )
    for index, parent in enumerate(sized.party_committees):
        make_user(
            f"{prefix}p{index}", roles=((Role.PARENT_REVIEWER, parent),), email=f"{prefix}p{index}@example.cn"
        )
    with time_machine.travel(OPENED, tick=False):
        open_check_round(committee=sized.committee, year=2025, quarter=4)
    with time_machine.travel("2025-12-30 09:00 +0800", tick=False), CaptureQueriesContext(connection) as ctx:
        sent = send_check_reminders(committee_id=sized.committee.pk, year=2025, quarter=4)
    assert sent == size
    # The INSERT of the notices is split by the database's limit of parameters (SQLite's 999).
    return len([q for q in ctx.captured_queries if not q["sql"].lstrip().upper().startswith("INSERT")])


def test_the_reminders_read_a_fixed_number_of_rows_whatever_the_size(db):
    # The e-mails go out in batches of 200: both sizes fit in one.
    assert reminder_queries("S", 10) == reminder_queries("L", 150)


def test_the_migration_schedules_the_daily_reminders_at_nine(db):
    from importlib import import_module

    from django.db import connection as db_connection
    from django.db.migrations.loader import MigrationLoader
    from django_celery_beat.models import PeriodicTask

    from config.celery import app

    key = ("reports", "0007_year_bulletin_and_check_reminders")
    loader = MigrationLoader(db_connection)
    migration = import_module("reports.migrations.0007_year_bulletin_and_check_reminders")
    apps = loader.project_state(key).apps
    # Again from scratch: a transactional test elsewhere may have flushed the row.
    migration.remove_schedule(apps, None)
    migration.create_schedule(apps, None)
    migration.create_schedule(apps, None)  # a second run finds it by name
    row = PeriodicTask.objects.select_related("crontab").get(task="reports.tasks.check_round_reminders")
    assert row.enabled and row.task in app.tasks
    cron = row.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "0",
        "9",
        "*",
        "*",
        "*",
    )
    assert str(cron.timezone) == "Asia/Shanghai"
