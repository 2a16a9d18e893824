"""Sign-in records (django-axes' AccessLog and AccessFailureLog) are kept SIGN_IN_LOG_RETENTION_DAYS
days, then removed by the daily reports.tasks.prune_sign_in_logs; the audit trail is never touched."""

import datetime

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.utils import timezone

from branches.audit import AuditAction, record
from branches.models import AuditEntry
from branches.signin import prune_sign_in_logs
from tests.reports.test_celery_worker import broker, finished_runs, media, start_worker, wait_for  # noqa: F401

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)


def aged(model, days: float, username: str = "zhangwei"):
    """A record written ``days`` before NOW (attempt_time is set on insert: moved afterwards)."""
    row = model.objects.create(username=username, ip_address="10.0.0.8", user_agent="test")
    model.objects.filter(pk=row.pk).update(attempt_time=NOW - datetime.timedelta(days=days))
    return row


def test_records_past_the_retention_go_and_the_others_stay(settings, world):
    settings.SIGN_IN_LOG_RETENTION_DAYS = 200
    kept = [aged(AccessLog, 10), aged(AccessLog, 199.9), aged(AccessFailureLog, 199)]
    gone = [aged(AccessLog, 200.1), aged(AccessLog, 900), aged(AccessFailureLog, 201)]
    record(actor=world.staff, action=AuditAction.CREATE, target=world.outsider, committee=world.committee)
    AuditEntry.objects.update(at=NOW - datetime.timedelta(days=2000))
    audit_rows = AuditEntry.objects.count()

    assert prune_sign_in_logs(now=NOW) == len(gone)
    remaining = {
        *AccessLog.objects.values_list("pk", flat=True),
        *AccessFailureLog.objects.values_list("pk", flat=True),
    }
    assert remaining == {row.pk for row in kept}
    assert AuditEntry.objects.count() == audit_rows  # the audit trail is kept for good
    assert prune_sign_in_logs(now=NOW) == 0  # idempotent


def test_a_backlog_is_removed_in_batches(settings, monkeypatch):
    from branches import signin

    monkeypatch.setattr(signin, "PRUNE_BATCH", 3)
    settings.SIGN_IN_LOG_RETENTION_DAYS = 183
    for number in range(8):
        aged(AccessFailureLog, 400, username=f"guess{number}")
    aged(AccessFailureLog, 1)
    assert prune_sign_in_logs(now=NOW) == 8
    assert AccessFailureLog.objects.count() == 1


def test_the_daily_task_prunes_and_its_schedule_row_exists(settings):
    from django_celery_beat.models import PeriodicTask

    from config.celery import app
    from reports.tasks import prune_sign_in_logs_task

    settings.SIGN_IN_LOG_RETENTION_DAYS = 183
    aged(AccessLog, (timezone.now() - NOW).days + 500)
    assert prune_sign_in_logs_task.delay().get() == 1
    row = PeriodicTask.objects.select_related("crontab").get(task="reports.tasks.prune_sign_in_logs")
    assert row.enabled and row.task in app.tasks
    assert (row.crontab.minute, row.crontab.hour, row.crontab.day_of_month) == ("40", "3", "*")
    assert str(row.crontab.timezone) == "Asia/Shanghai"


def test_the_retention_cannot_be_set_below_six_months():
    from tests.test_settings import run_settings

    result = run_settings({"SIGN_IN_LOG_RETENTION_DAYS": "90"}, "print(settings.SIGN_IN_LOG_RETENTION_DAYS)")
    assert result.returncode != 0 and "SIGN_IN_LOG_RETENTION_DAYS" in result.stderr
    result = run_settings({}, "print(settings.SIGN_IN_LOG_RETENTION_DAYS)")
    assert result.stdout.strip() == "400"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_prunes_what_beat_sends(start_worker, media):  # noqa: F811 - the worker fixtures
    """The daily task on a real Celery worker (prefork, Redis), against the test database."""
    from reports.models import JobRun, JobStatus
    from reports.tasks import prune_sign_in_logs_task

    now = timezone.now()
    old = [aged(AccessLog, (now - NOW).days + 401), aged(AccessFailureLog, (now - NOW).days + 900)]
    recent = aged(AccessLog, (now - NOW).days + 30)
    worker = start_worker()  # the default retention, 400 days

    prune_sign_in_logs_task.delay()  # what beat sends at 03:40
    (run,) = wait_for(finished_runs(prune_sign_in_logs_task.name, 1), "the pruning job", log=worker.log)
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not AccessFailureLog.objects.filter(pk__in=[row.pk for row in old]).exists()
    assert JobRun.objects.count() == 1 and "sign-in records older than" in worker.text()
