"""Writes of the bulletins: generate (idempotent) and publish (once, for good).

A quarterly bulletin row is unique per committee and quarter, a year bulletin (年度通报) per
committee and year; both go through the same steps. ``generate_bulletin`` inserts the row
first and lets the unique constraint stop a second one (an ``exists()`` check does not stop
concurrent duplicates), then computes the data, freezes it and renders the PDF and the
Excel file from it. While one worker generates, it holds the row locked; a concurrent call
finds it locked and returns the row as it stands instead of rendering a second time.

Every change of a bulletin's status goes through ``move_bulletin`` along
``reports.workflow.BULLETIN_TRANSITIONS`` and is recorded as a ``BulletinEvent``.
"""

import contextlib
import gc
import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.models import Organization, OrgKind
from branches.selectors import require_role
from branches.workflow import move_status

from .. import files
from ..bulletin.data import bulletin_data
from ..bulletin.pdf import annex_pdf, bulletin_pdf
from ..bulletin.xlsx import bulletin_xlsx
from ..bulletin.year import check_year_ready, year_bulletin_data
from ..models import Bulletin, BulletinAnnex, BulletinEvent, BulletinKind, BulletinStatus
from ..quarters import check_quarter
from ..workflow import BULLETIN_TRANSITIONS

logger = logging.getLogger(__name__)


def bulletin_file_name(*, committee_id: int, year: int, quarter: int | None, suffix: str) -> str:
    """Name in the default storage: bulletins/<committee>/<year>Q<quarter>.<suffix>, and
    bulletins/<committee>/<year>.<suffix> for a year bulletin (no quarter)."""
    if quarter is None:
        return f"bulletins/{committee_id}/{year}.{suffix}"
    return f"bulletins/{committee_id}/{year}Q{quarter}.{suffix}"


def annex_file_name(*, committee_id: int, year: int, quarter: int, unit_id: int) -> str:
    """Name in the default storage of a party committee's annex: bulletins/<committee>/<year>Q<quarter>-annex-<unit>.pdf."""
    return f"bulletins/{committee_id}/{year}Q{quarter}-annex-{unit_id}.pdf"


def remove_annex_temporaries(*, committee_id: int, year: int, quarter: int | None) -> list[str]:
    """Delete the temporary keys a killed render left of this bulletin's annexes; returns them.

    The annexes' party committees are known only once the data is computed, so every temporary
    key of the bulletin's annex names goes. The caller holds the bulletin's row lock, as for
    ``files.remove_temporaries``: no live render can own one of them.
    """
    if quarter is None:
        return []
    folder = f"bulletins/{committee_id}"
    prefix = f".{year}Q{quarter}-annex-"
    try:
        _folders, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    removed = [
        f"{folder}/{name}"
        for name in sorted(names)
        if name.startswith(prefix) and name.endswith(files.TEMPORARY_SUFFIX)
    ]
    for name in removed:
        default_storage.delete(name)
    return removed


@contextlib.contextmanager
def _scratch_folder() -> Iterator[Path]:
    """A private folder on this machine for the renderers; the storage gets only finished files."""
    with tempfile.TemporaryDirectory(prefix="bulletin-render-") as folder:
        yield Path(folder)


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
    check_quarter(year=year, quarter=quarter)
    return _generate(committee_id, kind=BulletinKind.QUARTERLY, year=year, quarter=quarter)


def generate_year_bulletin(*, committee_id: int, year: int) -> Bulletin:
    """Create or refresh the committee's year bulletin (年度通报) of ``year``, exactly as
    ``generate_bulletin`` does a quarter's. Refused (ValidationError, no row) until the four
    quarterly checks of the year are published."""
    check_year_ready(committee_id, year)
    return _generate(committee_id, kind=BulletinKind.YEAR, year=year, quarter=None)


def _generate(committee_id: int, *, kind: str, year: int, quarter: int | None) -> Bulletin:
    committee = Organization.objects.get(pk=committee_id, kind=OrgKind.COMMITTEE)
    key = {"committee_id": committee.pk, "kind": kind, "year": year, "quarter": quarter}
    try:
        with transaction.atomic():
            Bulletin.objects.create(**key)
    except IntegrityError:
        pass  # it exists: refresh it below unless it is published or being generated

    failure: Exception | None = None
    with transaction.atomic():
        # The row lock says "being generated": skip_locked answers at once instead of queueing.
        bulletin = Bulletin.objects.select_for_update(skip_locked=True).filter(**key).first()
        if bulletin is None:
            return Bulletin.objects.get(**key)
        if bulletin.status == BulletinStatus.PUBLISHED:
            return bulletin
        try:
            with transaction.atomic():  # a savepoint: a database error still lets us record the failure
                bulletin = _fill(bulletin, committee)
        except Exception as exc:
            logger.exception("Bulletin %s %s %s Q%s failed", committee.pk, kind, year, quarter)
            failure = exc
            error = f"{type(exc).__name__}: {exc}"[:4000]

            def record(locked: Bulletin) -> None:
                locked.error = error
                locked.pdf = locked.xlsx = ""
                _drop_annexes(locked, keep=set())

            bulletin = move_bulletin(
                bulletin_id=bulletin.pk, action="fail", actor=None, note=error, apply=record
            )
    if failure is not None:
        raise failure
    return bulletin


