"""Decision, public notice (公示), objections, certification, and dynamic management (动态管理).

Every change of a branch's star level is a ``StarEvent``. The cycle-wide moves (publish a
notice batch, certify a batch, close the cycle) are the cycle's own moves (``core.move_cycle``
along ``workflow.CYCLE_TRANSITIONS``, one ``CycleEvent``), and inside them its assessments move
along the same ``workflow.TRANSITIONS`` as ``core.move`` and get the same ``AssessmentEvent``
rows, but in bulk: a committee of 20,000 branches certifies in a few statements instead of a
dozen queries per branch. The cycle row is locked first, so two approvers pressing the button
at once make one change.

A cycle publishes its results in batches (``NoticeBatch``): what is decided now goes under
public notice as batch 1 and is certified once that batch's window has ended and its
objections are resolved, while the other branches go on and form a later batch. The cycle
closes by itself when every assessment is final, or when the approver closes it.
"""

import calendar
import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from branches.audit import AuditAction
from branches.audit import record as record_audit
from branches.errors import WorkflowError
from branches.models import Organization, OrgKind
from branches.roles import APPROVERS, COMMITTEE_MANAGERS
from branches.selectors import require_role, statuses_changed
from branches.workflow import actor_or_none
from scoring.models import MAX_STARS, MIN_STARS

from .. import signals
from ..models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    Cycle,
    CycleStatus,
    NoticeBatch,
    Objection,
    StarEvent,
    StarEventKind,
)
from ..selectors import assessments_with_open_appeals, member_committees
from ..workflow import FINAL, TRANSITIONS
from .core import move, move_cycle
from .scoring import Progress

BULK_BATCH = 1000


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day when it is shorter (31 Jan → 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _require_text(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message})
    return text


def _lock_cycle(cycle: Cycle) -> Cycle:
    return Cycle.objects.select_for_update().select_related("committee").get(pk=cycle.pk)


def _bulk_move(
    *,
    cycle: Cycle,
    action: str,
    actor,
    now: datetime.datetime,
    note: str = "",
    only: dict | None = None,
    also: dict | None = None,
    progress: Progress | None = None,
) -> list[int]:
    """Move every assessment of ``cycle`` in the action's source states to its target.

    ``only`` narrows the rows (``{"notice_batch_id": 3}``); ``also`` sets further fields in the
    same ``UPDATE``. The caller holds the cycle lock and has checked the actor's role on the
    committee, which reaches every branch of the cycle. Returns the moved assessments' keys;
    ``progress(done, total)`` hears of the rows once they are moved and recorded.
    """
    spec = TRANSITIONS[action]
    rows_of_action = Assessment.objects.filter(cycle_id=cycle.pk, status__in=spec.sources, **(only or {}))
    rows = list(rows_of_action.select_for_update().order_by("pk").values_list("pk", "status"))
    if not rows:
        return []
    moved = rows_of_action.update(status=spec.target, updated_at=now, **(also or {}))
    statuses_changed()
    if moved != len(rows):  # pragma: no cover - the rows are locked; a mismatch is a bug
        raise WorkflowError(_("The assessments changed while they were being updated; try again."))
    actor = actor_or_none(actor)
    AssessmentEvent.objects.bulk_create(
        (
            AssessmentEvent(
                assessment_id=pk,
                actor=actor,
                action=action,
                from_status=old,
                to_status=spec.target,
                note=note,
            )
            for pk, old in rows
        ),
        batch_size=BULK_BATCH,
    )
    if progress is not None:
        progress(len(rows), len(rows))
    return [pk for pk, _old in rows]


# --- Decision ---------------------------------------------------------------------------------


