"""Quarterly checks: opening a round, self-reports, scoring, returning, publishing with the rankings."""

import datetime
from collections import defaultdict
from collections.abc import Callable, Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.errors import WorkflowError
from branches.models import Organization, OrgKind
from branches.roles import COMMITTEE_MANAGERS, SECRETARIES
from branches.selectors import require_role
from branches.workflow import actor_or_none, move_status
from reviews.models import Certificate, CertificateStatus
from reviews.uploads import check_file_count, check_upload
from scoring.arithmetic import ScoreError, validate_item_score
from scoring.models import Item
from scoring.services.defaults import ensure_default_check_standard

from .. import signals
from ..models import (
    CheckFile,
    CheckRound,
    CheckRoundEvent,
    CheckRoundStatus,
    CheckScore,
    CheckSelfReport,
    CheckSheet,
    CheckSheetEvent,
    CheckSheetStatus,
)
from ..ranking import last_in_group, rank_change, shared_ranks
from ..selectors import check_items, check_quarter_bounds, check_scorer_roles, check_standard_for
from ..workflow import ROUND_TRANSITIONS, SCORABLE, SHEET_TRANSITIONS

# After the quarter's last day, the parent reviewers have this long to score.
SCORING_DAYS_AFTER_QUARTER = 15


def move_check_round(
    *, round_id: int, action: str, actor, note: str = "", apply: Callable[[CheckRound], None] | None = None
) -> CheckRound:
    """Lock the round, check the role on its committee and its state, run ``apply``, record."""
    return move_status(
        queryset=CheckRound.objects.select_related("committee"),
        pk=round_id,
        transitions=ROUND_TRANSITIONS,
        action=action,
        actor=actor,
        authorize=lambda user, spec, row: require_role(user, spec.roles, row.committee),
        refused=_("This quarterly check is “%(status)s”; the action “%(action)s” is not possible now."),
        event=lambda row, **fields: CheckRoundEvent.objects.create(round=row, **fields),
        note=note,
        apply=apply,
    )


def move_check_sheet(
    *, sheet_id: int, action: str, actor, note: str = "", apply: Callable[[CheckSheet], None] | None = None
) -> CheckSheet:
    """Lock the sheet, check the role on its branch and its state, run ``apply``, record."""
    return move_status(
        queryset=CheckSheet.objects.select_related("branch", "round__standard"),
        pk=sheet_id,
        transitions=SHEET_TRANSITIONS,
        action=action,
        actor=actor,
        authorize=lambda user, spec, row: require_role(
            user, check_scorer_roles(row.branch) if action == "submit" else spec.roles, row.branch
        ),
        refused=_("This check sheet is “%(status)s”; the action “%(action)s” is not possible now."),
        event=lambda row, **fields: CheckSheetEvent.objects.create(sheet=row, **fields),
        note=note,
        apply=apply,
    )


# --- Opening ------------------------------------------------------------------------------------


@transaction.atomic
def open_check_round(
    *,
    committee: Organization,
    year: int,
    quarter: int,
    actor=None,
    self_reports: bool = True,
    self_report_deadline: datetime.date | None = None,
    scoring_deadline: datetime.date | None = None,
) -> tuple[CheckRound, bool]:
    """The committee's round of the quarter, opened now unless it exists; (round, created).

    ``actor`` None is the quarterly schedule (idempotent: a second run finds the round); a
    person must be the committee's approver or staff, and is refused a round already open.
    The round pins the committee's newest published routine-check standard (the shipped
    default when there is none) and gets one sheet per active branch of the committee.
    """
    if committee.kind != OrgKind.COMMITTEE:
        raise ValidationError(_("Only a working committee runs quarterly checks."))
    if not 1 <= int(quarter) <= 4:
        raise ValidationError({"quarter": _("A quarter is 1, 2, 3 or 4.")})
    if actor is not None:
        require_role(actor, COMMITTEE_MANAGERS, committee)
    # Lock the committee's row: two openers of the same quarter are serialized here.
    Organization.objects.select_for_update().filter(pk=committee.pk).first()
    existing = CheckRound.objects.filter(committee_id=committee.pk, year=year, quarter=quarter).first()
    if existing is not None:
        if actor is not None:
            raise ValidationError(
                {
                    "quarter": _("The quarterly check of %(label)s is already open.")
                    % {"label": existing.label}
                }
            )
        return existing, False
    _first, last = check_quarter_bounds(year, quarter)
    self_report_deadline = self_report_deadline or last
    scoring_deadline = scoring_deadline or last + datetime.timedelta(days=SCORING_DAYS_AFTER_QUARTER)
    if scoring_deadline < self_report_deadline:
        raise ValidationError({"scoring_deadline": _("Scoring cannot end before the self-reports are due.")})
    standard = check_standard_for(committee)
    if standard is None:
        ensure_default_check_standard()
        standard = check_standard_for(committee)
    check_round = CheckRound.objects.create(
        committee=committee,
        year=year,
        quarter=quarter,
        standard=standard,
        self_reports=self_reports,
        self_report_deadline=self_report_deadline,
        scoring_deadline=scoring_deadline,
        opened_by=actor_or_none(actor),
    )
    branches = Organization.objects.filter(
        kind=OrgKind.BRANCH, is_active=True, committee_id=committee.pk
    ).values_list("pk", "parent_id")
    CheckSheet.objects.bulk_create(
        CheckSheet(round=check_round, branch_id=pk, group_id=parent_id) for pk, parent_id in branches
    )
    CheckRoundEvent.objects.create(
        round=check_round,
        actor=actor_or_none(actor),
        action="open",
        from_status="",
        to_status=CheckRoundStatus.OPEN,
        note="" if actor is not None else _("Opened by the quarterly schedule."),
    )
    return check_round, True


