"""The quarterly jobs through a real Celery worker (prefork, Redis) against the test database.

Each test starts ``celery -A config worker --pool prefork --concurrency 2`` as a subprocess
whose ``DATABASE_URL`` is pytest-django's test database and whose storage is the test's (its
``MEDIA_ROOT``, or its key prefix in the S3 bucket when the suite runs on S3), sends tasks through a dedicated Redis database and waits for the rows the worker
commits (hence ``transaction=True``). Skipped without PostgreSQL or Redis, except under
``CI=true``, where a missing service fails the run instead.

    CI=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/dangjian_cel \\
        .venv/bin/pytest tests/reports/test_celery_worker.py -q -p no:cacheprovider
"""

import contextlib
import datetime
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zoneinfo
from pathlib import Path
from urllib.parse import quote, urlsplit

import kombu.pools
import openpyxl
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from branches.models import Organization, OrgKind
from config.celery import app
from reports.jobs import LOST_MESSAGE, TASK_ID_KEY
from reports.models import Bulletin, BulletinAnnex, BulletinStatus, JobRun, JobStatus
from reports.quarters import previous_quarter, quarter_days, quarter_of
from reports.tasks import generate_bulletin_task, quarter_end_jobs
from reviews.models import Certificate, StarEvent, StarEventKind
from tests.factories import make_sized_committee
from tests.storage.support import is_s3, open_stored, storage_env, stored_names

pytestmark = pytest.mark.django_db(transaction=True)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Redis database of its own, flushed before every test, so no other queue is touched.
REDIS_DB = int(os.environ.get("REPORTS_TEST_REDIS_DB", "13"))
WAIT = 120  # seconds, at most, for anything the worker does
READY_WAIT = 60


def skip_or_fail(reason: str):
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: required, not skipped)")
    pytest.skip(reason)


def broker_url() -> str:
    base = urlsplit(os.environ.get("CI_REDIS_URL") or "redis://127.0.0.1:6379/0")
    return f"{base.scheme}://{base.netloc}/{REDIS_DB}"


def database_url_of_this_test() -> str:
    """A URL for the database this test runs in: pytest-django's test database, not the real one."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'])}"


def wait_for(condition, what: str, timeout: float = WAIT, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:]) if log else ""
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n--- worker log ---\n{tail}")


def pool_children(pid: int) -> set[int]:
    """The worker's pool processes, from /proc (psutil is not a dependency of this project)."""
    children: set[int] = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        children.update(int(child) for child in path.read_text().split())
    return children


class Worker:
    def __init__(self, process: subprocess.Popen, name: str, log: Path):
        self.process, self.name, self.log = process, name, log

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        # The worker's own process group (start_new_session): its pool children too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def broker(transactional_db):
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL and Redis: set DATABASE_URL=postgres://… and start Redis")
    url = broker_url()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
    except redis.exceptions.RedisError as exc:
        skip_or_fail(f"needs PostgreSQL and Redis: Redis at {url} is unreachable ({exc})")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def _reset_connections() -> None:
    """Drop the app's cached broker connections so the next send uses the current broker_url."""
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()  # closes and forgets the pools kept per broker URL


@pytest.fixture(params=["suite", "s3"])
def media(request, settings, tmp_path) -> Path:
    """The test's own files: on the suite's storage, and once more on S3 unless the suite is on S3."""
    if request.param == "s3":
        if is_s3():
            pytest.skip("the whole suite runs on S3 already")
        request.getfixturevalue("s3_storage")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def start_worker(broker, settings, media, tmp_path):
    """Start real workers on the test's broker, database and media; this process sends there too."""
    with workers_on(broker, settings, tmp_path) as start:
        yield start


