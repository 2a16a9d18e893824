"""Celery tasks of the quarterly rhythm, run in-process: recording, retries, schedule, job list.

The real worker (prefork, Redis, a killed child) is in ``test_celery_worker.py``.
"""

import datetime
import zoneinfo
from importlib import import_module
from pathlib import Path

import pytest
import time_machine
from celery.exceptions import Retry
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError
from django.urls import reverse
from django.utils import translation
from redis.exceptions import ConnectionError as RedisConnectionError

import reports.tasks
from branches.models import User
from branches.roles import Role
from config.celery import app
from reports.jobs import LOST_MESSAGE, TASK_ID_KEY
from reports.models import Bulletin, BulletinStatus, JobRun, JobStatus, Notice
from reports.tasks import (
    generate_bulletin_task,
    quarter_end_jobs,
    quarter_start_jobs,
    send_quarterly_notices_task,
)
from tests.factories import make_committee, make_user
from tests.storage.support import stored_names

pytestmark = pytest.mark.usefixtures("english")

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI)
ALL_TASKS = [generate_bulletin_task, send_quarterly_notices_task, quarter_start_jobs, quarter_end_jobs]


@pytest.fixture(autouse=True)
def eager(settings):
    """In-process tasks whatever the environment says (the worker tests use a real broker)."""
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people(world):
    """The world's people as the job pages see them, and three more; ``other_staff`` is staff of C2."""
    return {
        "staff": world.staff,
        "approver": world.approver,
        "team": world.reviewers[0],
        "secretary": world.secretary,
        "p1_staff": make_user("sunhua", "孙华", roles=((Role.STAFF, world.party_committee),), is_staff=True),
        "other_staff": make_user(
            "qianli", "钱力", roles=((Role.STAFF, world.other_committee),), is_staff=True
        ),
        "outsider": world.outsider,
        "admin": User.objects.create_superuser("admin", password=None),
    }


@pytest.fixture
def inactive_committee(world):
    """A committee that no longer works: the schedulers leave it out."""
    return make_committee("已撤销工委", "C3", is_active=False)


def runs(task=None):
    qs = JobRun.objects.order_by("pk")
    return list(qs.filter(task_name=task.name) if task else qs)


# --- The eager path and its record ---------------------------------------------------------


def test_a_bulletin_generated_in_process_is_a_draft_and_its_run_is_recorded(world, media):
    result = generate_bulletin_task.delay(world.committee.pk, 2026, 3)

    bulletin = Bulletin.objects.get(committee=world.committee, year=2026, quarter=3)
    assert result.get() == bulletin.pk
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    assert default_storage.exists(bulletin.pdf.name) and default_storage.exists(bulletin.xlsx.name)
    (run,) = runs()
    assert run.task_name == "reports.tasks.generate_bulletin_task"
    assert run.status == JobStatus.SUCCEEDED and run.attempt == 1 and run.error == ""
    assert run.finished_at is not None and run.started_at <= run.finished_at
    assert {k: run.arguments[k] for k in ("committee_id", "year", "quarter")} == {
        "committee_id": world.committee.pk,
        "year": 2026,
        "quarter": 3,
    }
    assert run.arguments[TASK_ID_KEY] == result.id


def test_running_the_bulletin_task_twice_makes_one_bulletin(world):
    first = generate_bulletin_task.delay(world.committee.pk, 2026, 3).get()
    second = generate_bulletin_task.delay(world.committee.pk, 2026, 3).get()
    assert first == second
    assert Bulletin.objects.count() == 1
    assert [r.status for r in runs()] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]


def test_the_notices_task_sends_the_quarters_notices_once(world):
    first = send_quarterly_notices_task.delay(world.committee.pk, 2026, 4).get()
    again = send_quarterly_notices_task.delay(world.committee.pk, 2026, 4).get()
    assert again == 0
    assert Notice.objects.filter(committee=world.committee, year=2026, quarter=4).count() == first


def test_a_failed_job_is_recorded_with_the_end_of_its_traceback_and_not_retried(world, monkeypatch):
    def broken(**kwargs):
        raise ValueError("the data function broke")

    monkeypatch.setattr(reports.tasks, "generate_bulletin", broken)
    with pytest.raises(ValueError, match="the data function broke"):
        generate_bulletin_task.delay(world.committee.pk, 2026, 3)

    (run,) = runs()
    assert run.status == JobStatus.FAILED and run.attempt == 1
    assert run.error.splitlines()[-1] == "ValueError: the data function broke"
    assert "in broken" in run.error  # where it broke: the last frames of the traceback
    assert len(run.error.splitlines()) <= 20 and run.finished_at is not None