# --- The secretary's self-report ---------------------------------------------------------------------


def _check_item(check_round: CheckRound, item_id) -> Item:
    item = Item.objects.filter(pk=item_id, dimension__standard_id=check_round.standard_id).first()
    if item is None:
        raise ValidationError(
            _("This item is not part of the quarterly check's standard."), code="wrong_item"
        )
    return item


def _lock_for_self_report(sheet: CheckSheet, actor) -> CheckSheet:
    require_role(actor, SECRETARIES, sheet.branch)
    locked = CheckSheet.objects.select_for_update().select_related("round").get(pk=sheet.pk)
    check_round = locked.round
    if not check_round.self_reports:
        raise WorkflowError(_("This quarterly check takes no self-reports."))
    if check_round.status != CheckRoundStatus.OPEN or locked.status not in SCORABLE:
        raise WorkflowError(
            _("The scores of this check are submitted; the self-report can no longer change.")
        )
    if timezone.localdate() > check_round.self_report_deadline:
        raise WorkflowError(
            _("Self-reports were due by %(day)s.") % {"day": f"{check_round.self_report_deadline:%Y-%m-%d}"}
        )
    return locked


@transaction.atomic
def save_self_report(*, sheet: CheckSheet, actor, texts: Mapping[int, str]) -> int:
    """Write the secretary's self-report per item (an empty text removes it); returns how many are kept."""
    locked = _lock_for_self_report(sheet, actor)
    items = {item.pk for item in check_items(locked.round.standard_id)}
    for item_id, text in texts.items():
        if item_id not in items:
            raise ValidationError(
                _("This item is not part of the quarterly check's standard."), code="wrong_item"
            )
        text = (text or "").strip()
        if len(text) > 1000:
            raise ValidationError(_("A self-report may be at most 1000 characters."))
        if text:
            CheckSelfReport.objects.update_or_create(
                sheet=locked, item_id=item_id, defaults={"text": text, "written_by": actor}
            )
        else:
            CheckSelfReport.objects.filter(sheet=locked, item_id=item_id).delete()
    return CheckSelfReport.objects.filter(sheet=locked).count()


def add_self_report_file(*, sheet: CheckSheet, actor, item_id: int, uploaded_file: UploadedFile) -> CheckFile:
    """Check an uploaded file (reviews.uploads.check_upload) and attach it to one item of the sheet."""
    require_role(actor, SECRETARIES, sheet.branch)
    checked = check_upload(uploaded_file)
    with transaction.atomic():
        locked = _lock_for_self_report(sheet, actor)
        item = _check_item(locked.round, item_id)
        check_file_count(CheckFile.objects.filter(sheet_id=locked.pk, item_id=item.pk).count())
        row = CheckFile(
            branch_id=locked.branch_id,
            sheet=locked,
            item=item,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=actor,
        )
        row.file.save(checked.name, uploaded_file, save=False)
        try:
            row.save()
        except Exception:
            row.file.storage.delete(row.file.name)
            raise
    return row


# --- The parent reviewer's scores -------------------------------------------------------------------------


