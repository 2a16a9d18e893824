"""The base of every reports task: retries on transient errors, and a JobRun row for each run.

Each attempt of a task leaves one ``JobRun`` (running → succeeded / failed, with the last
lines of the traceback), so a failed quarterly job is visible to staff on the job list and
in the admin rather than only in a worker log. Recording is best effort: a database that
cannot take the row must not be the reason a job fails.

A pool child killed mid-task (OOM killer, deploy, SIGKILL) cannot write its own end. Its row
is closed as failed when the same message is delivered again (same Celery task id, which
``acks_late`` + ``reject_on_worker_lost`` guarantee), or, failing that, once it is older than
the hard time limit, which no live run can outlast.
"""

import datetime
import inspect
import logging
import threading
import traceback

from celery.contrib.django.task import DjangoTask
from celery.exceptions import Retry
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from .models import JobRun, JobStatus

logger = logging.getLogger(__name__)

# Worth another try a little later: the database or the broker was away, a file system hiccup.
# A bug (ValueError, IntegrityError, …) fails at once: retrying would only fail again.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    OSError,
)
ERROR_LINES = 20
TASK_ID_KEY = "celery_task_id"
LOST_MESSAGE = "The worker stopped during this run (killed or out of memory); the job was delivered again."


def error_tail(exc: BaseException, lines: int = ERROR_LINES) -> str:
    """The last ``lines`` lines of the exception's traceback: enough to see where and why."""
    text = "".join(traceback.format_exception(exc)).rstrip()
    return "\n".join(text.splitlines()[-lines:])


def hard_time_limit() -> int:
    return int(getattr(settings, "CELERY_TASK_TIME_LIMIT", None) or 1800)


class RecordedTask(DjangoTask):
    """A task whose every attempt is recorded in ``JobRun``; retries transient errors with backoff.

    ``acks_late`` and ``reject_on_worker_lost`` come from the settings (``CELERY_TASK_*``).
    """

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = True  # 1 s, 2 s, 4 s … (with jitter), capped below
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 3

    # The tracer calls a custom __call__ with the request already pushed, so self.request
    # (id, retries) is the real one here; calling self.run keeps it so.
    def __call__(self, *args, **kwargs):
        run = self._start_run(args, kwargs)
        self.request.job_run_id = run.pk if run is not None else None  # for record_job_progress
        try:
            result = self.run(*args, **kwargs)
        except Retry as retry:
            cause = retry.exc if isinstance(retry.exc, BaseException) else retry
            if self.request.is_eager and self.app.conf.task_eager_propagates:
                note = "Run in-process with errors propagating: not retried."
            else:
                when = f" in {retry.when:.0f} s" if isinstance(retry.when, int | float) else ""
                note = f"Will be retried{when}."
            self._finish_run(run, JobStatus.FAILED, f"{error_tail(cause)}\n\n→ {note}")
            raise
        except Exception as exc:
            self._finish_run(run, JobStatus.FAILED, error_tail(exc))
            raise
        self._finish_run(run, JobStatus.SUCCEEDED, "")
        return result

    def named_arguments(self, args: tuple, kwargs: dict) -> dict:
        """The call's arguments by parameter name, so runs can be scoped by ``committee_id``."""
        try:
            bound = inspect.signature(self.run).bind(*args, **kwargs)
        except (TypeError, ValueError):
            return {"args": list(args), **kwargs}
        return dict(bound.arguments)

    def _start_run(self, args: tuple, kwargs: dict) -> JobRun | None:
        task_id = getattr(self.request, "id", None)
        arguments = self.named_arguments(args, kwargs)
        if task_id:
            arguments[TASK_ID_KEY] = task_id
        try:
            close_lost_runs(task_id)
            return JobRun.objects.create(
                task_name=self.name,
                arguments=arguments,
                status=JobStatus.RUNNING,
                attempt=(self.request.retries or 0) + 1,
            )
        except DatabaseError:
            logger.exception("Could not record the start of %s", self.name)
            return None

    def _finish_run(self, run: JobRun | None, status: str, error: str) -> None:
        if run is None:
            return
        try:
            JobRun.objects.filter(pk=run.pk).update(status=status, error=error, finished_at=timezone.now())
        except DatabaseError:
            logger.exception("Could not record the end of %s (run %s)", self.name, run.pk)


def close_lost_runs(task_id: str | None = None) -> int:
    """Mark as failed the runs that cannot still be running; returns how many."""
    now = timezone.now()
    lost = Q(started_at__lt=now - datetime.timedelta(seconds=hard_time_limit()))
    if task_id:
        lost |= Q(**{f"arguments__{TASK_ID_KEY}": task_id})
    return JobRun.objects.filter(lost, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, error=LOST_MESSAGE, finished_at=now
    )


# --- Progress ---------------------------------------------------------------------------------


def _write_run(run_id: int, fields: dict) -> None:
    try:
        JobRun.objects.filter(pk=run_id).update(**fields)
    except DatabaseError:
        logger.exception("Could not record the progress of run %s", run_id)
    finally:
        connection.close()


def record_job_progress(task, done: int, total: int, *, from_transaction: bool = False, **outcome) -> None:
    """Write ``done`` of ``total`` (and, given, the ``outcome``) on the task's current JobRun.

    A job that works inside one transaction (an import: all rows or none) would hide its
    progress until the end: called from there with ``from_transaction=True``, the row is
    written from a connection of its own (a short thread) so the page watching it sees it.
    SQLite has one writer at a time, so there it is written in the job's own transaction
    (seen at the end; an in-process run is not watched while it runs anyway). Best effort,
    like the rest of the record.
    """
    run_id = getattr(task.request, "job_run_id", None)
    if run_id is None:
        return
    fields = {"progress_done": done, "progress_total": total}
    if outcome:
        fields["outcome"] = outcome
    if from_transaction and connection.in_atomic_block and connection.vendor != "sqlite":
        writer = threading.Thread(target=_write_run, args=(run_id, fields), daemon=True)
        writer.start()
        writer.join(timeout=10)
        return
    try:
        JobRun.objects.filter(pk=run_id).update(**fields)
    except DatabaseError:
        logger.exception("Could not record the progress of run %s", run_id)


# --- Enqueueing -------------------------------------------------------------------------------


def enqueue(task, *args) -> bool:
    """Send ``task`` once the current transaction commits; False if that failed (and logged).

    Outside a transaction it is sent at once, so a broker that is away (or, without a broker,
    a job that ran in-process and failed — its JobRun holds the error) answers False here
    instead of breaking the page that asked.
    """
    try:
        task.delay_on_commit(*args)
    except Exception:
        logger.exception("Could not run %s%r", task.name, args)
        return False
    return True