def decide_assessment(*, assessment: Assessment, actor, stars: int, reason: str = "") -> Assessment:
    """Set the star level the committee decides; departing from the proposed one needs a reason."""
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        raise ValidationError({"stars": _("Choose a star level.")}) from None
    if not MIN_STARS <= stars <= MAX_STARS:
        raise ValidationError({"stars": _("A star level is between one and five.")})
    reason = (reason or "").strip()

    def apply(locked: Assessment) -> None:
        if locked.cycle.status != CycleStatus.OPEN:
            raise WorkflowError(_("This cycle is closed; decisions are final."))
        if stars != locked.proposed_stars and not reason:
            raise ValidationError(
                {"reason": _("Give the reason for deciding a star level other than the proposed one.")}
            )
        locked.decided_stars = stars
        locked.decision_reason = reason
        locked.decided_by = actor
        locked.decided_at = timezone.now()

    with transaction.atomic():
        decided = move(assessment_id=assessment.pk, action="decide", actor=actor, note=reason, apply=apply)
        signals.send(signals.assessment_decided, sender=Assessment, assessment=decided, actor=actor)
    return decided


# --- Public notice --------------------------------------------------------------------------


def _in_flight(cycle_id: int) -> bool:
    return Assessment.objects.filter(cycle_id=cycle_id).exclude(status__in=FINAL).exists()


@transaction.atomic
def publicize_cycle(*, cycle: Cycle, actor, progress: Progress | None = None) -> NoticeBatch:
    """Publish the star levels decided so far as the cycle's next public notice batch (公示).

    Scored assessments without a decision, and everything still earlier, stay where they are
    and go into a later batch. A constant number of statements however many branches move
    (``_bulk_move``); ``progress(done, total)`` hears when they have.
    """
    published: list[NoticeBatch] = []

    def apply(locked: Cycle) -> None:
        now = timezone.now()
        last = NoticeBatch.objects.filter(cycle_id=locked.pk).order_by("-number").first()
        batch = NoticeBatch.objects.create(
            cycle_id=locked.pk,
            number=last.number + 1 if last else 1,
            started_at=now,
            ends_at=now + datetime.timedelta(days=locked.publicity_days),
            published_by=actor_or_none(actor),
        )
        moved = _bulk_move(
            cycle=locked,
            action="publicize",
            actor=actor,
            now=now,
            also={"notice_batch_id": batch.pk},
            progress=progress,
        )
        if not moved:
            raise WorkflowError(
                _("No decided result waits for the public notice; there is nothing to publish.")
            )
        published.append(batch)

    move_cycle(cycle_id=cycle.pk, action="publicize", actor=actor, apply=apply)
    return published[0]


@transaction.atomic
def record_objection(*, assessment: Assessment, actor, received_from: str, content: str) -> Objection:
    """Record an objection (异议) to a published result, received during its batch's notice period."""
    content = _require_text(content, "content", _("Write down what the objection says."))
    # The cycle lock orders this against certification, which checks for open objections.
    _lock_cycle(assessment.cycle)
    assessment = Assessment.objects.select_related("branch", "notice_batch").get(pk=assessment.pk)
    require_role(actor, COMMITTEE_MANAGERS, assessment.branch)
    if assessment.status != AssessmentStatus.PUBLICIZED or assessment.notice_batch is None:
        raise WorkflowError(_("Objections are recorded only for results under public notice."))
    if timezone.now() > assessment.notice_batch.ends_at:
        raise WorkflowError(_("The public notice period has ended; objections are no longer received."))
    return Objection.objects.create(
        assessment=assessment,
        received_from=(received_from or "").strip(),
        content=content,
        recorded_by=actor,
    )


@transaction.atomic
def lodge_objection(*, assessment: Assessment, actor, content: str, contact: str = "") -> Objection:
    """A signed-in member of the committee's tree lodges an objection online during the notice period.

    Recorded with who lodged it (``lodged_by``) and an audit row; the approver resolves it like
    one received on paper.
    """
    content = _require_text(content, "content", _("Write down what the objection says."))
    contact = (contact or "").strip()
    if len(contact) > Objection._meta.get_field("contact").max_length:
        raise ValidationError({"contact": _("The contact is too long.")})
    cycle = _lock_cycle(assessment.cycle)
    assessment = Assessment.objects.select_related("branch", "notice_batch").get(pk=assessment.pk)
    if not member_committees(actor).filter(pk=cycle.committee_id).exists():
        raise PermissionDenied(
            _("Only members of the working committee's organizations may lodge an objection.")
        )
    if assessment.status != AssessmentStatus.PUBLICIZED or assessment.notice_batch is None:
        raise WorkflowError(_("Objections are received only for results under public notice."))
    if timezone.now() > assessment.notice_batch.ends_at:
        raise WorkflowError(_("The public notice period has ended; objections are no longer received."))
    objection = Objection.objects.create(
        assessment=assessment,
        received_from=actor.display_name[:100],
        content=content,
        contact=contact,
        recorded_by=actor,
        lodged_by=actor,
    )
    record_audit(
        actor=actor,
        action=AuditAction.CREATE,
        target=objection,
        target_label=_("Objection to the result of %(branch)s") % {"branch": assessment.branch.name},
        committee=cycle.committee,
        note=_("Lodged online during the public notice."),
    )
    return objection