def _lock_for_scoring(sheet: CheckSheet, actor) -> CheckSheet:
    locked = (
        CheckSheet.objects.select_for_update(of=("self",))
        .select_related("round", "branch__parent")
        .get(pk=sheet.pk)
    )
    require_role(actor, check_scorer_roles(locked.branch), locked.branch)
    if locked.round.status != CheckRoundStatus.OPEN:
        raise WorkflowError(_("This quarterly check has already been published."))
    if locked.status not in SCORABLE:
        raise WorkflowError(
            _("These scores have been submitted; ask the committee to return them to change them.")
        )
    return locked


@transaction.atomic
def save_sheet_scores(
    *, sheet: CheckSheet, actor, scores: Mapping[int, tuple[object, str]], comment: str = ""
) -> CheckSheet:
    """Keep the parent reviewer's scores so far (a blank score leaves the item unscored).

    ``scores`` maps item ids to (score, comment); a bad score refuses the whole save with the
    item's code in the message, so nothing typed is half kept.
    """
    locked = _lock_for_scoring(sheet, actor)
    items = {item.pk: item for item in check_items(locked.round.standard_id)}
    errors: dict[str, list[str]] = {}
    cleaned: dict[int, tuple[Decimal | None, str]] = {}
    for item_id, (raw, item_comment) in scores.items():
        item = items.get(item_id)
        if item is None:
            raise ValidationError(
                _("This item is not part of the quarterly check's standard."), code="wrong_item"
            )
        item_comment = (item_comment or "").strip()[:1000]
        if raw in (None, ""):
            cleaned[item_id] = (None, item_comment)
            continue
        try:
            cleaned[item_id] = (validate_item_score(raw, item.max_score), item_comment)
        except ScoreError as error:
            errors[f"score_{item_id}"] = [f"{item.code}: {error}"]
    if errors:
        raise ValidationError(errors)
    # Replace the rows of the items sent (two statements however many items there are).
    CheckScore.objects.filter(sheet=locked, item_id__in=list(cleaned)).delete()
    CheckScore.objects.bulk_create(
        CheckScore(sheet=locked, item_id=item_id, score=score, comment=item_comment)
        for item_id, (score, item_comment) in cleaned.items()
        if score is not None
    )
    locked.comment = (comment or "").strip()[:2000]
    locked.scored_by = actor
    locked.save(update_fields=["comment", "scored_by"])
    return locked


@transaction.atomic
def submit_sheet_scores(*, sheet: CheckSheet, actor) -> CheckSheet:
    """Submit a sheet whose every item is scored; its total is fixed from then on."""

    def total_up(locked: CheckSheet) -> None:
        if locked.round.status != CheckRoundStatus.OPEN:
            raise WorkflowError(_("This quarterly check has already been published."))
        scored = dict(CheckScore.objects.filter(sheet_id=locked.pk).values_list("item_id", "score"))
        missing = [item.code for item in check_items(locked.round.standard_id) if item.pk not in scored]
        if missing:
            raise ValidationError(
                _("Score every item before submitting; still missing: %(codes)s.")
                % {"codes": ", ".join(missing)}
            )
        locked.total = min(sum(scored.values(), Decimal("0")), locked.round.standard.max_score)
        locked.scored_by = actor
        locked.submitted_at = timezone.now()
        locked.return_reason = ""

    stored = move_check_sheet(sheet_id=sheet.pk, action="submit", actor=actor, apply=total_up)
    _copy(stored, sheet)
    return stored


