"""Background jobs of the quarterly rhythm; each task takes ids and numbers and calls a service.

``quarter_start_jobs``, ``quarter_end_jobs`` and ``expire_certificates`` are started by celery
beat (rows created by migration ``reports/0002_quarterly_schedule``, editable in the admin);
the quarterly ones fan out one task per active committee, so one committee's failure neither blocks nor repeats the others.
Every run is recorded in ``JobRun`` and transient errors are retried (see ``reports.jobs``).
All tasks are idempotent: the services find what an earlier run already made (one bulletin
per committee and quarter, one notice per recipient, quarter and kind), so a redelivered or
repeated message changes nothing.
"""

import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.errors import WorkflowError
from branches.models import Organization, OrgKind, User
from branches.signin import prune_sign_in_logs
from checks.services.rounds import open_check_round
from reviews.jobs import cycle_arguments
from reviews.models import Cycle, CycleStatus, NoticeBatch
from reviews.services.cycles import open_cycle
from reviews.services.decision import certify_batch, expire_due_certificates, publicize_cycle
from reviews.services.scoring import auto_assign

from . import files
from .jobs import RecordedTask, record_job_progress
from .models import Bulletin, BulletinStatus
from .quarters import previous_quarter, quarter_of
from .services.bulletins import (
    bulletin_file_name,
    generate_bulletin,
    generate_year_bulletin,
    remove_annex_temporaries,
)
from .services.notices import send_quarterly_notices
from .services.rectification import committees_with_running_tasks, send_rectification_reminders
from .services.reminders import open_round_ids, send_check_reminders

logger = logging.getLogger(__name__)


