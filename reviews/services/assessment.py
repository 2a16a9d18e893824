"""The branch's self-assessment (支部自评): drafts, evidence files and submission.

Veto items (一票否决项) carry no points; the branch only says whether one applies. That
answer is kept in ``SelfScore.score`` as the mark of ``scoring.arithmetic`` (``VETO_APPLIES``:
the item is failed, scoring nothing and capping the star level); ``NULL`` or no row means
"does not apply". A checkbox is always answered, so a veto item never counts as unscored. When a veto applies, the
explanation must say what happened before the assessment can be submitted; otherwise the
explanation is optional, as for every other item but one:

Deduction items (扣分项) take the points the branch deducts from itself (0 … the item's
maximum). Points deducted need a reason in the explanation, and a draft with a deduction but no
reason is refused for that item (the form keeps what was typed), so no saved sheet ever holds
an unexplained deduction.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.errors import WorkflowError
from branches.roles import SECRETARIES
from branches.selectors import require_role
from scoring.arithmetic import (
    VETO,
    ScoreEntry,
    ScoreError,
    StandardRules,
    star_for,
    total_parts,
    validate_item_score,
    veto_applies,
    veto_mark,
)
from scoring.models import Item, ItemKind
from scoring.selectors import rules_from_standard

from ..models import Assessment, AssessmentStatus, CycleStatus, Evidence, SelfScore, SubmissionRound
from ..uploads import check_file_count, check_upload
from ..workflow import EDITABLE_BY_BRANCH
from . import core

EXPLANATION_MAX_LENGTH: Final = SelfScore._meta.get_field("explanation").max_length
DEDUCTION_NEEDS_REASON: Final = gettext_lazy(
    "Points deducted need a reason: say why they are deducted, or enter 0."
)


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()


def check_editable(assessment: Assessment) -> None:
    """Raise WorkflowError unless the branch may still change this assessment."""
    if assessment.status not in EDITABLE_BY_BRANCH:
        raise WorkflowError(
            _("This assessment is “%(status)s”; the branch can no longer change it.")
            % {"status": assessment.get_status_display()}
        )
    if assessment.cycle.status != CycleStatus.OPEN:
        raise WorkflowError(
            _("The cycle “%(cycle)s” is closed; its self-assessments can no longer be changed.")
            % {"cycle": assessment.cycle.name}
        )


def _lock_for_editing(assessment_id: int, actor, *, start: bool = True) -> Assessment:
    """Lock the row, check role and state, and move a first edit from "not started" to "draft"."""
    locked = Assessment.objects.select_for_update().select_related("branch", "cycle").get(pk=assessment_id)
    require_role(actor, SECRETARIES, locked.branch)
    check_editable(locked)
    if start and locked.status == AssessmentStatus.NOT_STARTED:
        locked = core.move(assessment_id=locked.pk, action="start", actor=actor)
    return locked


def _clean_entry(item: Item, value: object, explanation: str | None) -> tuple[Decimal | None, str]:
    explanation = (explanation or "").strip()
    if len(explanation) > EXPLANATION_MAX_LENGTH:
        raise ScoreError(
            _("An explanation may have at most %(max)d characters.") % {"max": EXPLANATION_MAX_LENGTH}
        )
    if item.kind == ItemKind.VETO:
        if value is not None and not isinstance(value, bool):
            raise ScoreError(_("A veto item is marked as applying or not, not scored."))
        return veto_mark(bool(value)), explanation
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, explanation
    score = validate_item_score(value, item.max_score)
    if item.kind == ItemKind.DEDUCTION and score > 0 and not explanation:
        # Refused even in a draft: a deduction the branch declares is only as good as its reason.
        raise ScoreError(DEDUCTION_NEEDS_REASON)
    return score, explanation


def _check_declared_stars(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(
            {"declared_stars": _("The declared star level must be from 1 to 5 stars.")}, code="invalid"
        )
    return value


@transaction.atomic
def save_self_assessment(
    *,
    assessment: Assessment,
    actor,
    scores: Mapping[int, ScoreEntry],
    declared_stars: int | _Unchanged | None = UNCHANGED,
) -> Assessment:
    """Save a draft of self-scores and explanations (and, if given, the declared star level).

    ``scores`` maps item ids to ``ScoreEntry(score, explanation)``; a normal, bonus or deduction
    item takes a score (None or "" = not scored yet; on a deduction item the points deducted,
    which above 0 need an explanation), a veto item True ("applies") or False/None. All or nothing: any invalid entry
    raises ValidationError keyed by item id and nothing is saved, so callers that want to
    keep the valid part of a form pass only its valid fields. The first save moves the
    assessment from "not started" to "draft"; later saves leave the status and the event log
    alone.
    """
    locked = _lock_for_editing(assessment.pk, actor)
    items = {
        item.pk: item
        for item in Item.objects.filter(dimension__standard_id=locked.cycle.standard_id, pk__in=list(scores))
    }
    errors: dict[str, list[str]] = {}
    cleaned: dict[int, tuple[Decimal | None, str]] = {}
    for item_id, (value, explanation) in scores.items():
        item = items.get(item_id)
        if item is None:
            errors[str(item_id)] = [_("This item is not part of the cycle's standard.")]
            continue
        try:
            cleaned[item_id] = _clean_entry(item, value, explanation)
        except ScoreError as error:
            errors[str(item_id)] = [str(error)]
    if declared_stars is not UNCHANGED:
        try:
            locked.declared_stars = _check_declared_stars(declared_stars)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)

    existing = {
        row.item_id: row for row in SelfScore.objects.filter(assessment_id=locked.pk, item_id__in=cleaned)
    }
    to_create: list[SelfScore] = []
    to_update: list[SelfScore] = []
    for item_id, (score, explanation) in cleaned.items():
        row = existing.get(item_id)
        if row is None:
            if score is not None or explanation:
                to_create.append(
                    SelfScore(assessment_id=locked.pk, item_id=item_id, score=score, explanation=explanation)
                )
        elif row.score != score or row.explanation != explanation:
            row.score, row.explanation = score, explanation
            to_update.append(row)
    SelfScore.objects.bulk_create(to_create)
    SelfScore.objects.bulk_update(to_update, ["score", "explanation"])
    # Always touched, so "updated_at" tells the browser's saved copy whether it is older.
    locked.save(update_fields=["declared_stars", "updated_at"])
    _copy_state(locked, assessment)
    return locked


def _copy_state(source: Assessment, target: Assessment) -> None:
    # Keep the caller's instance in step with the row, so it is never saved back stale.
    for field in ("status", "declared_stars", "self_total", "updated_at"):
        setattr(target, field, getattr(source, field))


def add_evidence(*, assessment: Assessment, item: Item, actor, uploaded_file: UploadedFile) -> Evidence:
    """Check an uploaded file (evidence.check_upload) and attach it to one item."""
    # Role and state first, unlocked: nobody learns how their file would have been judged
    # where they may not upload at all. Both are checked again under the lock.
    require_role(actor, SECRETARIES, assessment.branch)
    check_editable(assessment)
    # Reading and sniffing the file happens before the row is locked: it can take a while.
    checked = check_upload(uploaded_file)
    with transaction.atomic():
        locked = _lock_for_editing(assessment.pk, actor)
        if not Item.objects.filter(pk=item.pk, dimension__standard_id=locked.cycle.standard_id).exists():
            raise ValidationError(_("This item is not part of the cycle's standard."), code="wrong_item")
        check_file_count(Evidence.objects.filter(assessment_id=locked.pk, item_id=item.pk).count())
        evidence = Evidence(
            assessment=locked,
            item=item,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=actor,
        )
        # upload_to gives the stored file a random name; the user's name is kept as data only.
        evidence.file.save(checked.name, uploaded_file, save=False)
        try:
            evidence.save()
        except Exception:
            evidence.file.storage.delete(evidence.file.name)
            raise
        locked.save(update_fields=["updated_at"])
    _copy_state(locked, assessment)
    return evidence


def delete_evidence(*, evidence: Evidence, actor) -> None:
    """Remove an evidence file while the branch may still edit; the file goes once committed."""
    with transaction.atomic():
        locked = _lock_for_editing(evidence.assessment_id, actor, start=False)
        deleted, _rows = Evidence.objects.filter(pk=evidence.pk, assessment_id=locked.pk).delete()
        if deleted:
            storage, name = evidence.file.storage, evidence.file.name
            transaction.on_commit(lambda: storage.delete(name))
            locked.save(update_fields=["updated_at"])


# --- Submission -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SelfResult:
    total: Decimal
    stars: int
    applied_vetoes: tuple[str, ...]
    deducted: Decimal = Decimal("0.0")  # the deduction items' points, already taken off ``total``


def self_result(
    rules: StandardRules, items: Iterable[Item], scores: Mapping[int, Decimal | None]
) -> SelfResult:
    """The total and star level that self-scores (item id → score) give; unscored items count 0."""
    by_code: dict[str, Decimal] = {}
    vetoes: list[str] = []
    for item in items:
        score = scores.get(item.pk)
        if item.kind == VETO:
            if veto_applies(score):
                vetoes.append(item.code)
        elif score is not None:
            by_code[item.code] = score
    parts = total_parts(rules, by_code)
    return SelfResult(
        total=parts.total,
        stars=star_for(rules, parts.total, vetoes),
        applied_vetoes=tuple(vetoes),
        deducted=parts.deducted,
    )


def missing_for_submission(
    *,
    items: Iterable[Item],
    scores: Mapping[int, SelfScore],
    evidence_counts: Mapping[int, int],
    declared_stars: int | None,
) -> list[str]:
    """Everything that stops a submission, one message each, in the standard's order."""
    problems: list[str] = []
    for item in items:
        row = scores.get(item.pk)
        names = {"code": item.code, "title": item.title}
        if item.kind == ItemKind.VETO:
            if row is not None and veto_applies(row.score) and not row.explanation.strip():
                problems.append(_("Item %(code)s “%(title)s” applies: explain what happened.") % names)
        elif row is None or row.score is None:
            problems.append(_("Item %(code)s “%(title)s” has no score.") % names)
        elif item.kind == ItemKind.DEDUCTION and row.score > 0 and not row.explanation.strip():
            problems.append(_("Item %(code)s “%(title)s” deducts points: give the reason.") % names)
        if item.evidence_required and not evidence_counts.get(item.pk):
            problems.append(_("Item %(code)s “%(title)s” needs evidence: attach at least one file.") % names)
    if declared_stars is None:
        problems.append(_("Choose the star level the branch applies for (1 to 5 stars)."))
    return problems


