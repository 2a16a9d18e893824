"""Structured logs: one JSON object per line, every record of a request carrying its id.

The records are caught by a handler with the project's own filter and JSON formatter (the ones
LOGGING installs on the console), so what is asserted is the line a log collector would read.
"""

import io
import json
import logging

import pytest
from django.urls import reverse

from config.logs import JsonFormatter, RequestContextFilter, TextFormatter
from reviews.models import Assessment
from reviews.services.core import move
from tests.factories import PASSWORD, open_default_cycle
from tests.test_settings import PROD, run_settings


@pytest.fixture
def lines():
    """The JSON lines logged during the test, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Production's level for the request lines (development keeps them at WARNING).
    requests = logging.getLogger("config.requests")
    old_requests_level = requests.level
    requests.setLevel(logging.INFO)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    root.removeHandler(handler)
    root.setLevel(old_level)
    requests.setLevel(old_requests_level)


def request_lines(records: list[dict]) -> list[dict]:
    return [record for record in records if record["logger"] == "config.requests"]


def test_every_line_is_one_json_object_with_the_fields(client, world, lines):
    client.force_login(world.secretary)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    (line,) = request_lines(lines())
    assert set(line) >= {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "user_id",
        "path",
        "method",
        "status",
        "duration_ms",
    }
    assert line["level"] == "INFO" and line["message"] == "GET / 200"
    assert (line["path"], line["method"], line["status"]) == ("/", "GET", 200)
    assert line["user_id"] == world.secretary.pk
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")
    assert line["request_id"] == response["X-Request-ID"]


def test_a_well_formed_incoming_request_id_is_kept_and_returned(client, db, lines):
    response = client.get("/accounts/login/", headers={"X-Request-ID": "lb-7f3a9c12-0001"})
    assert response["X-Request-ID"] == "lb-7f3a9c12-0001"
    assert request_lines(lines())[0]["request_id"] == "lb-7f3a9c12-0001"


@pytest.mark.parametrize("incoming", ["short", "has space inside it", "x" * 200, "<script>alert(1)</script>"])
def test_a_malformed_incoming_request_id_is_replaced(client, db, lines, incoming):
    response = client.get("/accounts/login/", headers={"X-Request-ID": incoming})
    returned = response["X-Request-ID"]
    assert returned != incoming and len(returned) == 32 and int(returned, 16) >= 0
    assert request_lines(lines())[0]["request_id"] == returned


def test_a_static_file_served_is_logged_below_info(client, db, lines, settings):
    settings.WHITENOISE_USE_FINDERS = True  # served from static/, as without collectstatic
    settings.WHITENOISE_AUTOREFRESH = True
    response = client.get("/static/css/app.css")
    assert response.status_code == 200 and response["X-Request-ID"]
    response.close()  # the streamed file
    assert request_lines(lines()) == []  # the handler listens from INFO up


def test_two_requests_get_two_ids_and_nothing_leaks_outside_a_request(client, db, lines):
    first = client.get("/accounts/login/")["X-Request-ID"]
    second = client.get("/accounts/login/")["X-Request-ID"]
    assert first != second
    logging.getLogger("tests").warning("outside any request")
    outside = [record for record in lines() if record["message"] == "outside any request"]
    assert outside[0]["request_id"] is None and outside[0]["path"] is None


def test_sign_in_success_and_failure_are_logged_with_the_requests_id(client, world, lines):
    username = world.secretary.username
    failed = client.post(reverse("login"), {"username": username, "password": "wrong"})
    succeeded = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert succeeded.status_code == 302
    events = [record for record in lines() if record["logger"] == "audit"]
    assert [(record["event"], record["username"]) for record in events] == [
        ("sign_in_failed", username),
        ("sign_in", username),
    ]
    assert events[0]["level"] == "WARNING" and events[0]["request_id"] == failed["X-Request-ID"]
    assert events[1]["request_id"] == succeeded["X-Request-ID"]
    assert all("wrong" not in json.dumps(record) and PASSWORD not in json.dumps(record) for record in lines())


def test_status_moves_and_audit_entries_are_logged(client, world, lines):
    cycle = open_default_cycle(world.committee, world.approver)  # one assessment per branch
    assessment = Assessment.objects.get(cycle=cycle, branch=world.branch)
    move(assessment_id=assessment.pk, action="start", actor=world.secretary)
    (moved,) = [record for record in lines() if record.get("event") == "status_move"]
    assert moved["target"] == f"reviews.assessment:{assessment.pk}"
    assert (moved["from_status"], moved["to_status"], moved["action"]) == ("not_started", "draft", "start")

    client.force_login(world.staff)
    response = client.post(
        reverse("directory:org_edit", args=[world.branch.pk]),
        {
            "name": "改名后的党支部",
            "code": world.branch.code,
            "kind": world.branch.kind,
            "parent": world.branch.parent_id,
            "stage": world.branch.stage,
            "sort_order": 1,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    audit = [record for record in lines() if record.get("event") == "audit"]
    assert audit and audit[0]["target"] == f"organization:{world.branch.pk}"
    assert audit[0]["request_id"] == response["X-Request-ID"] and audit[0]["user_id"] == world.staff.pk


def test_the_text_format_is_one_readable_line_with_the_request_id():
    record = logging.LogRecord("reviews", logging.INFO, __file__, 1, "saved %s", ("draft",), None)
    record.request_id = "abc12345"
    line = TextFormatter().format(record)
    assert "INFO reviews saved draft [abc12345]" in line and "\n" not in line


def test_log_format_is_json_in_production_text_in_development_and_checked():
    shown = "print(settings.LOG_FORMAT, settings.LOGGING['handlers']['console']['formatter'])"
    assert run_settings(PROD, shown).stdout.split() == ["json", "json"]
    assert run_settings({}, shown).stdout.split() == ["text", "text"]
    assert run_settings({"LOG_FORMAT": "text", **PROD}, shown).stdout.split() == ["text", "text"]
    refused = run_settings({"LOG_FORMAT": "xml"})
    assert refused.returncode != 0 and "LOG_FORMAT" in refused.stderr