@pytest.fixture
def retrying():
    """In-process runs retry only when errors do not propagate to the caller (as in a worker)."""
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def test_with_errors_propagating_a_transient_error_reaches_the_caller_and_says_it_is_not_retried(
    world, monkeypatch
):
    def down(**kwargs):
        raise OperationalError("the database is away")

    monkeypatch.setattr(reports.tasks, "generate_bulletin", down)
    with pytest.raises(Retry):
        generate_bulletin_task.delay(world.committee.pk, 2026, 3)
    (run,) = runs()
    assert run.status == JobStatus.FAILED and "OperationalError: the database is away" in run.error
    assert "not retried" in run.error


@pytest.mark.parametrize(
    "error",
    [OperationalError("server closed the connection"), RedisConnectionError("refused"), OSError(28, "disk")],
)
def test_a_transient_error_is_retried_three_times_and_every_attempt_is_recorded(
    world, monkeypatch, retrying, error
):
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        raise error

    monkeypatch.setattr(reports.tasks, "generate_bulletin", flaky)
    result = generate_bulletin_task.delay(world.committee.pk, 2026, 3)

    assert result.state == "FAILURE" and isinstance(result.result, type(error))

    assert len(calls) == 4  # the first try and three retries
    attempts = runs()
    assert [r.attempt for r in attempts] == [1, 2, 3, 4]
    assert all(r.status == JobStatus.FAILED for r in attempts)
    assert all("Will be retried" in r.error for r in attempts[:3])
    assert "Will be retried" not in attempts[-1].error
    assert type(error).__name__ in attempts[-1].error