@transaction.atomic
def resolve_objection(
    *, objection: Objection, actor, resolution: str, substantiated: bool = False
) -> Objection:
    """Close an objection with the committee's written resolution; a substantiated one (异议属实)
    is announced (``signals.objection_substantiated``), which opens a rectification task."""
    resolution = _require_text(resolution, "resolution", _("Write down how the objection was resolved."))
    # Only the objection row is locked: its batch is joined from the nullable side.
    objection = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("assessment__branch", "assessment__cycle", "assessment__notice_batch")
        .get(pk=objection.pk)
    )
    require_role(actor, APPROVERS, objection.assessment.branch)
    if objection.resolved_at is not None:
        raise WorkflowError(_("This objection has already been resolved."))
    batch = objection.assessment.notice_batch
    if objection.assessment.cycle.status == CycleStatus.CLOSED or (batch and batch.certified_at):
        raise WorkflowError(_("This result has been certified."))
    objection.resolution = resolution
    objection.resolved_by = actor
    objection.resolved_at = timezone.now()
    objection.substantiated = bool(substantiated)
    objection.save(update_fields=["resolution", "resolved_by", "resolved_at", "substantiated"])
    if objection.substantiated:
        signals.send(signals.objection_substantiated, sender=Objection, objection=objection, actor=actor)
    return objection


# --- Certification ------------------------------------------------------------------------


def check_certifiable(batch: NoticeBatch, *, now: datetime.datetime | None = None) -> None:
    """Refuse with ``WorkflowError`` unless ``batch`` may be certified now.

    Not yet certified, its notice period over, every objection resolved and every appeal
    closed. ``certify_batch`` checks it under the cycle lock; a page may ask beforehand, to
    refuse at once rather than from a background job.
    """
    now = now or timezone.now()
    if batch.certified_at is not None:
        raise WorkflowError(_("Batch %(number)s has already been certified.") % {"number": batch.number})
    if now < batch.ends_at:
        raise WorkflowError(
            _("The public notice runs until %(end)s; certification is possible only after it ends.")
            % {"end": date_format(timezone.localtime(batch.ends_at), "DATETIME_FORMAT")}
        )
    open_objections = Objection.objects.filter(
        assessment__notice_batch_id=batch.pk, resolved_at__isnull=True
    ).count()
    if open_objections:
        raise WorkflowError(
            _("%(count)s objections are not resolved yet; resolve every objection before certifying.")
            % {"count": open_objections}
        )
    # A branch's appeal (复核) may still change its star: the batch waits until each is closed.
    open_appeals = assessments_with_open_appeals().filter(notice_batch_id=batch.pk).count()
    if open_appeals:
        raise WorkflowError(
            _("%(count)s appeals are not closed yet; close every appeal before certifying.")
            % {"count": open_appeals}
        )