def submit_self_assessment(*, assessment: Assessment, actor, declared_stars: int | None) -> Assessment:
    """Submit for the preliminary review: a new round with a snapshot of what was submitted.

    Raises ValidationError listing every missing score, missing evidence and a missing
    declared star level; WorkflowError when the assessment is not the branch's to submit.
    """

    def apply(locked: Assessment) -> None:
        check_editable(locked)
        stars = _check_declared_stars(declared_stars)
        standard = locked.cycle.standard
        items = list(
            Item.objects.filter(dimension__standard_id=standard.pk)
            .select_related("dimension")
            .order_by("dimension__order", "dimension__code", "order", "code")
        )
        scores = {row.item_id: row for row in SelfScore.objects.filter(assessment_id=locked.pk)}
        evidence = list(
            Evidence.objects.filter(assessment_id=locked.pk).order_by("item_id", "uploaded_at", "pk")
        )
        counts = Counter(row.item_id for row in evidence)
        problems = missing_for_submission(
            items=items, scores=scores, evidence_counts=counts, declared_stars=stars
        )
        if problems:
            raise ValidationError(problems)
        result = self_result(
            rules_from_standard(standard), items, {item_id: row.score for item_id, row in scores.items()}
        )
        number = (
            SubmissionRound.objects.filter(assessment_id=locked.pk).aggregate(n=Max("number"))["n"] or 0
        ) + 1
        SubmissionRound.objects.create(
            assessment=locked,
            number=number,
            submitted_by=actor,
            submitted_at=timezone.now(),
            declared_stars=stars,
            self_total=result.total,
            snapshot=_snapshot(standard.pk, items, scores, evidence, stars, result),
        )
        locked.declared_stars = stars
        locked.self_total = result.total

    submitted = core.move(assessment_id=assessment.pk, action="submit", actor=actor, apply=apply)
    _copy_state(submitted, assessment)
    return submitted