def test_a_transient_error_that_clears_succeeds_on_the_next_attempt(world, monkeypatch, retrying):
    real = reports.tasks.generate_bulletin
    calls = []

    def once_down(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("the database restarted")
        return real(**kwargs)

    monkeypatch.setattr(reports.tasks, "generate_bulletin", once_down)
    generate_bulletin_task.delay(world.committee.pk, 2026, 3)

    assert [(r.attempt, r.status) for r in runs()] == [(1, JobStatus.FAILED), (2, JobStatus.SUCCEEDED)]
    assert Bulletin.objects.get().status == BulletinStatus.DRAFT


@pytest.mark.parametrize("task", ALL_TASKS, ids=lambda t: t.name.rsplit(".", 1)[-1])
def test_every_task_retries_only_transient_errors_with_backoff_and_acks_late(task):
    assert set(task.autoretry_for) == {OperationalError, InterfaceError, RedisConnectionError, OSError}
    assert task.max_retries == 3 and task.retry_backoff is True and task.retry_jitter is True
    assert task.acks_late is True and task.reject_on_worker_lost is True


def test_the_worker_settings_keep_a_killed_job_and_never_run_a_slow_one_twice():
    assert app.conf.task_acks_late is True and app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert (
        django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        > django_settings.CELERY_TASK_TIME_LIMIT
    )


def test_a_run_a_killed_worker_left_running_is_closed_when_its_message_comes_back(world):
    lost = JobRun.objects.create(
        task_name=generate_bulletin_task.name,
        arguments={"committee_id": world.committee.pk, "year": 2026, "quarter": 3, TASK_ID_KEY: "same-id"},
    )
    generate_bulletin_task.apply(args=(world.committee.pk, 2026, 3), task_id="same-id")

    lost.refresh_from_db()
    assert lost.status == JobStatus.FAILED and lost.error == LOST_MESSAGE and lost.finished_at
    assert runs()[-1].status == JobStatus.SUCCEEDED


def test_a_run_still_running_after_the_hard_time_limit_is_closed_by_the_next_job(world):
    with time_machine.travel(NOW - datetime.timedelta(seconds=django_settings.CELERY_TASK_TIME_LIMIT + 60)):
        old = JobRun.objects.create(task_name="reports.tasks.quarter_end_jobs", arguments={})
    recent = JobRun.objects.create(task_name="reports.tasks.quarter_end_jobs", arguments={})
    send_quarterly_notices_task.delay(world.committee.pk, 2026, 4)

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == JobStatus.FAILED and old.error == LOST_MESSAGE
    assert recent.status == JobStatus.RUNNING  # may still be running elsewhere


def test_stale_temporary_files_of_the_bulletin_are_removed_before_it_is_generated_again(world, media):
    Bulletin.objects.create(
        committee=world.committee, year=2026, quarter=3
    )  # left "generating" by a killed run
    folder = f"bulletins/{world.committee.pk}"
    stale = [
        f"{folder}/.2026Q3.pdf.k1ll3d.part",
        f"{folder}/.2026Q3.xlsx.k1ll3d.part",
        f"{folder}/.2026Q3-annex-999.pdf.k1ll3d.part",  # an annex's, of any party committee
    ]
    other_quarter = f"{folder}/.2026Q2.pdf.busy.part"
    for name in [*stale, other_quarter]:
        assert default_storage.save(name, ContentFile(b"half a file")) == name

    generate_bulletin_task.delay(world.committee.pk, 2026, 3)

    assert not any(default_storage.exists(name) for name in stale)
    assert default_storage.exists(other_quarter)  # another bulletin's file is not ours to touch
    bulletin = Bulletin.objects.get()
    annexes = [annex.pdf.name for annex in bulletin.annexes.all()]
    assert stored_names(folder) == sorted(
        [other_quarter, f"{folder}/2026Q3.pdf", f"{folder}/2026Q3.xlsx", *annexes]
    )
    assert bulletin.status == BulletinStatus.DRAFT


# --- The schedulers --------------------------------------------------------------------------


@pytest.fixture
def sent(monkeypatch):
    """Record what the schedulers send instead of running it."""
    calls = []
    for task in (generate_bulletin_task, send_quarterly_notices_task):
        monkeypatch.setattr(task, "delay", lambda *args, _task=task: calls.append((_task.name, args)))
    return calls


def test_quarter_end_jobs_sends_each_active_committees_bulletin_of_the_quarter_just_ended(
    world, inactive_committee, sent, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(datetime.datetime(2026, 10, 1, 1, 0, tzinfo=SHANGHAI), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert quarter_end_jobs.delay().get() == 2

    assert sent == [
        ("reports.tasks.generate_bulletin_task", (world.committee.pk, 2026, 3)),
        ("reports.tasks.generate_bulletin_task", (world.other_committee.pk, 2026, 3)),
    ]
    (run,) = runs(quarter_end_jobs)
    assert run.status == JobStatus.SUCCEEDED and run.arguments == {TASK_ID_KEY: run.arguments[TASK_ID_KEY]}


def test_quarter_end_jobs_on_new_year_sends_the_fourth_quarter_of_last_year(
    world, inactive_committee, sent, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(datetime.datetime(2027, 1, 1, 1, 0, tzinfo=SHANGHAI), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        quarter_end_jobs.delay()
    assert {args[1:] for _name, args in sent} == {(2026, 4)}


def test_quarter_start_jobs_sends_each_active_committees_notices_of_the_new_quarter(
    world, inactive_committee, sent, django_capture_on_commit_callbacks
):
    # 01:00 in Shanghai is still the day before in UTC: the quarter is Shanghai's.
    with (
        time_machine.travel(datetime.datetime(2027, 1, 1, 1, 0, tzinfo=SHANGHAI), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert quarter_start_jobs.delay().get() == 2
    assert sent == [
        ("reports.tasks.send_quarterly_notices_task", (world.committee.pk, 2027, 1)),
        ("reports.tasks.send_quarterly_notices_task", (world.other_committee.pk, 2027, 1)),
    ]


def test_the_schedulers_send_nothing_before_the_transaction_commits(
    world, inactive_committee, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        quarter_end_jobs.delay()
        assert sent == []
    assert len(callbacks) == 2


# --- The schedule rows -----------------------------------------------------------------------


def schedule_migration():
    """The migration module and the models as they stand after it (what it runs against)."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    key = ("reports", "0002_quarterly_schedule")
    return (
        import_module("reports.migrations.0002_quarterly_schedule"),
        loader.project_state(key).apps,
        loader,
        key,
    )


def test_the_schedule_migration_is_applied_and_creates_the_quarterly_rows(db):
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder
    from django_celery_beat.models import PeriodicTask

    migration, apps, _loader, key = schedule_migration()
    assert key in MigrationRecorder(connection).applied_migrations()
    # Run it again from scratch: a transactional test elsewhere may have flushed its rows.
    migration.remove_schedule(apps, None)
    assert not PeriodicTask.objects.filter(name__in=[row[0] for row in migration.SCHEDULE]).exists()
    migration.create_schedule(apps, None)

    rows = {t.task: t for t in PeriodicTask.objects.select_related("crontab")}
    for task_name, hour in (
        ("reports.tasks.quarter_start_jobs", "8"),
        ("reports.tasks.quarter_end_jobs", "1"),
    ):
        row = rows[task_name]
        assert row.enabled and row.task in app.tasks
        cron = row.crontab
        assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
            "0",
            hour,
            "1",
            "1,4,7,10",
            "*",
        )
        assert str(cron.timezone) == "Asia/Shanghai"
        # Next run: the first day of the next quarter, at that hour in Shanghai.
        remaining = cron.schedule.remaining_estimate(NOW)  # counts from now(): the frozen clock
        assert (NOW + remaining).astimezone(SHANGHAI) == datetime.datetime(
            2027, 1, 1, int(hour), 0, tzinfo=SHANGHAI
        )

    expiry = rows["reports.tasks.expire_certificates"]
    assert expiry.enabled and expiry.task in app.tasks
    cron = expiry.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year) == ("30", "0", "*", "*")


def test_the_schedule_migration_keeps_times_staff_have_changed(db):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    migration, apps, _loader, _key = schedule_migration()
    migration.remove_schedule(apps, None)
    migration.create_schedule(apps, None)
    later = CrontabSchedule.objects.create(
        minute="30", hour="9", day_of_month="2", month_of_year="1,4,7,10", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.filter(task="reports.tasks.quarter_start_jobs").update(crontab=later)

    migration.create_schedule(apps, None)

    assert PeriodicTask.objects.filter(name__in=[row[0] for row in migration.SCHEDULE]).count() == 3
    assert PeriodicTask.objects.get(task="reports.tasks.quarter_start_jobs").crontab == later


# --- The job list and "generate now" --------------------------------------------------------


def add_runs(world):
    def run(status, committee=None, **arguments):
        if committee is not None:
            arguments = {"committee_id": committee.pk, "year": 2026, "quarter": 3, **arguments}
        return JobRun.objects.create(
            task_name="reports.tasks.generate_bulletin_task", arguments=arguments, status=status
        )

    return {
        "c1_failed": run(JobStatus.FAILED, world.committee),
        "c1_ok": run(JobStatus.SUCCEEDED, world.committee),
        "c2_failed": run(JobStatus.FAILED, world.other_committee),
        "scheduler": run(JobStatus.SUCCEEDED),
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("staff", 200),
        ("approver", 200),
        ("admin", 200),
        ("team", 403),  # on the committee, but not a role that runs its jobs
        ("secretary", 403),
        ("p1_staff", 403),  # staff of a party committee, not of a committee
        ("outsider", 403),
    ],
)
def test_the_job_list_is_for_staff_and_approvers_of_a_committee(client, people, who, status):
    client.force_login(people[who])
    assert client.get(reverse("reports:job_list")).status_code == status


def test_the_job_list_asks_an_anonymous_visitor_to_sign_in(client, world):
    response = client.get(reverse("reports:job_list"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_staff_see_only_their_committees_runs_and_the_failed_ones_with_their_error(client, world, people):
    made = add_runs(world)
    JobRun.objects.filter(pk=made["c1_failed"].pk).update(error="Traceback …\nValueError: no data for 2026Q3")
    client.force_login(people["staff"])

    page = client.get(reverse("reports:job_list")).context["page"]
    assert {r.pk for r in page} == {made["c1_failed"].pk, made["c1_ok"].pk}
    assert {r.committee_name for r in page} == {"市直机关工委"}

    response = client.get(reverse("reports:job_list"), {"status": "failed"})
    assert [r.pk for r in response.context["page"]] == [made["c1_failed"].pk]
    assert response.context["filters"][0] == {"value": "failed", "label": "Failed", "count": 1}
    assert "ValueError: no data for 2026Q3" in response.content.decode()


def test_a_superuser_sees_every_run_including_the_schedulers(client, world, people):
    made = add_runs(world)
    client.force_login(people["admin"])
    page = client.get(reverse("reports:job_list")).context["page"]
    assert {r.pk for r in page} == {r.pk for r in made.values()}


def test_the_job_list_is_paginated(client, world, people):
    JobRun.objects.bulk_create(
        JobRun(
            task_name="reports.tasks.generate_bulletin_task", arguments={"committee_id": world.committee.pk}
        )
        for _ in range(30)
    )
    client.force_login(people["staff"])
    first = client.get(reverse("reports:job_list")).context["page"]
    second = client.get(reverse("reports:job_list"), {"page": 2}).context["page"]
    assert len(first) == 25 and len(second) == 5 and second.paginator.num_pages == 2


@pytest.mark.parametrize("who", ["staff", "approver"])
def test_generate_now_sends_the_bulletin_and_the_notices_after_the_commit(
    client, world, people, sent, who, django_capture_on_commit_callbacks
):
    client.force_login(people[who])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("reports:job_generate"),
            {"committee": world.committee.pk, "year": 2026, "quarter": 3, "jobs": ["bulletin", "notices"]},
            follow=True,
        )
    assert response.redirect_chain == [(reverse("reports:job_list"), 302)]
    assert len(callbacks) == 2
    assert sent == [
        ("reports.tasks.generate_bulletin_task", (world.committee.pk, 2026, 3)),
        ("reports.tasks.send_quarterly_notices_task", (world.committee.pk, 2026, 3)),
    ]
    assert "are started" in response.content.decode()


def test_generate_now_runs_the_job_in_process_without_a_broker(
    client, world, people, media, django_capture_on_commit_callbacks
):
    client.force_login(people["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("reports:job_generate"),
            {"committee": world.committee.pk, "year": 2026, "quarter": 3, "jobs": ["bulletin"]},
        )
    assert Bulletin.objects.get(committee=world.committee).status == BulletinStatus.DRAFT
    assert [r.status for r in runs()] == [JobStatus.SUCCEEDED]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("other_staff", 404),  # staff elsewhere: C1 is as if it did not exist
        ("team", 403),  # on C1, role too low
        ("secretary", 403),
        ("outsider", 403),
    ],
)
def test_generate_now_refuses_a_committee_outside_the_users_jobs(client, world, people, sent, who, status):
    client.force_login(people[who])
    response = client.post(
        reverse("reports:job_generate"),
        {"committee": world.committee.pk, "year": 2026, "quarter": 3, "jobs": ["bulletin"]},
    )
    assert response.status_code == status
    assert sent == []


def test_generate_now_refuses_a_quarter_that_has_not_begun(client, world, people, sent):
    client.force_login(people["staff"])
    response = client.post(
        reverse("reports:job_generate"),
        {"committee": world.committee.pk, "year": 2027, "quarter": 1, "jobs": ["bulletin"]},
        follow=True,
    )
    assert sent == []
    assert "quarter that has begun" in response.content.decode()


def test_the_generate_now_page_is_post_only(client, people):
    client.force_login(people["staff"])
    assert client.get(reverse("reports:job_generate")).status_code == 405


# --- The admin -------------------------------------------------------------------------------


def test_staff_read_their_committees_runs_in_the_admin_and_change_none(client, world, people):
    made = add_runs(world)
    client.force_login(people["staff"])
    response = client.get(reverse("admin:reports_jobrun_changelist"))
    assert response.status_code == 200
    assert {r.pk for r in response.context["cl"].result_list} == {made["c1_failed"].pk, made["c1_ok"].pk}
    detail = reverse("admin:reports_jobrun_change", args=[made["c1_failed"].pk])
    assert client.get(detail).status_code == 200
    assert client.post(detail, {"status": "succeeded"}).status_code == 403
    assert client.get(reverse("admin:reports_jobrun_add")).status_code == 403
    other = reverse("admin:reports_jobrun_change", args=[made["c2_failed"].pk])
    assert client.get(other, follow=True).redirect_chain[-1][0] == reverse("admin:index")


# --- The demo --------------------------------------------------------------------------------


def test_the_demo_publishes_last_quarters_bulletin_and_sends_this_quarters_notices_once(db, media):
    from branches.demo import STAFF_GROUP
    from branches.demo import load_demo as load_branches
    from reports.demo import load_demo
    from reviews.demo import load_demo as load_reviews

    load_branches()
    load_reviews()
    with translation.override("zh-hans"):
        first = load_demo()
        again = load_demo()

    assert first["bulletins"] == 1 and first["notices"] > 0
    assert again == {"bulletins": 0, "notices": 0, "reminders": 0, "documents": 0, "issued": 0}
    bulletin = Bulletin.objects.get()
    assert (bulletin.year, bulletin.quarter, bulletin.status) == (2026, 3, BulletinStatus.PUBLISHED)
    assert bulletin.published_by.username == "dangwu"
    assert default_storage.exists(bulletin.pdf.name)
    assert Notice.objects.filter(year=2026, quarter=4).count() == first["notices"]
    # The demo staff may edit the quarterly schedule in the admin.
    staff = User.objects.get(username="dangwu")
    assert staff.groups.filter(name=STAFF_GROUP).exists()
    assert staff.has_perm("django_celery_beat.change_periodictask")
    assert staff.has_perm("django_celery_beat.change_crontabschedule")