@transaction.atomic
def certify_batch(*, batch: NoticeBatch, actor, progress: Progress | None = None) -> NoticeBatch:
    """Certify one notice batch once its window has ended and its objections are resolved.

    Each branch of the batch gets a certificate valid for the cycle's validity; its previous
    valid one is superseded, and the change is a certification ``StarEvent``. The cycle's other
    assessments are untouched; when none is left unfinished, the cycle closes. A constant
    number of statements however large the batch (bulk moves and inserts); ``progress(done,
    total)`` hears of the certified rows.
    """
    certified: list[NoticeBatch] = []

    def apply(locked: Cycle) -> None:
        now = timezone.now()
        try:
            current = NoticeBatch.objects.select_for_update().get(pk=batch.pk, cycle_id=locked.pk)
        except NoticeBatch.DoesNotExist:  # pragma: no cover - the views look it up in the cycle
            raise WorkflowError(_("This public notice batch does not belong to the cycle.")) from None
        check_certifiable(current, now=now)

        publicized = Assessment.objects.filter(
            cycle_id=locked.pk, notice_batch_id=current.pk, status=AssessmentStatus.PUBLICIZED
        )
        branch_and_stars = {
            pk: (branch_id, stars)
            for pk, branch_id, stars in publicized.values_list("pk", "branch_id", "decided_stars")
        }
        previous = {
            cert.branch_id: cert
            for cert in Certificate.objects.select_for_update().filter(
                status=CertificateStatus.VALID, branch_id__in=publicized.values("branch_id")
            )
        }
        moved = _bulk_move(
            cycle=locked, action="certify", actor=actor, now=now, only={"notice_batch_id": current.pk}
        )
        if not moved:
            raise WorkflowError(_("No result is under public notice; there is nothing to certify."))

        if previous:
            Certificate.objects.filter(pk__in=[cert.pk for cert in previous.values()]).update(
                status=CertificateStatus.SUPERSEDED
            )
        valid_until = add_months(timezone.localdate(now), locked.validity_months)
        certificates = Certificate.objects.bulk_create(
            (
                Certificate(
                    branch_id=branch_and_stars[pk][0],
                    assessment_id=pk,
                    certified_stars=branch_and_stars[pk][1],
                    stars=branch_and_stars[pk][1],
                    issued_at=now,
                    valid_until=valid_until,
                )
                for pk in moved
            ),
            batch_size=BULK_BATCH,
        )
        recorded_actor = actor_or_none(actor)
        StarEvent.objects.bulk_create(
            (
                StarEvent(
                    branch_id=cert.branch_id,
                    certificate_id=cert.pk,
                    kind=StarEventKind.CERTIFICATION,
                    from_stars=previous[cert.branch_id].stars if cert.branch_id in previous else None,
                    to_stars=cert.stars,
                    actor=recorded_actor,
                    at=now,
                )
                for cert in certificates
            ),
            batch_size=BULK_BATCH,
        )
        if progress is not None:
            progress(len(moved), len(moved))
        current.certified_at = now
        current.certified_by = recorded_actor
        current.save(update_fields=["certified_at", "certified_by"])
        certified.append(current)

    cycle = move_cycle(
        cycle_id=batch.cycle_id,
        action="certify",
        actor=actor,
        note=_("Batch %(number)s") % {"number": batch.number},
        apply=apply,
    )
    if not _in_flight(cycle.pk):
        _close(cycle=cycle, actor=actor, note=_("Every assessment of the cycle is final."))
    return certified[0]


def _close(*, cycle: Cycle, actor, note: str) -> Cycle:
    def apply(locked: Cycle) -> None:
        # A result under public notice waits for its batch's certification, never for the close.
        if locked.assessments.filter(status=AssessmentStatus.PUBLICIZED).exists():
            raise WorkflowError(
                _("A public notice batch is not certified yet; certify it before closing the cycle.")
            )
        now = timezone.now()
        _bulk_move(cycle=locked, action="close_out", actor=actor, now=now, note=note)
        locked.closed_at = now

    return move_cycle(cycle_id=cycle.pk, action="close", actor=actor, note=note, apply=apply)


@transaction.atomic
def close_cycle(*, cycle: Cycle, actor, confirm: bool) -> Cycle:
    """Close the cycle: whatever has not reached the public notice did not take part (未参评).

    Refused while a notice batch waits for its certification, and without ``confirm`` (the
    page that lists what is still in flight asks for it).
    """
    if not confirm:
        raise ValidationError({"confirm": _("Confirm that the cycle is to be closed.")})
    return _close(cycle=cycle, actor=actor, note=_("The approver closed the cycle."))


# --- Dynamic management -------------------------------------------------------------------


def _lock_current_certificate(branch: Organization) -> Certificate:
    if branch.kind != OrgKind.BRANCH:
        raise ValidationError(_("Only a party branch holds a star level."))
    certificate = (
        Certificate.objects.select_for_update()
        .filter(branch_id=branch.pk, status=CertificateStatus.VALID, valid_until__gte=timezone.localdate())
        .first()
    )
    if certificate is None:
        raise WorkflowError(_("This branch holds no star certificate in force."))
    return certificate


