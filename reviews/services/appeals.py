"""Appeals (复核申请): a branch contests its published result; other reviewers re-score it.

The steps, each an ``AppealEvent``:

1. ``apply_for_appeal`` — the branch secretary, while the result is under public notice and
   within ``cycle.appeal_days`` days of its publication: a reason, the items contested, files.
2. ``accept_appeal`` / ``reject_appeal`` — an approver, with a reason; accepting sets how many
   re-reviewers it takes (default 2).
3. ``assign_appeal_reviewers`` — approver or staff: team members who did not score the result
   before and have no conflict of interest with the branch.
4. ``save_appeal_scores`` — each re-reviewer scores the contested items, blind; the last one
   to submit completes the re-scoring, which fixes the new total and the star it leads to.
5. ``decide_appeal`` — an approver upholds the star or changes it, with a reason. A change
   is written to the assessment's ``decided_stars``; the result is still under public notice
   (certification of a branch waits while its appeal is open, see
   ``selectors.assessments_with_open_appeals``), so the certificate carries the new star.
"""

from collections.abc import Callable, Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from branches.errors import WorkflowError
from branches.models import User
from branches.roles import APPROVERS, SECRETARIES, TEAM_REVIEWERS
from branches.selectors import require_role
from branches.workflow import actor_or_none, move_status
from scoring.arithmetic import ScoreEntry, ScoreError, validate_item_score
from scoring.models import MAX_STARS, MIN_STARS, Item

from .. import signals
from ..models import (
    Appeal,
    AppealEvent,
    AppealFile,
    AppealReviewer,
    AppealScore,
    AppealStatus,
    Assessment,
    AssessmentStatus,
)
from ..selectors import appeal_deadline, appeal_reviewer_options, appeal_summary, contestable_items
from ..uploads import check_upload
from ..workflow import APPEAL_TRANSITIONS

MAX_TEXT = 4000
MAX_COMMENT = 2000
MAX_FILES = 10


def _text(value: str, field: str, message: str, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message})
    if len(text) > limit:
        raise ValidationError({field: _("Please keep this under %(max)s characters.") % {"max": limit}})
    return text


def move_appeal(
    *,
    appeal_id: int,
    action: str,
    actor,
    note: str = "",
    apply: Callable[[Appeal], None] | None = None,
) -> Appeal:
    """Lock the appeal, check the role on its committee and its state, run ``apply``, record."""
    return move_status(
        queryset=Appeal.objects.select_related("assessment__branch", "assessment__cycle__committee"),
        pk=appeal_id,
        transitions=APPEAL_TRANSITIONS,
        action=action,
        actor=actor,
        authorize=lambda user, spec, row: require_role(user, spec.roles, row.assessment.cycle.committee),
        refused=_("This appeal is “%(status)s”; the action “%(action)s” is not possible now."),
        event=lambda row, **fields: AppealEvent.objects.create(appeal=row, **fields),
        note=note,
        apply=apply,
    )


# ---------------------------------------------------------------------------- applying


def check_may_appeal(assessment: Assessment, now=None) -> None:
    """Refuse (WorkflowError) unless the result may be appealed now, saying why."""
    if Appeal.objects.filter(assessment_id=assessment.pk).exists():
        raise WorkflowError(_("This result has already been appealed; a result can be appealed once."))
    if assessment.status != AssessmentStatus.PUBLICIZED:
        raise WorkflowError(_("An appeal is possible only while the result is under public notice."))
    deadline = appeal_deadline(assessment)
    if deadline is None or (now or timezone.now()) > deadline:
        end = date_format(timezone.localtime(deadline), "DATETIME_FORMAT") if deadline else "—"
        raise WorkflowError(
            _("The appeal period ended on %(end)s; the result can no longer be appealed.") % {"end": end}
        )


