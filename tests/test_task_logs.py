"""A task's log lines on a real worker name the request that queued it (config/celery.py)."""

import pytest

from config.logs import request_id_var
from reports.tasks import check_round_reminders
from tests.reports.test_celery_worker import broker, wait_for, workers_on  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_tasks_log_lines_carry_the_id_of_the_request_that_queued_it(broker, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    with workers_on(broker, settings, tmp_path) as start:
        worker = start()
        token = request_id_var.set("req-from-the-web-0001")
        try:
            queued = check_round_reminders.delay()
        finally:
            request_id_var.reset(token)
        outside = check_round_reminders.delay()  # queued outside any request

        def both_done():
            text = worker.text()
            return f"[{queued.id}] succeeded" in text and f"[{outside.id}] succeeded" in text

        wait_for(both_done, "both tasks to succeed", log=worker.log)
    lines = worker.text().splitlines()
    (from_request,) = [line for line in lines if f"[{queued.id}] succeeded" in line]
    (from_nowhere,) = [line for line in lines if f"[{outside.id}] succeeded" in line]
    assert from_request.endswith("[req-from-the-web-0001]")
    assert from_nowhere.endswith(f"[task-{outside.id}]")