def _drop_annexes(bulletin: Bulletin, *, keep: set[int]) -> None:
    """Delete the bulletin's annex rows (and their files) of the party committees not in ``keep``."""
    for annex in bulletin.annexes.exclude(unit_id__in=keep):
        files.delete_file(annex.pdf.name)
        annex.delete()


def _render_annexes(
    bulletin: Bulletin, committee: Organization, data: dict, scratch: Path
) -> tuple[list, list]:
    """Render and store the annex of each party committee, one at a time: WeasyPrint's memory
    is per document, so each is printed, uploaded and its scratch file removed before the next.
    Returns (the annexes as field values, the missing-glyph warnings of any annex)."""
    rendered, warnings = [], []
    for position, unit in enumerate(data.get("units", [])):
        local = scratch / f"annex-{unit['id']}.pdf"
        result = annex_pdf(data, unit, local)
        if result.notdef_warnings:
            warnings.extend(result.notdef_warnings)
            local.unlink(missing_ok=True)
            break
        name = annex_file_name(
            committee_id=committee.pk, year=bulletin.year, quarter=bulletin.quarter, unit_id=unit["id"]
        )
        files.save_generated(local, name)
        local.unlink(missing_ok=True)
        rendered.append(
            {
                "unit_id": unit["id"],
                "name": unit["name"],
                "position": position,
                "branches": unit["branches"],
                "pages": result.pages,
                "pdf": name,
            }
        )
        del result
        gc.collect()
    return rendered, warnings


def _fill(bulletin: Bulletin, committee: Organization) -> Bulletin:
    """Compute the data, render the PDF (refusing missing glyphs), the workbook and the annexes
    per party committee, move the row."""
    names = {
        suffix: bulletin_file_name(
            committee_id=committee.pk, year=bulletin.year, quarter=bulletin.quarter, suffix=suffix
        )
        for suffix in ("pdf", "xlsx")
    }
    with translation.override(settings.LANGUAGE_CODE), _scratch_folder() as scratch:
        if bulletin.is_year:
            data = year_bulletin_data(committee=committee, year=bulletin.year)
        else:
            data = bulletin_data(committee=committee, year=bulletin.year, quarter=bulletin.quarter)
        result = bulletin_pdf(data, scratch / "bulletin.pdf")
        gc.collect()
        annexes, annex_warnings = (
            ([], []) if result.notdef_warnings else _render_annexes(bulletin, committee, data, scratch)
        )
        warnings = result.notdef_warnings or annex_warnings
        if warnings:
            files.delete_file(names["pdf"])
            for annex in annexes:
                files.delete_file(annex["pdf"])
            error = _(
                "The PDF was refused: the font lacks characters it needs (%(count)s missing-glyph "
                "warnings, e.g. “%(first)s”)."
            ) % {"count": len(warnings), "first": warnings[0]}

            def refuse(locked: Bulletin) -> None:
                locked.error = error
                locked.data, locked.pdf, locked.xlsx = data, "", ""
                locked.generated_at = timezone.now()
                _drop_annexes(locked, keep=set())

            return move_bulletin(bulletin_id=bulletin.pk, action="fail", actor=None, note=error, apply=refuse)
        bulletin_xlsx(data, scratch / "bulletin.xlsx")
        # Both rendered: now into the storage, each staged then published in one step. The row
        # names them only once this worked, so no reader is ever sent to a missing or half file.
        for suffix in ("pdf", "xlsx"):
            files.save_generated(scratch / f"bulletin.{suffix}", names[suffix])

    def keep(locked: Bulletin) -> None:
        locked.data = data
        locked.pdf, locked.xlsx = names["pdf"], names["xlsx"]
        locked.error = ""
        locked.generated_at = timezone.now()
        _drop_annexes(locked, keep={annex["unit_id"] for annex in annexes})
        for annex in annexes:
            BulletinAnnex.objects.update_or_create(
                bulletin=locked,
                unit_id=annex["unit_id"],
                defaults={key: value for key, value in annex.items() if key != "unit_id"},
            )

    bulletin = move_bulletin(bulletin_id=bulletin.pk, action="generate", actor=None, apply=keep)
    logger.info(
        "Bulletin %s %s generated: %s pages, %s annexes",
        committee.pk,
        bulletin.file_stem,
        result.pages,
        len(annexes),
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
    "annex_file_name",
    "bulletin_file_name",
    "generate_bulletin",
    "generate_year_bulletin",
    "move_bulletin",
    "publish_bulletin",
    "remove_annex_temporaries",
]
