"""Writes of the official documents (公文): create a draft from its source, edit it, issue it.

A draft is made from frozen data (``reports.documents.data``) with default texts the committee's
staff or approver may edit. Issuing gives it the next document number of its committee and year
("滨直工委〔2026〕12号"), renders the .docx once and stores it through the storage API; afterwards
it never changes. Numbers run without gaps under concurrency: the issue takes the committee's
issuer row lock first, so two issues of one committee queue up, and the unique constraint on
(committee, year, number) refuses a duplicate whatever happens.

Every change of status goes through ``move_document`` (``branches.workflow.move_status``) and is
recorded as an ``OfficialDocumentEvent``; so is the creation of a draft.
"""

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.errors import WorkflowError
from branches.models import Organization
from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import require_role
from branches.workflow import move_status
from rectification.models import RUNNING
from reviews.models import Cycle, NoticeBatch

from .. import files
from ..documents.content import default_texts, document_number, paper_for
from ..documents.data import (
    bulletin_document_data,
    certification_results,
    commendation_data,
    rectification_data,
    results_notice_data,
    units_with_results,
)
from ..documents.docx import render_docx
from ..models import (
    Bulletin,
    BulletinKind,
    BulletinStatus,
    DocumentIssuer,
    DocumentKind,
    DocumentStatus,
    OfficialDocument,
    OfficialDocumentEvent,
)
from ..workflow import DOCUMENT_TRANSITIONS

logger = logging.getLogger(__name__)

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- The issuer -----------------------------------------------------------------------------------


def default_issuer_fields(committee: Organization) -> dict:
    """What a committee signs with until its staff say otherwise: its own name, as organ and code."""
    return {"organ_name": committee.name[:60], "code": committee.name[:20]}


def issuer_of(committee: Organization) -> DocumentIssuer:
    """The committee's issuer row, created with the defaults the first time it is needed."""
    issuer, _created = DocumentIssuer.objects.get_or_create(
        committee=committee, defaults=default_issuer_fields(committee)
    )
    return issuer


@transaction.atomic
def update_issuer(*, committee: Organization, organ_name: str, code: str, actor) -> DocumentIssuer:
    """Set the issuing organ's name and the document code (代字); issued documents keep theirs."""
    require_role(actor, COMMITTEE_MANAGERS, committee)
    issuer = issuer_of(committee)
    issuer = DocumentIssuer.objects.select_for_update().get(pk=issuer.pk)
    issuer.organ_name, issuer.code = organ_name.strip(), code.strip()
    issuer.save(update_fields=["organ_name", "code"])
    logger.info("Document issuer of committee %s changed by %s", committee.pk, getattr(actor, "pk", None))
    return issuer


# --- Creating drafts ------------------------------------------------------------------------------


def _create(
    *, committee: Organization, kind: str, source_key: str, data: dict, actor, **sources
) -> tuple[OfficialDocument, bool]:
    """The draft of ``kind`` for ``source_key``: the existing one, or a new one (with its event)."""
    existing = OfficialDocument.objects.filter(kind=kind, source_key=source_key).first()
    if existing is not None:
        return existing, False
    title, lead, closing = default_texts(kind, data)
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin's row wins, this one is dropped
            document = OfficialDocument.objects.create(
                committee=committee,
                kind=kind,
                source_key=source_key,
                data=data,
                title=title[:200],
                lead=lead,
                closing=closing,
                created_by=actor,
                **sources,
            )
    except IntegrityError:
        return OfficialDocument.objects.get(kind=kind, source_key=source_key), False
    OfficialDocumentEvent.objects.create(
        document=document, actor=actor, action="create", from_status="", to_status=DocumentStatus.DRAFT
    )
    issuer_of(committee)
    return document, True


@transaction.atomic
def create_bulletin_document(*, bulletin: Bulletin, actor) -> tuple[OfficialDocument, bool]:
    """The 通报 of a published quarterly bulletin: its frozen data as official text."""
    require_role(actor, COMMITTEE_MANAGERS, bulletin.committee)
    if bulletin.kind != BulletinKind.QUARTERLY or bulletin.status != BulletinStatus.PUBLISHED:
        raise WorkflowError(_("Only a published quarterly bulletin can be made into an official document."))
    return _create(
        committee=bulletin.committee,
        kind=DocumentKind.BULLETIN,
        source_key=f"bulletin:{bulletin.pk}",
        data=bulletin_document_data(bulletin),
        actor=actor,
        bulletin=bulletin,
    )


def _certified_source(cycle: Cycle, batch: NoticeBatch | None) -> tuple[dict, str]:
    if batch is not None and (batch.cycle_id != cycle.pk or batch.certified_at is None):
        raise WorkflowError(_("This public notice batch has not been certified yet."))
    results = certification_results(cycle=cycle, batch=batch)
    if not results["rows"]:
        raise WorkflowError(_("No result of this cycle has been certified yet."))
    key = f"cycle:{cycle.pk}" + (f":batch:{batch.number}" if batch is not None else "")
    return results, key


@transaction.atomic
def create_commendation(
    *, cycle: Cycle, batch: NoticeBatch | None = None, actor
) -> tuple[OfficialDocument, bool]:
    """The 表彰决定 of a cycle's (or one certified batch's) five-, four- and three-star branches."""
    require_role(actor, COMMITTEE_MANAGERS, cycle.committee)
    _results, key = _certified_source(cycle, batch)
    data = commendation_data(cycle=cycle, batch=batch)
    if not data["total"]:
        raise WorkflowError(
            _("No branch was certified with three stars or more; there is no one to commend.")
        )
    return _create(
        committee=cycle.committee,
        kind=DocumentKind.COMMENDATION,
        source_key=key,
        data=data,
        actor=actor,
        cycle=cycle,
        notice_batch=batch,
    )