@transaction.atomic
def return_sheet(*, sheet: CheckSheet, actor, reason: str) -> CheckSheet:
    """The committee's approver or staff sends submitted scores back to the parent reviewer."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the scores go back.")})

    def reopen(locked: CheckSheet) -> None:
        if locked.round.status != CheckRoundStatus.OPEN:
            raise WorkflowError(_("This quarterly check has already been published."))
        locked.return_reason = reason
        locked.total = None

    stored = move_check_sheet(sheet_id=sheet.pk, action="return", actor=actor, note=reason, apply=reopen)
    _copy(stored, sheet)
    return stored


def _copy(stored: CheckSheet, sheet: CheckSheet) -> None:
    for name in ("status", "total", "submitted_at", "return_reason", "scored_by_id"):
        setattr(sheet, name, getattr(stored, name))


# --- Publication ---------------------------------------------------------------------------------------


def stars_in_force(branch_ids: list[int], today: datetime.date) -> dict[int, Certificate]:
    """The certificate in force of each branch that has one (one query)."""
    return {
        certificate.branch_id: certificate
        for certificate in Certificate.objects.filter(
            branch_id__in=branch_ids, status=CertificateStatus.VALID, valid_until__gte=today
        ).select_related("assessment__cycle")
    }


def _previous_published(check_round: CheckRound) -> CheckRound | None:
    """The committee's latest published round before this one's quarter."""
    earlier = Q(year__lt=check_round.year) | Q(year=check_round.year, quarter__lt=check_round.quarter)
    return (
        CheckRound.objects.filter(
            earlier, committee_id=check_round.committee_id, status=CheckRoundStatus.PUBLISHED
        )
        .order_by("-year", "-quarter")
        .first()
    )


def _rank(check_round: CheckRound, sheets: list[CheckSheet]) -> None:
    """Fill in ranks, last places, changes and stars in force on ``sheets`` (in memory)."""
    totals = {sheet.pk: sheet.total for sheet in sheets}
    committee_ranks = shared_ranks(totals)
    groups: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for sheet in sheets:
        groups[sheet.group_id][sheet.pk] = sheet.total
    group_ranks: dict[int, int] = {}
    last: set[int] = set()
    for members in groups.values():
        group_ranks.update(shared_ranks(members))
        last |= last_in_group(members)
    previous = _previous_published(check_round)
    before = dict(previous.sheets.values_list("branch_id", "rank_committee")) if previous is not None else {}
    certificates = stars_in_force([sheet.branch_id for sheet in sheets], timezone.localdate())
    for sheet in sheets:
        sheet.rank_committee = committee_ranks[sheet.pk]
        sheet.rank_group = group_ranks[sheet.pk]
        sheet.group_size = len(groups[sheet.group_id])
        sheet.is_last_in_group = sheet.pk in last
        sheet.rank_change = rank_change(before.get(sheet.branch_id), sheet.rank_committee)
        certificate = certificates.get(sheet.branch_id)
        sheet.stars_in_force = certificate.stars if certificate is not None else None


@transaction.atomic
def publish_check_round(*, check_round: CheckRound, actor) -> CheckRound:
    """Publish the round: every sheet must be submitted; ranks, changes and stars are frozen.

    Publication then raises the 班子调整 flags of branches now last twice in the year, proposes
    downgrades for scores far below the star in force, and recomputes the year results.
    """
    from .years import after_publication  # the year's consequences, kept in their own module

    def freeze(locked: CheckRound) -> None:
        sheets = list(CheckSheet.objects.select_for_update().filter(round_id=locked.pk).order_by("pk"))
        if not sheets:
            raise WorkflowError(_("This quarterly check has no branches to publish."))
        waiting = [sheet for sheet in sheets if sheet.status != CheckSheetStatus.SUBMITTED]
        if waiting:
            raise WorkflowError(
                _("%(count)s branch(es) still wait for their scores; publish once every sheet is submitted.")
                % {"count": len(waiting)}
            )
        _rank(locked, sheets)
        spec = SHEET_TRANSITIONS["publish"]
        for sheet in sheets:
            sheet.status = spec.target
        CheckSheet.objects.bulk_update(
            sheets,
            [
                "status",
                "rank_committee",
                "rank_group",
                "group_size",
                "is_last_in_group",
                "rank_change",
                "stars_in_force",
            ],
            batch_size=1000,
        )
        CheckSheetEvent.objects.bulk_create(
            (
                CheckSheetEvent(
                    sheet=sheet,
                    actor=actor_or_none(actor),
                    action="publish",
                    from_status=CheckSheetStatus.SUBMITTED,
                    to_status=spec.target,
                )
                for sheet in sheets
            ),
            batch_size=1000,
        )
        locked.published_at = timezone.now()

    stored = move_check_round(round_id=check_round.pk, action="publish", actor=actor, apply=freeze)
    after_publication(stored)
    signals.send(signals.check_round_published, sender=CheckRound, check_round=stored, actor=actor)
    check_round.status, check_round.published_at = stored.status, stored.published_at
    return stored


__all__ = [
    "add_self_report_file",
    "move_check_round",
    "move_check_sheet",
    "open_check_round",
    "publish_check_round",
    "return_sheet",
    "save_self_report",
    "save_sheet_scores",
    "stars_in_force",
    "submit_sheet_scores",
]
