"""Writes of the quarterly bulletin: generate (idempotent) and publish (once, for good).

A bulletin row is unique per committee and quarter. ``generate_bulletin`` inserts the row
first and lets the unique constraint stop a second one (an ``exists()`` check does not stop
concurrent duplicates), then computes the data, freezes it and renders the PDF and the
Excel file from it. While one worker generates, it holds the row locked; a concurrent call
finds it locked and returns the row as it stands instead of rendering a second time.

Every change of a bulletin's status goes through ``move_bulletin`` along
``reports.workflow.BULLETIN_TRANSITIONS`` and is recorded as a ``BulletinEvent``.
"""

import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.models import Organization, OrgKind
from branches.selectors import require_role
from branches.workflow import move_status

from ..bulletin.data import bulletin_data
from ..bulletin.pdf import bulletin_pdf
from ..bulletin.xlsx import bulletin_xlsx
from ..models import Bulletin, BulletinEvent, BulletinStatus
from ..quarters import check_quarter
from ..workflow import BULLETIN_TRANSITIONS

logger = logging.getLogger(__name__)


def bulletin_file_name(*, committee_id: int, year: int, quarter: int, suffix: str) -> str:
    """Storage name under MEDIA_ROOT: bulletins/<committee>/<year>Q<quarter>.<suffix>."""
    return f"bulletins/{committee_id}/{year}Q{quarter}.{suffix}"


def _media_path(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def move_bulletin(
    *,
    bulletin_id: int,
    action: str,
    actor,
    note: str = "",
    apply: Callable[[Bulletin], None] | None = None,
) -> Bulletin:
    """Lock the bulletin, check who acts and its state, run ``apply``, set the status, record.

    The only writer of a bulletin's status. A worker's moves (generate, fail) have no role
    and no actor; a person's (publish) needs a managing role on the bulletin's committee.
    """
    return move_status(
        queryset=Bulletin.objects.select_related("committee"),
        pk=bulletin_id,
        transitions=BULLETIN_TRANSITIONS,
        action=action,
        actor=actor,
        authorize=lambda user, spec, row: require_role(user, spec.roles, row.committee),
        refused=_("This bulletin is “%(status)s”; the action “%(action)s” is not possible now."),
        event=lambda row, **fields: BulletinEvent.objects.create(bulletin=row, **fields),
        note=note,
        apply=apply,
    )


def generate_bulletin(*, committee_id: int, year: int, quarter: int) -> Bulletin:
    """Create or refresh the committee's bulletin of the quarter; returns its row.

    Idempotent: calling it twice, even at the same time, leaves one row. A published
    bulletin is returned untouched; a draft or failed one is generated again. A PDF in which
    WeasyPrint had to draw missing-glyph boxes is refused: the bulletin is marked failed with
    the reason. An unexpected error marks it failed too, then propagates (the task layer
    records and retries it).
    """
    committee = Organization.objects.get(pk=committee_id, kind=OrgKind.COMMITTEE)
    check_quarter(year=year, quarter=quarter)
    try:
        with transaction.atomic():
            Bulletin.objects.create(committee=committee, year=year, quarter=quarter)
    except IntegrityError:
        pass  # it exists: refresh it below unless it is published or being generated

    failure: Exception | None = None
    with transaction.atomic():
        # The row lock says "being generated": skip_locked answers at once instead of queueing.
        bulletin = (
            Bulletin.objects.select_for_update(skip_locked=True)
            .filter(committee_id=committee.pk, year=year, quarter=quarter)
            .first()
        )
        if bulletin is None:
            return Bulletin.objects.get(committee_id=committee.pk, year=year, quarter=quarter)
        if bulletin.status == BulletinStatus.PUBLISHED:
            return bulletin
        try:
            with transaction.atomic():  # a savepoint: a database error still lets us record the failure
                bulletin = _fill(bulletin, committee)
        except Exception as exc:
            logger.exception("Bulletin %s %sQ%s failed", committee.pk, year, quarter)
            failure = exc
            error = f"{type(exc).__name__}: {exc}"[:4000]

            def record(locked: Bulletin) -> None:
                locked.error = error
                locked.pdf = locked.xlsx = ""

            bulletin = move_bulletin(
                bulletin_id=bulletin.pk, action="fail", actor=None, note=error, apply=record
            )
    if failure is not None:
        raise failure
    return bulletin


def _fill(bulletin: Bulletin, committee: Organization) -> Bulletin:
    """Compute the data, render the PDF (refusing missing glyphs) and the workbook, move the row."""
    names = {
        suffix: bulletin_file_name(
            committee_id=committee.pk, year=bulletin.year, quarter=bulletin.quarter, suffix=suffix
        )
        for suffix in ("pdf", "xlsx")
    }
    with translation.override(settings.LANGUAGE_CODE):
        data = bulletin_data(committee=committee, year=bulletin.year, quarter=bulletin.quarter)
        result = bulletin_pdf(data, _media_path(names["pdf"]))
        if result.notdef_warnings:
            _media_path(names["pdf"]).unlink(missing_ok=True)
            error = _(
                "The PDF was refused: the font lacks characters it needs (%(count)s missing-glyph "
                "warnings, e.g. “%(first)s”)."
            ) % {"count": len(result.notdef_warnings), "first": result.notdef_warnings[0]}

            def refuse(locked: Bulletin) -> None:
                locked.error = error
                locked.data, locked.pdf, locked.xlsx = data, "", ""
                locked.generated_at = timezone.now()

            return move_bulletin(bulletin_id=bulletin.pk, action="fail", actor=None, note=error, apply=refuse)
        bulletin_xlsx(data, _media_path(names["xlsx"]))

    def keep(locked: Bulletin) -> None:
        locked.data = data
        locked.pdf, locked.xlsx = names["pdf"], names["xlsx"]
        locked.error = ""
        locked.generated_at = timezone.now()

    bulletin = move_bulletin(bulletin_id=bulletin.pk, action="generate", actor=None, apply=keep)
    logger.info(
        "Bulletin %s %sQ%s generated: %s pages", committee.pk, bulletin.year, bulletin.quarter, result.pages
    )
    return bulletin


def publish_bulletin(*, bulletin: Bulletin, actor) -> Bulletin:
    """Publish a draft. Afterwards it never changes; a second click changes nothing and is refused."""

    def stamp(locked: Bulletin) -> None:
        locked.published_at = timezone.now()
        locked.published_by = actor

    published = move_bulletin(bulletin_id=bulletin.pk, action="publish", actor=actor, apply=stamp)
    logger.info("Bulletin %s published by %s", published.pk, actor.pk)
    return published


__all__ = [
    "bulletin_file_name",
    "generate_bulletin",
    "move_bulletin",
    "publish_bulletin",
]
