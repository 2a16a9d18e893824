"""Structured logs: one JSON object per line, each record carrying the request it belongs to.

``RequestIdMiddleware`` (config/middleware.py) puts the request's id, path, method and user into
context variables for the time of the request; ``RequestContextFilter`` copies them onto every
log record, so a line written deep in a service still says which request wrote it.
``JsonFormatter`` writes a record as one line of JSON; ``TextFormatter`` as one readable line
(LOG_FORMAT=text, the default in development).
"""

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

# A request id from outside (a load balancer's X-Request-ID) is kept only if it is this plain.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{8,128}")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)
path_var: ContextVar[str | None] = ContextVar("path", default=None)
method_var: ContextVar[str | None] = ContextVar("method", default=None)

CONTEXT_FIELDS = {
    "request_id": request_id_var,
    "user_id": user_id_var,
    "path": path_var,
    "method": method_var,
}
# Fields a record may carry as ``extra``: the request line's own, and the audit events'.
EXTRA_FIELDS = ("status", "duration_ms", "event", "username", "action", "target", "from_status", "to_status")


def new_request_id(incoming: str | None = None) -> str:
    """The incoming id if it is well-formed, else a fresh one."""
    if incoming and REQUEST_ID_PATTERN.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestContextFilter(logging.Filter):
    """Puts the current request's id, user, path and method on every record (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in CONTEXT_FIELDS.items():
            if getattr(record, name, None) is None:
                setattr(record, name, variable.get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's fields, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in (*CONTEXT_FIELDS, "status", "duration_ms"):
            entry[name] = getattr(record, name, None)
        for name in EXTRA_FIELDS[2:]:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A readable line for a terminal, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line


def logging_config(*, log_format: str, level: str, request_level: str = "INFO") -> dict:
    """The LOGGING setting: every record through the context filter to the console.

    ``request_level``: the level of ``config.requests``, the one line per request (INFO in
    production; WARNING in development, where runserver prints its own request lines and a
    crawl of the demo would otherwise bury everything else)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "config.logs.RequestContextFilter"}},
        "formatters": {
            "json": {"()": "config.logs.JsonFormatter"},
            "text": {"()": "config.logs.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "fontTools": {"level": "WARNING"},
            "weasyprint": {"level": "WARNING"},
            # The request line of config.middleware replaces Django's own for 4xx/5xx answers,
            # which would say the same twice; errors with their traceback still come from here.
            "django.request": {"level": "ERROR"},
            "config.requests": {"level": request_level},
        },
    }
