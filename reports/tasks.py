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

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from branches.models import Organization, OrgKind
from checks.services.rounds import open_check_round
from reviews.services.decision import expire_due_certificates

from . import files
from .jobs import RecordedTask
from .models import Bulletin, BulletinStatus
from .quarters import previous_quarter, quarter_of
from .services.bulletins import bulletin_file_name, generate_bulletin, generate_year_bulletin
from .services.notices import send_quarterly_notices
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
