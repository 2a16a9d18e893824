"""The quarterly check is opened by the scheduled job on a real Celery worker (prefork, Redis).

Uses the real-worker machinery of tests/reports/test_celery_worker.py: skipped without
PostgreSQL and Redis, except under ``CI=true``, where a missing service fails the run.
"""

import pytest
from django.utils import timezone

from checks.models import CheckRound, CheckSheet
from reports.models import JobRun, JobStatus
from reports.tasks import open_check_round_task, open_quarter_check_rounds
from tests.factories import make_sized_committee
from tests.reports.test_celery_worker import broker, finished_runs, media, start_worker, wait_for  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_scheduled_job_opens_the_quarters_round_on_a_worker(start_worker, media):  # noqa: F811
    from scoring.services.defaults import ensure_default_standard

    ensure_default_standard()  # a transactional test elsewhere may have flushed it
    committee = make_sized_committee("QK", 4, party_committees=2).committee
    worker = start_worker()

    open_quarter_check_rounds.delay()  # what beat sends at 07:00 on the first day of a quarter
    open_quarter_check_rounds.delay()  # a repeated message opens nothing new

    wait_for(finished_runs(open_check_round_task.name, 2), "the round jobs", log=worker.log)
    runs = JobRun.objects.filter(task_name=open_check_round_task.name)
    assert {run.status for run in runs} == {JobStatus.SUCCEEDED}, [run.error for run in runs]
    today = timezone.localdate()
    check_round = CheckRound.objects.get(committee=committee)
    assert (check_round.year, check_round.quarter) == (today.year, (today.month - 1) // 3 + 1)
    assert check_round.opened_by is None
    assert CheckSheet.objects.filter(round=check_round).count() == 4