def _dynamic_texts(reason: str, violation: str) -> tuple[str, str]:
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = _("Give the reason for the change.")
    if not (violation or "").strip():
        errors["violation"] = _("Cite the violation (违规违纪) that causes the change.")
    if errors:
        raise ValidationError(errors)
    return reason.strip(), violation.strip()


@transaction.atomic
def downgrade_branch(*, branch: Organization, actor, to_stars: int, reason: str, violation: str) -> StarEvent:
    """Lower a branch's current star level after a violation."""
    require_role(actor, APPROVERS, branch)
    reason, violation = _dynamic_texts(reason, violation)
    certificate = _lock_current_certificate(branch)
    try:
        to_stars = int(to_stars)
    except (TypeError, ValueError):
        raise ValidationError({"to_stars": _("Choose a star level.")}) from None
    if not MIN_STARS <= to_stars < certificate.stars:
        raise ValidationError(
            {
                "to_stars": _("Choose a level below the current %(stars)s stars.")
                % {"stars": certificate.stars}
            }
        )
    from_stars = certificate.stars
    certificate.stars = to_stars
    certificate.save(update_fields=["stars"])
    event = StarEvent.objects.create(
        branch_id=branch.pk,
        certificate=certificate,
        kind=StarEventKind.DOWNGRADE,
        from_stars=from_stars,
        to_stars=to_stars,
        actor=actor,
        at=timezone.now(),
        reason=reason,
        violation=violation,
    )
    return _announce_lowered(branch, event, actor)


def _announce_lowered(branch: Organization, event: StarEvent, actor) -> StarEvent:
    """Tell the apps above (rectification opens its task); their messages go on ``event.followups``."""
    statuses_changed()
    event.followups = [
        str(answer)
        for answer in signals.send(
            signals.star_lowered, sender=StarEvent, branch=branch, star_event=event, actor=actor
        )
    ]
    return event


@transaction.atomic
def revoke_branch(*, branch: Organization, actor, reason: str, violation: str) -> StarEvent:
    """Revoke a branch's star level after a violation; the branch is unrated afterwards."""
    require_role(actor, APPROVERS, branch)
    reason, violation = _dynamic_texts(reason, violation)
    certificate = _lock_current_certificate(branch)
    certificate.status = CertificateStatus.REVOKED
    certificate.save(update_fields=["status"])
    event = StarEvent.objects.create(
        branch_id=branch.pk,
        certificate=certificate,
        kind=StarEventKind.REVOCATION,
        from_stars=certificate.stars,
        to_stars=None,
        actor=actor,
        at=timezone.now(),
        reason=reason,
        violation=violation,
    )
    return _announce_lowered(branch, event, actor)


def expire_due_certificates(*, today: datetime.date | None = None) -> int:
    """Expire the valid certificates whose last valid day is before ``today``; returns how many.

    Idempotent: an expired certificate is no longer valid, so a second run finds nothing.
    Works in batches, each its own transaction, so a large backlog never holds long locks.
    """
    today = today or timezone.localdate()
    expired = 0
    while True:
        with transaction.atomic():
            # skip_locked: a certificate being downgraded right now is left for the next run.
            batch = list(
                Certificate.objects.select_for_update(skip_locked=True)
                .filter(status=CertificateStatus.VALID, valid_until__lt=today)
                .order_by("pk")
                .values_list("pk", "branch_id", "stars")[:BULK_BATCH]
            )
            if not batch:
                return expired
            Certificate.objects.filter(pk__in=[row[0] for row in batch]).update(
                status=CertificateStatus.EXPIRED
            )
            statuses_changed()
            now = timezone.now()
            StarEvent.objects.bulk_create(
                StarEvent(
                    branch_id=branch_id,
                    certificate_id=pk,
                    kind=StarEventKind.EXPIRY,
                    from_stars=stars,
                    to_stars=None,
                    actor=None,
                    at=now,
                )
                for pk, branch_id, stars in batch
            )
            expired += len(batch)
