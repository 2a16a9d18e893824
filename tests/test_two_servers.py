"""Two app servers, one product: two gunicorn processes and a Celery worker share only PostgreSQL,
Redis and the S3 bucket, and a person cannot tell which server answered.

Each process gets a ``MEDIA_ROOT`` of its own (left empty at the end: nothing is kept on a local
disk), the worker also a working directory of its own. Through real HTTP: a sign-in on server A
is valid on server B; evidence uploaded through A downloads from B with the same bytes; a
bulletin asked for on B is made by the worker and downloads from both; a sign-out on B ends
the session on A too. Skipped without PostgreSQL, Redis or SeaweedFS, except under ``CI=true``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dangjian_two REPORTS_TEST_REDIS_DB=4 \\
        .venv/bin/pytest tests/test_two_servers.py -q -p no:cacheprovider
"""

import contextlib
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import global_settings
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from config import settings as project_settings
from reports.models import Bulletin, BulletinStatus
from reports.quarters import previous_quarter, quarter_of
from reviews.models import Evidence
from tests.factories import (
    PASSWORD,
    build_world,
    default_standard,
    items_by_code,
    make_assessment,
    make_cycle,
)
from tests.storage.support import read_stored, skip_or_fail, storage_env, stored_names

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_DB = int(os.environ.get("REPORTS_TEST_REDIS_DB", "13"))
WAIT = 120
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def redis_url() -> str:
    base = urllib.parse.urlsplit(os.environ.get("CI_REDIS_URL") or "redis://127.0.0.1:6379/0")
    return f"{base.scheme}://{base.netloc}/{REDIS_DB}"


def database_url_of_this_test() -> str:
    db = connection.settings_dict
    auth = urllib.parse.quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + urllib.parse.quote(db["PASSWORD"])
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}{port}/{urllib.parse.quote(db['NAME'])}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, what: str, logs: list[Path], timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    tails = "\n".join(f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:] for log in logs)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{tails}")


class Process:
    def __init__(self, name: str, command: list[str], env: dict[str, str], cwd: Path, log: Path):
        self.name, self.log = name, log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # its own group: gunicorn's and celery's children
        self.popen.wait(timeout=10)