@contextlib.contextmanager
def workers_on(broker: str, settings, tmp_path: Path):
    """Inside: tasks go to ``broker`` and ``start()`` starts a real worker; after: all stopped."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    saved_settings = (settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER)
    settings.CELERY_BROKER_URL = broker
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url, app.conf.task_always_eager = broker, False
    _reset_connections()
    workers: list[Worker] = []

    def start(app_module: str = "config", **extra_env: str) -> Worker:
        name = f"reports-test-{uuid.uuid4().hex[:8]}@%h"
        log = tmp_path / f"worker-{len(workers)}.log"
        env = dict(os.environ)
        env.update(
            CELERY_BROKER_URL=broker,
            DATABASE_URL=database_url_of_this_test(),
            **storage_env(),  # MEDIA_ROOT, or the S3 bucket and this test's key prefix
            DJANGO_SETTINGS_MODULE="config.settings",
            PYTHONUNBUFFERED="1",
            **extra_env,
        )
        command = [sys.executable, "-m", "celery", "-A", app_module, "worker", "--pool", "prefork"]
        # Both queues: the PDF-rendering tasks are routed to "pdf" (CELERY_TASK_ROUTES).
        command += ["-Q", "celery,pdf", "--concurrency", "2", "--loglevel", "INFO", "-n", name]
        command += ["--without-gossip", "--without-mingle"]
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command,
                cwd=django_settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process, name.replace("%h", os.uname().nodename), log)
        workers.append(worker)

        def ready():
            if process.poll() is not None:
                pytest.fail(f"the worker exited with {process.returncode}:\n{worker.text()[-4000:]}")
            return " ready." in worker.text()

        wait_for(ready, "the worker to be ready", timeout=READY_WAIT, log=log)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()
        app.conf.broker_url, app.conf.task_always_eager = saved["broker_url"], saved["task_always_eager"]
        settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = saved_settings
        _reset_connections()


def finished_runs(task_name: str, count: int):
    def check():
        runs = list(JobRun.objects.filter(task_name=task_name).order_by("pk"))
        done = [r for r in runs if r.status != JobStatus.RUNNING]
        return runs if len(done) >= count else None

    return check


def part_files() -> list[str]:
    """Temporary keys of generated files in the storage (disk or bucket)."""
    return [name for name in stored_names("bulletins") if name.endswith(".part")]


def bulletin_files(committee: Organization) -> list[str]:
    return [name.rsplit("/", 1)[-1] for name in stored_names(f"bulletins/{committee.pk}")]


def expected_files(committee: Organization, year: int, quarter: int) -> list[str]:
    """The main PDF, the workbook and one annex per party committee, as ``bulletin_files`` lists them."""
    annexes = BulletinAnnex.objects.filter(bulletin__committee=committee).values_list("pdf", flat=True)
    return sorted(
        [f"{year}Q{quarter}.pdf", f"{year}Q{quarter}.xlsx", *(n.rsplit("/", 1)[-1] for n in annexes)]
    )


# --- Expected numbers, computed independently of the bulletin's own data function -------------


def levels_in_force(committee: Organization, last_day: datetime.date) -> list[int | None]:
    """Each active branch's star level in force at the end of ``last_day`` (None: no star)."""
    instant = datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min, SHANGHAI)
    levels = []
    for branch in Organization.objects.filter(
        path__startswith=committee.path, kind=OrgKind.BRANCH, is_active=True
    ):
        certificate = (
            Certificate.objects.filter(branch=branch, issued_at__lt=instant)
            .order_by("-issued_at", "-pk")
            .first()
        )
        if certificate is None or certificate.valid_until < last_day:
            levels.append(None)
            continue
        stars: int | None = certificate.certified_stars
        for event in StarEvent.objects.filter(
            certificate=certificate,
            at__lt=instant,
            kind__in=[StarEventKind.DOWNGRADE, StarEventKind.REVOCATION],
        ).order_by("at", "pk"):
            stars = None if event.kind == StarEventKind.REVOCATION else event.to_stars
            if stars is None:
                break
        levels.append(stars)
    return levels


# --- The tests ---------------------------------------------------------------------------------


