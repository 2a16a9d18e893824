"""The rectification reminders on a real Celery worker (prefork, Redis) against the test database.

Uses the real-worker machinery of tests/reports/test_celery_worker.py: skipped without
PostgreSQL and Redis, except under ``CI=true``, where a missing service fails the run.

    REPORTS_TEST_REDIS_DB=11 DATABASE_URL=postgres://postgres@127.0.0.1:5432/dj_rect \\
        .venv/bin/pytest tests/rectification/test_reminder_worker.py -q -p no:cacheprovider
"""

import datetime

import pytest
from django.utils import timezone

from branches.models import CommitteePolicy
from branches.roles import Role
from rectification.models import RectificationTask
from rectification.services import accept, report_progress
from reports.models import JobRun, JobStatus, Notice, NoticeKind
from reports.tasks import rectification_reminders, send_rectification_reminders_task
from tests.factories import make_sized_committee, make_user
from tests.rectification.helpers import manual_task
from tests.reports.test_celery_worker import broker, finished_runs, media, start_worker, wait_for  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


class _World:
    pass


def test_an_overdue_task_reminds_its_owner_once_per_interval_and_stops_once_accepted(start_worker, media):  # noqa: F811
    sized = make_sized_committee("RW", 2, party_committees=1)
    CommitteePolicy.objects.update_or_create(
        committee=sized.committee, defaults={"rectification_reminder_days": 3}
    )
    world = _World()
    world.committee = sized.committee
    world.secretary = make_user(
        "rw_sec", "书记", roles=((Role.BRANCH_SECRETARY, sized.branches[0]),), email="rw_sec@example.cn"
    )
    world.parent_reviewer = make_user(
        "rw_par",
        "初审",
        roles=((Role.PARENT_REVIEWER, sized.party_committees[0]),),
        email="rw_par@example.cn",
    )
    task = manual_task(world, branch=sized.branches[0], days=5)
    today = timezone.localdate()
    # Opened nine days ago (the fourth 3-day interval starts today), due three days ago: overdue.
    RectificationTask.objects.filter(pk=task.pk).update(
        opened_on=today - datetime.timedelta(days=9), deadline=today - datetime.timedelta(days=3)
    )
    worker = start_worker()

    rectification_reminders.delay()  # what beat sends every morning
    rectification_reminders.delay()  # delivered twice: nobody is reminded twice
    wait_for(finished_runs(send_rectification_reminders_task.name, 2), "the reminder jobs", log=worker.log)

    def mine(kind=NoticeKind.RECT_DUE):
        return sorted(Notice.objects.filter(task=task, kind=kind).values_list("recipient__username", "slot"))

    assert mine() == [("rw_sec", 3)]  # day 9: slot 3
    assert mine(NoticeKind.RECT_OVERDUE) == [("rw_par", 0)]
    assert not Notice.objects.filter(task=task, emailed_at__isnull=True).exists()
    assert worker.text().count("To: rw_sec@example.cn") == 1

    # Two days later: the same interval, nothing new; three days later: the next one.
    later = (today + datetime.timedelta(days=2)).isoformat()
    send_rectification_reminders_task.delay(sized.committee.pk, later)
    wait_for(finished_runs(send_rectification_reminders_task.name, 3), "the same interval", log=worker.log)
    assert mine() == [("rw_sec", 3)]
    next_slot = (today + datetime.timedelta(days=3)).isoformat()
    send_rectification_reminders_task.delay(sized.committee.pk, next_slot)
    send_rectification_reminders_task.delay(sized.committee.pk, next_slot)
    wait_for(finished_runs(send_rectification_reminders_task.name, 5), "the next interval", log=worker.log)
    assert mine() == [("rw_sec", 3), ("rw_sec", 4)]
    assert mine(NoticeKind.RECT_OVERDUE) == [("rw_par", 0)]

    report_progress(task=task, actor=world.secretary, text="已整改完毕")
    accept(task=task, actor=world.parent_reviewer)
    send_rectification_reminders_task.delay(
        sized.committee.pk, (today + datetime.timedelta(days=9)).isoformat()
    )
    rectification_reminders.delay()
    wait_for(finished_runs(rectification_reminders.name, 3), "the daily job after acceptance", log=worker.log)
    wait_for(
        finished_runs(send_rectification_reminders_task.name, 6), "the last reminder job", log=worker.log
    )
    assert mine() == [("rw_sec", 3), ("rw_sec", 4)]
    runs = JobRun.objects.filter(
        task_name__in=[rectification_reminders.name, send_rectification_reminders_task.name]
    )
    assert {run.status for run in runs} == {JobStatus.SUCCEEDED}, [run.error for run in runs]
    assert worker.text().count("To: rw_sec@example.cn") == 2
