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


def test_the_daily_reminders_run_twice_on_a_worker_and_remind_each_person_once(start_worker, media):  # noqa: F811
    """The round's deadlines are tomorrow and the day after: the self-report and the scoring are
    both due. Two deliveries of the daily job leave one reminder and one e-mail per person."""
    import datetime

    from branches.roles import Role
    from checks.services.rounds import open_check_round
    from reports.models import Notice, NoticeKind
    from reports.tasks import check_round_reminders, send_check_reminders_task
    from scoring.services.defaults import ensure_default_check_standard
    from tests.factories import make_user

    ensure_default_check_standard()
    sized = make_sized_committee("QR", 4, party_committees=2)
    secretaries = [
        make_user(f"qr_s{i}", roles=((Role.BRANCH_SECRETARY, branch),), email=f"qr_s{i}@example.cn")
        for i, branch in enumerate(sized.branches[:2])
    ]
    reviewers = [
        make_user(f"qr_p{i}", roles=((Role.PARENT_REVIEWER, parent),), email=f"qr_p{i}@example.cn")
        for i, parent in enumerate(sized.party_committees)
    ]
    today = timezone.localdate()
    open_check_round(
        committee=sized.committee,
        year=today.year,
        quarter=(today.month - 1) // 3 + 1,
        self_report_deadline=today + datetime.timedelta(days=1),
        scoring_deadline=today + datetime.timedelta(days=2),
    )
    worker = start_worker()

    check_round_reminders.delay()  # what beat sends at 09:00 every day
    check_round_reminders.delay()  # delivered again: nobody is reminded twice

    wait_for(finished_runs(send_check_reminders_task.name, 2), "the reminder jobs", log=worker.log)
    runs = JobRun.objects.filter(task_name=send_check_reminders_task.name)
    assert {run.status for run in runs} == {JobStatus.SUCCEEDED}, [run.error for run in runs]
    reminders = sorted(
        Notice.objects.filter(committee=sized.committee).values_list("recipient__username", "kind")
    )
    assert reminders == sorted(
        [(user.username, NoticeKind.CHECK_REPORT_DUE) for user in secretaries]
        + [(user.username, NoticeKind.CHECK_SCORING_DUE) for user in reviewers]
    )
    assert not Notice.objects.filter(committee=sized.committee, emailed_at__isnull=True).exists()
    # Without EMAIL_HOST the worker's mail goes to its console (its log): one message per person.
    log = worker.text()
    for user in secretaries + reviewers:
        assert log.count(f"To: {user.email}") == 1, user.email