def test_the_quarterly_bulletin_of_the_demo_committee_is_made_by_the_worker(start_worker, media):
    from branches.demo import load_demo as load_branches
    from reviews.demo import load_demo as load_reviews

    load_branches()
    load_reviews()
    today = timezone.localdate()
    year, quarter = previous_quarter(*quarter_of(today))
    last_day = quarter_days(year, quarter)[1]
    # The demo's certificates run to a fixed date; keep them in force whenever this runs.
    Certificate.objects.filter(valid_until__lt=today + datetime.timedelta(days=400)).update(
        valid_until=today + datetime.timedelta(days=400)
    )
    committee = Organization.objects.get(code="BJ-GW")
    levels = levels_in_force(committee, last_day)
    expected = [sum(1 for level in levels if level == n) for n in (5, 4, 3, 2, 1)]
    assert sum(expected) > 0, "the demo should have star levels in force"

    worker = start_worker()
    quarter_end_jobs.delay()  # what beat sends at 01:00 on the first day of a quarter

    wait_for(finished_runs(generate_bulletin_task.name, 1), "the bulletin job", log=worker.log)
    bulletin = Bulletin.objects.get(committee=committee, year=year, quarter=quarter)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    assert [r.status for r in JobRun.objects.order_by("pk")] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]

    text = "\n".join(page.extract_text() for page in PdfReader(open_stored(bulletin.pdf.name)).pages)
    assert committee.name in text
    totals = [len(levels), *expected]
    # The distribution's total row: branches, then five stars down to one.
    assert re.search(r"\b" + r"\s+".join(str(n) for n in totals) + r"\b", text), (totals, text[:2000])

    sheet = openpyxl.load_workbook(open_stored(bulletin.xlsx.name)).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [len(levels), *expected] in [row[1:7] for row in rows]
    assert bulletin.data["totals"]["counts"] == expected

    log = worker.text()
    assert ".notdef" not in log
    assert "reports.tasks.generate_bulletin_task" in log and "succeeded" in log


def test_four_triggers_of_the_same_quarter_at_once_make_one_bulletin(start_worker, media):
    committee = make_sized_committee("QC4", 3).committee
    year, quarter = previous_quarter(*quarter_of(timezone.localdate()))
    worker = start_worker()

    for _ in range(4):
        generate_bulletin_task.delay(committee.pk, year, quarter)

    runs = wait_for(finished_runs(generate_bulletin_task.name, 4), "four bulletin jobs", log=worker.log)
    assert [r.status for r in runs] == [JobStatus.SUCCEEDED] * 4, [r.error for r in runs]
    wait_for(
        lambda: Bulletin.objects.filter(status=BulletinStatus.DRAFT).exists(), "the draft", log=worker.log
    )
    assert Bulletin.objects.count() == 1
    assert bulletin_files(committee) == expected_files(committee, year, quarter)
    assert ".notdef" not in worker.text()


def test_a_worker_killed_in_the_middle_of_a_bulletin_leaves_no_partial_file_and_it_is_made_once(
    start_worker, media
):
    committee = make_sized_committee("QCK", 3).committee
    year, quarter = previous_quarter(*quarter_of(timezone.localdate()))
    # Every publication waits 4 s with its temporary key in place: time to kill the child there.
    worker = start_worker("tests.reports.slow_worker", SLOW_PUBLISH_SECONDS="4")

    result = generate_bulletin_task.delay(committee.pk, year, quarter)
    stale = wait_for(part_files, "the render's temporary file", log=worker.log)

    active = app.control.inspect(destination=[worker.name], timeout=5).active() or {}
    busy = {task["worker_pid"] for task in active.get(worker.name, []) if task["id"] == result.id}
    children = pool_children(worker.process.pid)
    assert len(busy) == 1 and busy <= children, (active, children)
    (child,) = busy
    os.kill(child, signal.SIGKILL)

    # acks_late + reject_on_worker_lost: the message goes back to the queue and runs again.
    runs = wait_for(
        lambda: (
            list(JobRun.objects.order_by("pk"))
            if JobRun.objects.filter(status=JobStatus.SUCCEEDED).exists()
            else None
        ),
        "the job to be delivered again and succeed",
        log=worker.log,
    )
    log = worker.text()
    assert "SIGKILL" in log or "WorkerLostError" in log
    assert [(r.status, r.arguments[TASK_ID_KEY]) for r in runs] == [
        (JobStatus.FAILED, result.id),  # closed when the same message came back
        (JobStatus.SUCCEEDED, result.id),
    ]
    assert runs[0].error == LOST_MESSAGE
    assert child not in pool_children(worker.process.pid)  # the pool replaced it

    bulletin = Bulletin.objects.get()
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    assert not any(name in stored_names("bulletins") for name in stale)
    assert part_files() == []
    assert bulletin_files(committee) == expected_files(committee, year, quarter)
    reader = PdfReader(open_stored(bulletin.pdf.name))
    assert committee.name in reader.pages[0].extract_text()