def active_committee_ids() -> list[int]:
    return list(
        Organization.objects.filter(kind=OrgKind.COMMITTEE, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def remove_stale_part_files(*, committee_id: int, year: int, quarter: int | None) -> list[str]:
    """Delete temporary keys a killed render of this bulletin left in the storage; returns them.

    ``reports.files.save_generated`` uploads each file as ``.<name>.<random>.part`` next to its
    final name and then publishes it; a process killed in between leaves the temporary key.
    Only done while holding the bulletin's row lock, which the service holds for the whole
    render: no live render of this bulletin can own one of these keys then.
    """
    removed: list[str] = []
    with transaction.atomic():
        row = (
            Bulletin.objects.select_for_update(skip_locked=True)
            .filter(committee_id=committee_id, year=year, quarter=quarter)
            .exclude(status=BulletinStatus.PUBLISHED)
            .first()
        )
        if row is None:  # no bulletin yet, published, or being generated right now
            return removed
        for suffix in ("pdf", "xlsx"):
            name = bulletin_file_name(committee_id=committee_id, year=year, quarter=quarter, suffix=suffix)
            removed += files.remove_temporaries(name)
        removed += remove_annex_temporaries(committee_id=committee_id, year=year, quarter=quarter)
    if removed:
        logger.warning("Removed %d stale temporary file(s) of bulletin %s", len(removed), row.pk)
    return removed


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.generate_bulletin_task")
def generate_bulletin_task(self, committee_id: int, year: int, quarter: int) -> int:
    """Generate (or find) the committee's bulletin of the quarter; returns the bulletin's id."""
    remove_stale_part_files(committee_id=committee_id, year=year, quarter=quarter)
    bulletin = generate_bulletin(committee_id=committee_id, year=year, quarter=quarter)
    return bulletin.pk


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.generate_year_bulletin_task")
def generate_year_bulletin_task(self, committee_id: int, year: int) -> int:
    """Generate (or find) the committee's year bulletin (年度通报); returns the bulletin's id."""
    remove_stale_part_files(committee_id=committee_id, year=year, quarter=None)
    bulletin = generate_year_bulletin(committee_id=committee_id, year=year)
    return bulletin.pk


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.send_quarterly_notices_task")
def send_quarterly_notices_task(self, committee_id: int, year: int, quarter: int) -> int:
    """Send the committee's notices of the quarter; returns how many were new."""
    return send_quarterly_notices(committee_id=committee_id, year=year, quarter=quarter)


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.quarter_start_jobs")
def quarter_start_jobs(self) -> int:
    """First day of a quarter: every active committee's notices for the new quarter."""
    year, quarter = quarter_of(timezone.localdate())
    committee_ids = active_committee_ids()
    for committee_id in committee_ids:
        send_quarterly_notices_task.delay_on_commit(committee_id, year, quarter)
    return len(committee_ids)


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.quarter_end_jobs")
def quarter_end_jobs(self) -> int:
    """First day of a quarter: every active committee's bulletin of the quarter just ended."""
    year, quarter = previous_quarter(*quarter_of(timezone.localdate()))
    committee_ids = active_committee_ids()
    for committee_id in committee_ids:
        generate_bulletin_task.delay_on_commit(committee_id, year, quarter)
    return len(committee_ids)


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.open_check_round_task")
def open_check_round_task(self, committee_id: int, year: int, quarter: int) -> int:
    """Open (or find) the committee's quarterly check of the quarter; returns the round's id."""
    committee = Organization.objects.get(pk=committee_id, kind=OrgKind.COMMITTEE)
    check_round, _created = open_check_round(committee=committee, year=year, quarter=quarter)
    return check_round.pk


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.open_quarter_check_rounds")
def open_quarter_check_rounds(self) -> int:
    """First day of a quarter: every active committee's quarterly check (季度考核) of the new quarter."""
    year, quarter = quarter_of(timezone.localdate())
    committee_ids = active_committee_ids()
    for committee_id in committee_ids:
        open_check_round_task.delay_on_commit(committee_id, year, quarter)
    return len(committee_ids)


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.expire_certificates")
def expire_certificates(self) -> int:
    """Daily: certificates past their validity expire; safe to run any number of times."""
    return expire_due_certificates()


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.prune_sign_in_logs")
def prune_sign_in_logs_task(self) -> int:
    """Daily: the sign-in records older than SIGN_IN_LOG_RETENTION_DAYS are removed."""
    return prune_sign_in_logs()


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.send_check_reminders_task")
def send_check_reminders_task(self, committee_id: int, year: int, quarter: int) -> int:
    """Remind who still has work in the committee's open quarterly check; returns how many were new."""
    return send_check_reminders(committee_id=committee_id, year=year, quarter=quarter)


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.check_round_reminders")
def check_round_reminders(self) -> int:
    """Daily: the reminders of every open quarterly check (each person once per kind and round)."""
    rounds = open_round_ids()
    for committee_id, year, quarter in rounds:
        send_check_reminders_task.delay_on_commit(committee_id, year, quarter)
    return len(rounds)


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.rectification_reminders")
def rectification_reminders(self) -> int:
    """Daily: the reminders of every committee's rectification tasks (each person once per interval)."""
    committee_ids = committees_with_running_tasks()
    for committee_id in committee_ids:
        send_rectification_reminders_task.delay_on_commit(committee_id)
    return len(committee_ids)


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.send_rectification_reminders_task")
def send_rectification_reminders_task(self, committee_id: int, today: str | None = None) -> int:
    """Remind the committee's task owners, secretaries and (when late) parent reviewers; returns how
    many reminders were new. ``today`` (ISO date) only for tests and catching up."""
    import datetime

    day = datetime.date.fromisoformat(today) if today else None
    return send_rectification_reminders(committee_id=committee_id, today=day)


# --- The committee's large cycle-wide operations (started from its pages: ``reviews.jobs``) ----

SHORT_NAMED = 20  # branches named in the outcome of an assignment that left some without reviewers


def _bulk_operation(task, actor_id: int, work: Callable) -> dict:
    """Run ``work(actor, progress)`` → message (or message and ids); record them on the run.

    A refusal of the service (the cycle moved on, the batch was certified meanwhile, the role
    was withdrawn) is an outcome, not a failure: the run succeeds and its page says why
    nothing changed. Running the same job again is refused or changes nothing, as pressing
    the button twice does.
    """
    seen = {"done": 0, "total": 0}

    def progress(done: int, total: int) -> None:
        seen.update(done=done, total=total)
        record_job_progress(task, done, total, from_transaction=True)

    with translation.override(settings.LANGUAGE_CODE):
        actor = User.objects.get(pk=actor_id, is_active=True)
        try:
            done = work(actor, progress)
            message, extra = done if isinstance(done, tuple) else (done, {})
            outcome = {"state": "done", "message": message, **extra}
        except (WorkflowError, PermissionDenied) as refusal:
            outcome = {"state": "refused", "message": str(refusal)}
        except ValidationError as refusal:
            outcome = {"state": "refused", "message": " ".join(refusal.messages)}
    if outcome["state"] == "done" and not seen["total"]:
        seen.update(done=1, total=1)  # nothing to move is done too
    record_job_progress(task, seen["done"], seen["total"], **outcome)
    return outcome


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.auto_assign_task")
def auto_assign_task(self, committee_id: int, cycle_id: int, actor_id: int, token: str) -> dict:
    """The automatic reviewer assignment of a cycle; ``token`` names the run for its page."""

    def work(actor, progress) -> str:
        cycle = _cycle(committee_id, cycle_id)
        result = auto_assign(cycle=cycle, actor=actor, progress=progress)
        message = _("Reviewers assigned to %(count)s assessments.") % {"count": result["assigned"]}
        if result["short"]:
            names = [str(a.branch) for a in result["short"][:SHORT_NAMED]]
            if len(result["short"]) > SHORT_NAMED:
                names.append("…")
            message += " " + _("Not enough eligible reviewers for: %(branches)s.") % {
                "branches": "、".join(names)
            }
        return message

    return _bulk_operation(self, actor_id, work)


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.publicize_cycle_task")
def publicize_cycle_task(self, committee_id: int, cycle_id: int, actor_id: int, token: str) -> dict:
    """Publish the cycle's decided results as its next public notice batch."""

    def work(actor, progress) -> str:
        batch = publicize_cycle(cycle=_cycle(committee_id, cycle_id), actor=actor, progress=progress)
        return _("Batch %(number)s of the public notice is published.") % {"number": batch.number}

    return _bulk_operation(self, actor_id, work)


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.certify_batch_task")
def certify_batch_task(
    self, committee_id: int, cycle_id: int, batch_id: int, actor_id: int, token: str
) -> dict:
    """Certify one public notice batch of the cycle (certificates and star events)."""

    def work(actor, progress) -> str:
        batch = NoticeBatch.objects.select_related("cycle").get(
            pk=batch_id, cycle_id=cycle_id, cycle__committee_id=committee_id
        )
        certify_batch(batch=batch, actor=actor, progress=progress)
        message = _("Batch %(number)s is certified; certificates are issued.") % {"number": batch.number}
        batch.cycle.refresh_from_db()
        if batch.cycle.status == CycleStatus.CLOSED:
            message += " " + _("Every assessment is final: the cycle is closed.")
        return message

    return _bulk_operation(self, actor_id, work)


@shared_task(base=RecordedTask, bind=True, name="reports.tasks.open_cycle_task")
def open_cycle_task(self, committee_id: int, fields: dict, actor_id: int, token: str) -> dict:
    """Open a cycle with one assessment per active branch; ``fields`` as ``cycle_settings`` made them."""

    def work(actor, progress) -> tuple[str, dict]:
        committee = Organization.objects.get(pk=committee_id, kind=OrgKind.COMMITTEE)
        cycle = open_cycle(committee=committee, actor=actor, progress=progress, **cycle_arguments(fields))
        return _("The cycle “%(name)s” is open.") % {"name": cycle.name}, {"cycle_id": cycle.pk}

    return _bulk_operation(self, actor_id, work)


def _cycle(committee_id: int, cycle_id: int) -> Cycle:
    return Cycle.objects.select_related("committee").get(pk=cycle_id, committee_id=committee_id)