class Browser:
    """One person's cookie jar, spoken to either server; cookies do not depend on the port."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def request(self, base: str, path: str, *, data: bytes | None = None, headers=None):
        request = urllib.request.Request(base + path, data=data, headers=headers or {})  # noqa: S310 - http://127.0.0.1 only
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def post(self, base: str, path: str, fields: dict[str, str], files=None, headers=None):
        """A form post with the CSRF token, multipart when there are files."""
        fields = {**fields, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        headers = {"Referer": base + path, **(headers or {})}
        if files:
            boundary = uuid.uuid4().hex
            body = b""
            for key, value in fields.items():
                body += f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            for key, (filename, content, content_type) in files.items():
                body += (
                    (
                        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
                        f"Content-Type: {content_type}\r\n\r\n"
                    ).encode()
                    + content
                    + b"\r\n"
                )
            body += f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request(base, path, data=body, headers=headers)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to look at, not to follow


@pytest.fixture
def services(request, transactional_db):
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL, Redis and SeaweedFS: set DATABASE_URL=postgres://… and start Redis")
    try:
        client = redis.Redis.from_url(redis_url(), socket_connect_timeout=2)
        client.ping()
    except redis.exceptions.RedisError as exc:
        skip_or_fail(f"needs Redis at {redis_url()} ({exc})")
    request.getfixturevalue("s3_storage")  # SeaweedFS only once the others are known to be there
    client.flushdb()
    yield
    client.flushdb()
    client.close()


@pytest.fixture
def product(services, tmp_path):
    """Servers A and B and a worker; returns the two base URLs and the log files."""
    processes: list[Process] = []
    base_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("S3_", "DJANGO_", "CELERY_", "CACHE_"))
        and key not in {"MEDIA_ROOT", "DATABASE_URL"}
    }
    base_env.update(
        storage_env(),
        DATABASE_URL=database_url_of_this_test(),
        CELERY_BROKER_URL=redis_url(),
        CACHE_URL=redis_url(),
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(django_settings.BASE_DIR),
        PYTHONUNBUFFERED="1",
    )
    bin_dir = Path(sys.executable).parent
    urls, logs, media_roots = [], [], []
    for name in ("a", "b"):
        port = free_port()
        media = tmp_path / f"media-{name}"
        media.mkdir()
        media_roots.append(media)
        log = tmp_path / f"server-{name}.log"
        logs.append(log)
        command = [str(bin_dir / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", "1", "--threads", "2", "--timeout", "120"]
        env = {**base_env, "MEDIA_ROOT": str(media), "SITE_URL": f"http://127.0.0.1:{port}"}
        processes.append(Process(name, command, env, django_settings.BASE_DIR, log))
        urls.append(f"http://127.0.0.1:{port}")
    worker_dir = tmp_path / "worker"
    (worker_dir / "media").mkdir(parents=True)
    media_roots.append(worker_dir / "media")
    log = tmp_path / "worker.log"
    logs.append(log)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "-Q",
        "celery,pdf",  # the PDF-rendering tasks are routed to "pdf" (CELERY_TASK_ROUTES)
        "--loglevel",
        "INFO",
    ]
    command += ["-n", f"two-servers-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle"]
    processes.append(
        Process("worker", command, {**base_env, "MEDIA_ROOT": str(worker_dir / "media")}, worker_dir, log)
    )
    try:
        for url, process in zip(urls, processes, strict=False):

            def answers(url=url, process=process):
                if process.popen.poll() is not None:
                    pytest.fail(
                        f"server {process.name} exited:\n{process.log.read_text(errors='replace')[-3000:]}"
                    )
                with contextlib.suppress(OSError):
                    return Browser().request(url, reverse("login"))[0] == 200
                return False

            wait_for(answers, f"server {process.name}", logs)
        wait_for(lambda: " ready." in log.read_text(errors="replace"), "the worker", logs)
        yield {"urls": urls, "logs": logs, "media_roots": media_roots}
    finally:
        for process in processes:
            process.stop()


def sign_in(browser: Browser, base: str, username: str) -> None:
    status, _headers, _body = browser.request(base, reverse("login"))
    assert status == 200 and browser.cookie("csrftoken")
    status, _headers, body = browser.post(
        base, reverse("login"), {"username": username, "password": PASSWORD}
    )
    assert status == 302, body.decode(errors="replace")[:2000]
    assert browser.cookie("sessionid")


def test_two_app_servers_share_sessions_evidence_and_bulletins(product, settings):
    a, b = product["urls"]
    logs = product["logs"]
    world = build_world()
    # The servers check passwords with the project's hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = getattr(
        project_settings, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS
    )
    for user in (world.secretary, world.sibling_secretary, world.staff):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    standard = default_standard()
    cycle = make_cycle(world.committee, name="2025年度星级认定", standard=standard, opened_by=world.approver)
    assessment = make_assessment(cycle, world.branch)
    item = items_by_code(standard)["1.2"]

    # A sign-in on A is valid on B.
    secretary = Browser()
    sign_in(secretary, a, world.secretary.username)
    self_assessment = reverse("reviews:self_assessment", args=[assessment.pk])
    assert secretary.request(b, self_assessment)[0] == 200
    assert Browser().request(b, self_assessment)[0] == 302  # without the cookie: to the sign-in page

    # Evidence uploaded through A downloads from B, the same bytes.
    status, _headers, body = secretary.post(
        a,
        reverse("reviews:evidence_upload", args=[assessment.pk]),
        {"item": str(item.pk)},
        files={f"evidence_{item.pk}": ("组织生活会记录.pdf", PDF, "application/pdf")},
        headers={"Accept": "application/json"},
    )
    assert status == 200, body.decode(errors="replace")[:2000]
    assert json.loads(body)["errors"] == []
    evidence = Evidence.objects.get(assessment=assessment)
    assert read_stored(evidence.file.name) == PDF
    download = reverse("reviews:evidence_download", args=[evidence.pk])
    status, headers, body = secretary.request(b, download)
    assert status == 200 and body == PDF
    assert headers["Cache-Control"] == "private, no-store"
    outsider = Browser()
    sign_in(outsider, b, world.sibling_secretary.username)
    assert outsider.request(a, download)[0] == 404  # the scope check holds on both servers

    # A bulletin asked for on B is made by the worker and downloads from A and B alike.
    staff = Browser()
    sign_in(staff, b, world.staff.username)
    year, quarter = previous_quarter(*quarter_of(timezone.localdate()))
    status, _headers, body = staff.post(
        b,
        reverse("reports:bulletin_list"),
        {"committee": str(world.committee.pk), "quarter": f"{year}-{quarter}"},
    )
    assert status == 302, body.decode(errors="replace")[:2000]
    bulletin = wait_for(
        lambda: Bulletin.objects.filter(committee=world.committee, status=BulletinStatus.DRAFT).first(),
        "the bulletin from the worker",
        logs,
    )
    stored_pdf = read_stored(bulletin.pdf.name)
    assert stored_pdf.startswith(b"%PDF")
    for base in (a, b):
        status, _headers, body = staff.request(base, reverse("reports:bulletin_pdf", args=[bulletin.pk]))
        assert status == 200 and body == stored_pdf
        status, _headers, body = staff.request(base, reverse("reports:bulletin_xlsx", args=[bulletin.pk]))
        assert status == 200 and body == read_stored(bulletin.xlsx.name)
    assert secretary.request(a, reverse("reports:bulletin_pdf", args=[bulletin.pk]))[0] == 403

    # A sign-out on B ends the session on A as well.
    assert staff.post(b, reverse("logout"), {})[0] == 302
    assert staff.request(a, reverse("reports:bulletin_pdf", args=[bulletin.pk]))[0] == 302

    # Every file is in the bucket; no process kept one on its own disk.
    assert evidence.file.name in stored_names("evidence")
    assert {bulletin.pdf.name, bulletin.xlsx.name} <= set(stored_names("bulletins"))
    for media in product["media_roots"]:
        assert not [p for p in media.rglob("*") if p.is_file()], media
    for log in logs:  # the refusals above are logged as such; nothing failed on the way
        text = log.read_text(errors="replace")
        for failure in ("Internal Server Error", "raised unexpected", "WORKER TIMEOUT"):
            assert failure not in text, text[text.index(failure) :][:4000]
