"""Writes of the quarterly bulletin: generate (idempotent) and publish (once, for good).

A bulletin row is unique per committee and quarter. ``generate_bulletin`` inserts the row
first and lets the unique constraint stop a second one (an ``exists()`` check does not stop
concurrent duplicates), then computes the data, freezes it and renders the PDF and the
Excel file from it. While one worker generates, it holds the row locked; a concurrent call
finds it locked and returns the row as it stands instead of rendering a second time.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.errors import WorkflowError
from branches.models import Organization, OrgKind

from ..bulletin.data import bulletin_data
from ..bulletin.pdf import bulletin_pdf
from ..bulletin.xlsx import bulletin_xlsx
from ..models import Bulletin, BulletinStatus
from ..quarters import check_quarter
from ..selectors import can_manage_bulletins

logger = logging.getLogger(__name__)


def bulletin_file_name(*, committee_id: int, year: int, quarter: int, suffix: str) -> str:
    """Storage name under MEDIA_ROOT: bulletins/<committee>/<year>Q<quarter>.<suffix>."""
    return f"bulletins/{committee_id}/{year}Q{quarter}.{suffix}"


def _media_path(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


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
                _fill(bulletin, committee)
        except Exception as exc:
            logger.exception("Bulletin %s %sQ%s failed", committee.pk, year, quarter)
            failure = exc
            bulletin.status = BulletinStatus.FAILED
            bulletin.error = f"{type(exc).__name__}: {exc}"[:4000]
            bulletin.pdf = bulletin.xlsx = ""
            bulletin.save(update_fields=["status", "error", "pdf", "xlsx"])
    if failure is not None:
        raise failure
    return bulletin


def _fill(bulletin: Bulletin, committee: Organization) -> None:
    """Compute the data, render the PDF (refusing missing glyphs) and the workbook, save the row."""
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
            bulletin.status = BulletinStatus.FAILED
            bulletin.error = _(
                "The PDF was refused: the font lacks characters it needs (%(count)s missing-glyph "
                "warnings, e.g. “%(first)s”)."
            ) % {"count": len(result.notdef_warnings), "first": result.notdef_warnings[0]}
            bulletin.data, bulletin.pdf, bulletin.xlsx = data, "", ""
            bulletin.generated_at = timezone.now()
            bulletin.save(update_fields=["status", "error", "data", "pdf", "xlsx", "generated_at"])
            return
        bulletin_xlsx(data, _media_path(names["xlsx"]))
    bulletin.data = data
    bulletin.pdf, bulletin.xlsx = names["pdf"], names["xlsx"]
    bulletin.status = BulletinStatus.DRAFT
    bulletin.error = ""
    bulletin.generated_at = timezone.now()
    bulletin.save(update_fields=["data", "pdf", "xlsx", "status", "error", "generated_at"])
    logger.info(
        "Bulletin %s %sQ%s generated: %s pages", committee.pk, bulletin.year, bulletin.quarter, result.pages
    )


def publish_bulletin(*, bulletin: Bulletin, actor) -> Bulletin:
    """Publish a draft. Afterwards it never changes; a second click changes nothing and is refused."""
    if not can_manage_bulletins(actor, bulletin.committee):
        raise PermissionDenied(_("Your role does not allow this action."))
    now = timezone.now()
    changed = Bulletin.objects.filter(pk=bulletin.pk, status=BulletinStatus.DRAFT).update(
        status=BulletinStatus.PUBLISHED, published_at=now, published_by=actor
    )
    bulletin.refresh_from_db()
    if not changed:
        if bulletin.status == BulletinStatus.PUBLISHED:
            raise WorkflowError(_("This bulletin has already been published."))
        raise WorkflowError(
            _("This bulletin is “%(status)s”; only a draft can be published.")
            % {"status": bulletin.get_status_display()}
        )
    logger.info("Bulletin %s published by %s", bulletin.pk, actor.pk)
    return bulletin


__all__ = [
    "bulletin_file_name",
    "generate_bulletin",
    "publish_bulletin",
]