def apply_for_appeal(
    *,
    assessment: Assessment,
    actor,
    reason: str,
    items: Iterable[Item],
    files: Iterable[UploadedFile] = (),
) -> Appeal:
    """The branch secretary applies for a re-review of the branch's published result."""
    require_role(actor, SECRETARIES, assessment.branch)
    reason = _text(reason, "reason", _("Give the reason for the appeal."))
    allowed = {item.pk: item for item in contestable_items(assessment)}
    chosen = [allowed.get(item.pk) for item in items]
    if not chosen:
        raise ValidationError({"items": _("Choose the items you contest.")})
    if None in chosen:
        raise ValidationError({"items": _("Only the scored items of the cycle's standard can be contested.")})
    files = list(files)
    if len(files) > MAX_FILES:
        raise ValidationError({"files": _("Attach at most %(max)s files.") % {"max": MAX_FILES}})
    check_may_appeal(assessment)  # before reading files: nobody's file is judged in vain
    checked = [(upload, check_upload(upload)) for upload in files]
    with transaction.atomic():
        locked = (
            Assessment.objects.select_for_update().select_related("branch", "cycle").get(pk=assessment.pk)
        )
        check_may_appeal(locked)
        appeal = Appeal.objects.create(
            assessment=locked,
            reason=reason,
            original_stars=locked.decided_stars,
            submitted_by=actor,
            submitted_at=timezone.now(),
        )
        appeal.items.set(chosen)
        stored = []
        try:
            for upload, info in checked:
                row = AppealFile(
                    appeal=appeal,
                    original_name=info.name,
                    content_type=info.content_type,
                    size=info.size,
                    uploaded_by=actor,
                )
                row.file.save(info.name, upload, save=False)
                stored.append(row.file.name)
                row.save()
        except Exception:
            for name in stored:
                AppealFile.file.field.storage.delete(name)
            raise
        AppealEvent.objects.create(
            appeal=appeal,
            actor=actor_or_none(actor),
            action="apply",
            from_status="",
            to_status=AppealStatus.SUBMITTED,
            note=_("Items contested: %(codes)s") % {"codes": ", ".join(item.code for item in chosen)},
        )
    return appeal


# ---------------------------------------------------------------------------- accepting


def accept_appeal(*, appeal: Appeal, actor, reason: str, reviewers_wanted: int = 2) -> Appeal:
    """Accept the appeal for re-scoring by ``reviewers_wanted`` reviewers."""
    reason = _text(reason, "reason", _("Give the reason for accepting the appeal."))
    try:
        wanted = int(reviewers_wanted)
    except (TypeError, ValueError):
        raise ValidationError({"reviewers_wanted": _("Say how many reviewers re-score.")}) from None
    if not 1 <= wanted <= 9:
        raise ValidationError({"reviewers_wanted": _("Between one and nine reviewers re-score.")})

    def apply(locked: Appeal) -> None:
        locked.review_reason = reason
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.reviewers_wanted = wanted

    return move_appeal(appeal_id=appeal.pk, action="accept", actor=actor, note=reason, apply=apply)


def reject_appeal(*, appeal: Appeal, actor, reason: str) -> Appeal:
    """Reject the appeal; the published result stands."""
    reason = _text(reason, "reason", _("Give the reason for rejecting the appeal."))

    def apply(locked: Appeal) -> None:
        locked.review_reason = reason
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()

    return move_appeal(appeal_id=appeal.pk, action="reject", actor=actor, note=reason, apply=apply)


# ---------------------------------------------------------------------------- re-reviewers


def assign_appeal_reviewers(*, appeal: Appeal, actor, reviewers: Iterable[User]) -> Appeal:
    """Make ``reviewers`` the appeal's re-reviewers: exactly as many as accepted, all eligible.

    Refuses (ValidationError) anyone who scored the result before, anyone with a conflict of
    interest, and removing a re-reviewer who has already entered scores.
    """
    wanted = {user.pk: user for user in reviewers}

    def apply(locked: Appeal) -> None:
        options = {option.user.pk: option for option in appeal_reviewer_options(locked)}
        errors = []
        if len(wanted) != locked.reviewers_wanted:
            errors.append(_("Choose exactly %(count)s re-reviewers.") % {"count": locked.reviewers_wanted})
        for pk, user in wanted.items():
            option = options.get(pk)
            if option is None:
                errors.append(_("%(name)s is not a member of the assessment team.") % {"name": user})
            elif not option.eligible:
                errors.append(
                    _("%(name)s cannot re-score this result: %(reason)s")
                    % {"name": user, "reason": " ".join(option.reasons)}
                )
        existing = {a.reviewer_id: a for a in locked.reviewers.all()}
        removed = [pk for pk in existing if pk not in wanted]
        if AppealScore.objects.filter(assignment__in=[existing[pk] for pk in removed]).exists():
            errors.append(_("A re-reviewer who has already entered scores cannot be removed."))
        if errors:
            raise ValidationError({"reviewers": errors})
        AppealReviewer.objects.filter(appeal_id=locked.pk, reviewer_id__in=removed).delete()
        AppealReviewer.objects.bulk_create(
            AppealReviewer(appeal_id=locked.pk, reviewer_id=pk, assigned_by=actor)
            for pk in wanted
            if pk not in existing
        )

    note = _("Re-reviewers: %(names)s") % {"names": "、".join(str(u) for u in wanted.values())}
    return move_appeal(appeal_id=appeal.pk, action="assign", actor=actor, note=note, apply=apply)


# ---------------------------------------------------------------------------- re-scoring


