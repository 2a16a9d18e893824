"""Large cycle-wide operations as recorded background jobs, started from the committee's pages.

Opening a cycle, the automatic reviewer assignment, publishing a notice batch and certifying
one are each a handful of bulk statements (``services``), but at province scale they still take
seconds. Above ``settings.BULK_JOB_THRESHOLD`` assessments (or branches, for a new cycle, whose
rules are checked by the page first so that they stay the form's errors) the page does not run
them itself: it
sends the operation's task once the request's transaction commits and shows its progress
page, which refreshes itself until the job is done and then links back. Smaller operations
run in the request as before. Without a broker the job runs in-process, so the progress page
opens on the finished job.

The tasks live in ``reports.tasks`` (they are recorded like every other job: a ``JobRun`` with
its progress and outcome), which this app may not import: they are found by name in the
Celery application instead. The random token a job is started with is kept in the user's
session, so only whoever started it sees its progress page.
"""

import datetime
import logging
import secrets
from decimal import Decimal

from celery import current_app
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from scoring.models import Standard

logger = logging.getLogger(__name__)

# Operation → the name of its task in ``reports.tasks``.
BULK_TASKS = {
    "auto_assign": "reports.tasks.auto_assign_task",
    "publicize": "reports.tasks.publicize_cycle_task",
    "certify": "reports.tasks.certify_batch_task",
    "open_cycle": "reports.tasks.open_cycle_task",
}
BULK_JOBS_SESSION_KEY = "bulk_jobs"
BULK_JOBS_KEPT = 20  # the latest tokens a session remembers
DEFAULT_THRESHOLD = 500


def bulk_threshold() -> int:
    return int(getattr(settings, "BULK_JOB_THRESHOLD", DEFAULT_THRESHOLD))


def is_large(count: int) -> bool:
    """Whether an operation on ``count`` assessments runs as a background job."""
    return count > bulk_threshold()


def cycle_settings(kwargs: dict) -> dict:
    """The cleaned cycle form's ``open_cycle`` arguments as JSON, for the job's arguments."""
    settings_ = {}
    for key, value in kwargs.items():
        if key == "standard":
            settings_["standard_id"] = value.pk
        elif isinstance(value, datetime.date):
            settings_[key] = value.isoformat()
        elif isinstance(value, Decimal):
            settings_[key] = str(value)
        elif key == "star_caps":
            settings_[key] = {stars: str(share) for stars, share in value.items()}
        else:
            settings_[key] = value
    return settings_


def cycle_arguments(settings_: dict) -> dict:
    """``cycle_settings`` back to ``open_cycle``'s keyword arguments."""
    kwargs = dict(settings_)
    kwargs["standard"] = Standard.objects.filter(pk=kwargs.pop("standard_id", None)).first()
    for key in ("self_assessment_deadline", "preliminary_deadline", "scoring_deadline"):
        kwargs[key] = datetime.date.fromisoformat(kwargs[key])
    if "disagreement_fraction" in kwargs:
        kwargs["disagreement_fraction"] = Decimal(kwargs["disagreement_fraction"])
    return kwargs


def start_bulk_job(request, operation: str, *, committee_id: int, **arguments):
    """Send the ``operation``'s task on commit and answer with a redirect to its progress page.

    ``arguments`` are ids (``cycle_id``, ``batch_id``); the acting user and a fresh token are
    added. A broker that is away, or a job run in-process that failed, still leads to the
    progress page, which shows the run's failure (or waits for a start that never comes: the
    message says so).
    """
    token = secrets.token_urlsafe(24)
    tokens = [token, *request.session.get(BULK_JOBS_SESSION_KEY, [])][:BULK_JOBS_KEPT]
    request.session[BULK_JOBS_SESSION_KEY] = tokens
    task = current_app.tasks[BULK_TASKS[operation]]
    try:
        task.delay_on_commit(committee_id=committee_id, actor_id=request.user.pk, token=token, **arguments)
    except Exception:
        logger.exception("Could not run %s", task.name)
        messages.error(request, _("The background job could not be started; try again in a moment."))
    return redirect("reports:bulk_job", token)


__all__ = [
    "BULK_JOBS_SESSION_KEY",
    "BULK_TASKS",
    "bulk_threshold",
    "cycle_arguments",
    "cycle_settings",
    "is_large",
    "start_bulk_job",
]
