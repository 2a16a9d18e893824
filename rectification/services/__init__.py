"""Services of rectification: every change of a row goes through here and leaves an event."""

from .tasks import (
    DEFAULT_DEADLINE_DAYS,
    accept,
    confirm_proposed,
    default_owner,
    dismiss,
    open_task,
    report_progress,
    send_back,
)

__all__ = [
    "DEFAULT_DEADLINE_DAYS",
    "accept",
    "confirm_proposed",
    "default_owner",
    "dismiss",
    "open_task",
    "report_progress",
    "send_back",
]