def _clean_sheet(items: list[Item], entries: Mapping[int, ScoreEntry], *, complete: bool) -> dict:
    errors: dict[str, str] = {}
    cleaned: dict[int, ScoreEntry] = {}
    for item in items:
        entry = entries.get(item.pk) or ScoreEntry(None, "")
        comment = (entry.text or "").strip()
        if len(comment) > MAX_COMMENT:
            errors[item.code] = _("Please keep the comment under %(max)s characters.") % {"max": MAX_COMMENT}
            continue
        if entry.score is None:
            if complete:
                errors[item.code] = _("Score this item.")
            cleaned[item.pk] = ScoreEntry(None, comment)
            continue
        try:
            value = validate_item_score(entry.score, item.max_score)
        except ScoreError as error:
            errors[item.code] = str(error)
            continue
        if complete and not comment:
            errors[item.code] = _("Explain your re-score of this item.")
            continue
        cleaned[item.pk] = ScoreEntry(value, comment)
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def save_appeal_scores(
    *, assignment: AppealReviewer, actor, entries: Mapping[int, ScoreEntry], submit: bool
) -> Appeal:
    """Keep (``submit=False``) or submit a re-reviewer's scores of the contested items.

    The last re-reviewer to submit completes the re-scoring (RESCORING → RESCORED), which
    records the new total and the star level it leads to.
    """
    appeal = (
        Appeal.objects.select_for_update()
        .select_related("assessment__branch", "assessment__cycle__committee", "assessment__cycle__standard")
        .get(pk=assignment.appeal_id)
    )
    current = AppealReviewer.objects.get(pk=assignment.pk)
    if current.reviewer_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the assigned re-reviewer may enter these scores."))
    require_role(actor, TEAM_REVIEWERS, appeal.assessment.branch)
    if appeal.status != AppealStatus.RESCORING:
        raise WorkflowError(
            _("This appeal is “%(status)s”; scores can be entered only while it is being re-scored.")
            % {"status": appeal.get_status_display()}
        )
    if current.submitted_at is not None:
        raise WorkflowError(_("You have already submitted your re-scores."))
    items = list(appeal.items.order_by("dimension__order", "dimension__code", "order", "code"))
    if set(entries) - {item.pk for item in items}:
        raise ValidationError(_("Scores were sent for items that are not contested."))
    sheet = _clean_sheet(items, entries, complete=submit)
    AppealScore.objects.filter(assignment_id=current.pk).delete()
    AppealScore.objects.bulk_create(
        AppealScore(assignment_id=current.pk, item_id=pk, score=entry.score, comment=entry.text)
        for pk, entry in sheet.items()
        if entry.score is not None or entry.text
    )
    if not submit:
        return appeal
    current.submitted_at = timezone.now()
    current.save(update_fields=["submitted_at"])
    if AppealReviewer.objects.filter(appeal_id=appeal.pk, submitted_at__isnull=True).exists():
        return appeal
    summary = appeal_summary(appeal)

    def apply(locked: Appeal) -> None:
        locked.rescore_total = summary.total
        locked.proposed_stars = summary.proposed_stars

    note = _("Total after re-scoring %(score)s, %(stars)s stars.") % {
        "score": summary.total,
        "stars": summary.proposed_stars,
    }
    return move_appeal(appeal_id=appeal.pk, action="complete_rescoring", actor=actor, note=note, apply=apply)


# ---------------------------------------------------------------------------- the outcome


def decide_appeal(*, appeal: Appeal, actor, stars: int, reason: str) -> Appeal:
    """Uphold the published star (same level) or change it (another level), with a reason."""
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        raise ValidationError({"stars": _("Choose a star level.")}) from None
    if not MIN_STARS <= stars <= MAX_STARS:
        raise ValidationError({"stars": _("A star level is between one and five.")})
    reason = _text(reason, "reason", _("Give the reason for the outcome of the appeal."))
    require_role(actor, APPROVERS, appeal.assessment.cycle.committee)
    action = "uphold" if stars == appeal.original_stars else "change"

    def apply(locked: Appeal) -> None:
        assessment = Assessment.objects.select_for_update().get(pk=locked.assessment_id)
        if assessment.status != AssessmentStatus.PUBLICIZED:
            raise WorkflowError(
                _("This result is “%(status)s”; the outcome of its appeal can no longer change it.")
                % {"status": assessment.get_status_display()}
            )
        locked.outcome_stars = stars
        locked.outcome_reason = reason
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        if action == "change":
            # The result is still under public notice, so the certificate will carry this star.
            Assessment.objects.filter(pk=assessment.pk).update(
                decided_stars=stars, updated_at=locked.decided_at
            )

    note = _("%(from)s → %(to)s stars: %(reason)s") % {
        "from": appeal.original_stars,
        "to": stars,
        "reason": reason,
    }
    with transaction.atomic():
        decided = move_appeal(appeal_id=appeal.pk, action=action, actor=actor, note=note, apply=apply)
        if action == "uphold":
            signals.send(signals.appeal_upheld, sender=Appeal, appeal=decided, actor=actor)
    return decided
