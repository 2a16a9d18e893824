"""The Celery application; configuration comes from Django settings (``CELERY_*``).

A task carries the id of the request that queued it (a message header), so the worker's log
lines for that task name the same request as the web server's (config/logs.py).
"""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from .logs import request_id_var, user_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dangjian")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEADER = "request_id"
USER_HEADER = "request_user_id"
# The context tokens of the tasks running in this process, to restore after each.
_tokens: dict[str, tuple] = {}


@before_task_publish.connect(weak=False)
def add_request_id(headers=None, **kwargs) -> None:
    """Queue the task with the current request's id and user (none outside a request)."""
    if headers is not None and request_id_var.get():
        headers.setdefault(HEADER, request_id_var.get())
        headers.setdefault(USER_HEADER, user_id_var.get())


def _header(task, name: str):
    request = task.request
    value = getattr(request, name, None)
    if value is None and isinstance(getattr(request, "headers", None), dict):
        value = request.headers.get(name)
    return value


@task_prerun.connect(weak=False)
def enter_task_context(task_id=None, task=None, **kwargs) -> None:
    """A task's log lines carry the id of the request that queued it, else the task's own id."""
    request_id = _header(task, HEADER) or request_id_var.get() or f"task-{task_id}"
    user_id = _header(task, USER_HEADER) or user_id_var.get()
    _tokens[task_id] = (request_id_var.set(request_id), user_id_var.set(user_id))


@task_postrun.connect(weak=False)
def leave_task_context(task_id=None, **kwargs) -> None:
    tokens = _tokens.pop(task_id, None)
    if tokens is not None:
        request_token, user_token = tokens
        user_id_var.reset(user_token)
        request_id_var.reset(request_token)