def _snapshot(
    standard_id: int,
    items: list[Item],
    scores: Mapping[int, SelfScore],
    evidence: list[Evidence],
    declared_stars: int,
    result: SelfResult,
) -> dict:
    """The submission frozen as JSON: later edits after a return never change an old round."""
    files: dict[int, list[dict]] = {}
    for row in evidence:
        files.setdefault(row.item_id, []).append({"id": row.pk, "name": row.original_name, "size": row.size})
    entries = []
    for item in items:
        row = scores.get(item.pk)
        score = row.score if row else None
        is_veto = item.kind == ItemKind.VETO
        entries.append(
            {
                "item_id": item.pk,
                "code": item.code,
                "kind": item.kind,
                "score": None if is_veto or score is None else str(score),
                "applies": veto_applies(score) if is_veto else None,
                "explanation": row.explanation if row else "",
                "evidence": files.get(item.pk, []),
            }
        )
    # A list, not a dict keyed by code: PostgreSQL's jsonb does not keep key order.
    return {
        "standard_id": standard_id,
        "declared_stars": declared_stars,
        "self_total": str(result.total),
        "self_stars": result.stars,
        "applied_vetoes": list(result.applied_vetoes),
        "items": entries,
    }


__all__ = [
    "UNCHANGED",
    "SelfResult",
    "add_evidence",
    "check_editable",
    "delete_evidence",
    "missing_for_submission",
    "save_self_assessment",
    "self_result",
    "submit_self_assessment",
]