@transaction.atomic
def create_results_notices(
    *, cycle: Cycle, batch: NoticeBatch | None = None, actor
) -> list[tuple[OfficialDocument, bool]]:
    """One 认定结果通知 per party committee with certified branches, in one go."""
    require_role(actor, COMMITTEE_MANAGERS, cycle.committee)
    results, key = _certified_source(cycle, batch)
    units = Organization.objects.in_bulk(units_with_results(results))
    made = []
    for unit_id in units_with_results(results):
        unit = units[unit_id]
        made.append(
            _create(
                committee=cycle.committee,
                kind=DocumentKind.RESULTS_NOTICE,
                source_key=f"{key}:unit:{unit.pk}",
                data=results_notice_data(results, unit=unit),
                actor=actor,
                cycle=cycle,
                notice_batch=batch,
                unit=unit,
            )
        )
    return made


@transaction.atomic
def create_rectification_notice(*, task, actor) -> tuple[OfficialDocument, bool]:
    """The 整改通知 of a rectification task, addressed to its branch."""
    committee = task.committee
    require_role(actor, COMMITTEE_MANAGERS, committee)
    if task.status not in RUNNING:
        raise WorkflowError(_("A rectification notice is made of a confirmed task that is still open."))
    data = rectification_data(task)
    return _create(
        committee=committee,
        kind=DocumentKind.RECTIFICATION_NOTICE,
        source_key=f"task:{task.pk}",
        data=data,
        actor=actor,
        unit=task.branch,
    )


# --- Moves -----------------------------------------------------------------------------------------


def move_document(
    *,
    document_id: int,
    action: str,
    actor,
    note: str = "",
    apply: Callable[[OfficialDocument], None] | None = None,
) -> OfficialDocument:
    """Lock the document, check who acts and its state, run ``apply``, set the status, record."""
    return move_status(
        queryset=OfficialDocument.objects.select_related("committee"),
        pk=document_id,
        transitions=DOCUMENT_TRANSITIONS,
        action=action,
        actor=actor,
        authorize=lambda user, spec, row: require_role(user, spec.roles, row.committee),
        refused=_("This document is “%(status)s”; the action “%(action)s” is not possible now."),
        event=lambda row, **fields: OfficialDocumentEvent.objects.create(document=row, **fields),
        note=note,
        apply=apply,
    )


def edit_document(
    *, document: OfficialDocument, title: str, lead: str, closing: str, actor
) -> OfficialDocument:
    """Change a draft's title, lead paragraph and closing text (refused once issued)."""

    def change(locked: OfficialDocument) -> None:
        locked.title, locked.lead, locked.closing = title.strip(), lead.strip(), closing.strip()

    return move_document(document_id=document.pk, action="edit", actor=actor, apply=change)


def document_file_name(*, committee_id: int, year: int, number: int) -> str:
    """Name in the default storage: documents/<committee>/<year>-<number>.docx."""
    return f"documents/{committee_id}/{year}-{number:03d}.docx"


def render_to(document: OfficialDocument, path: Path, *, issuer: DocumentIssuer) -> Path:
    """The document as a .docx at ``path`` (a draft marked as such, with a blank number)."""
    paper = paper_for(document, organ_name=issuer.organ_name, code=issuer.code)
    return render_docx(paper, path)


@transaction.atomic
def issue_document(*, document: OfficialDocument, actor) -> OfficialDocument:
    """Number, date, render and store the document; afterwards it never changes.

    The committee's issuer row is locked first: issues of one committee queue there, so each
    takes the next number of the year with none skipped (the unique constraint backs this up).
    """
    require_role(actor, COMMITTEE_MANAGERS, document.committee)
    issuer = DocumentIssuer.objects.select_for_update().get(pk=issuer_of(document.committee).pk)

    def stamp(locked: OfficialDocument) -> None:
        now = timezone.now()
        year = timezone.localdate(now, timezone.get_default_timezone()).year
        last = (
            OfficialDocument.objects.filter(committee_id=locked.committee_id, year=year).aggregate(
                last=Max("number")
            )["last"]
            or 0
        )
        locked.year, locked.number = year, last + 1
        with translation.override(settings.LANGUAGE_CODE):
            locked.document_number = document_number(issuer.code, year, locked.number)
        locked.organ_name = issuer.organ_name
        locked.issued_at, locked.issued_by = now, actor
        name = document_file_name(committee_id=locked.committee_id, year=year, number=locked.number)
        with tempfile.TemporaryDirectory(prefix="document-") as scratch:
            local = render_to(locked, Path(scratch) / "document.docx", issuer=issuer)
            locked.docx.name = files.save_generated(local, name)

    issued = move_document(document_id=document.pk, action="issue", actor=actor, apply=stamp)
    logger.info("Official document %s issued as %s by %s", issued.pk, issued.document_number, actor.pk)
    return issued


__all__ = [
    "DOCX_CONTENT_TYPE",
    "create_bulletin_document",
    "create_commendation",
    "create_rectification_notice",
    "create_results_notices",
    "document_file_name",
    "edit_document",
    "issue_document",
    "issuer_of",
    "move_document",
    "render_to",
    "update_issuer",
]
