"""Assessment-team scoring (考核打分): assigning reviewers, scoring, submitting, revising.

Status moves go through ``core.move`` (assign, complete_scoring, revise_scores). Saving a
draft and submitting one reviewer's sheet are not moves, but they lock the assessment row
the same way, so the last two reviewers submitting at once complete the scoring once.

Versions: a reviewer's sheet is written as ReviewScore rows of version 1 (drafts overwrite
them until submission, which sets ``assignment.version`` to 1). A revision after discussion
writes the whole sheet again as version + 1; older versions are kept and shown as history.
The rules for the consolidated score, disagreements and vetoes are in
``scoring.arithmetic`` and ``reviews.selectors``.
"""

import heapq
import logging
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.errors import WorkflowError
from branches.models import User
from branches.roles import COMMITTEE_MANAGERS, TEAM_REVIEWERS
from branches.selectors import require_role, statuses_changed
from branches.workflow import actor_or_none
from scoring.arithmetic import VETO_APPLIES, VETO_DOES_NOT_APPLY, ScoreEntry, ScoreError, validate_item_score
from scoring.models import Item, ItemKind

from ..models import Assessment, AssessmentEvent, AssessmentStatus, Cycle, ReviewerAssignment, ReviewScore
from ..selectors import (
    conflicts_for,
    cycle_loads,
    held_roles,
    reviewer_options,
    scoring_summary,
    standard_items,
    team_reviewers,
)
from ..workflow import TRANSITIONS
from .core import move

MAX_COMMENT = 2000
# Rows per statement of the bulk writes: under SQLite's bound-parameter limit, few round trips.
BULK_BATCH = 1000

logger = logging.getLogger("audit")

# ``progress(done, total)``: how a long bulk write reports how far it is (a background job's run).
Progress = Callable[[int, int], None]

Entries = Mapping[int, ScoreEntry]  # keyed by Item pk


# ---------------------------------------------------------------------------- assigning


def _committee_check(actor, assessment_or_cycle) -> None:
    # core.move checks the role on the branch, where staff of a party committee would also
    # pass; assigning is the committee's own business, so check on the committee itself.
    committee = getattr(assessment_or_cycle, "committee", None) or assessment_or_cycle.cycle.committee
    require_role(actor, COMMITTEE_MANAGERS, committee)


def _names(users: Iterable[User]) -> str:
    return "、".join(str(u) for u in users)


def assign_reviewers(*, assessment: Assessment, actor, reviewers: Iterable[User]) -> Assessment:
    """Make ``reviewers`` the assessment's reviewers (FORWARDED/SCORING → SCORING).

    Refuses (ValidationError) anyone not on the committee's team, anyone with a conflict of
    interest, and removing a reviewer who has already entered scores.
    """
    _committee_check(actor, assessment)
    wanted = {user.pk: user for user in reviewers}
    if not wanted:
        raise ValidationError({"reviewers": _("Choose at least one reviewer.")})

    def apply(locked: Assessment) -> None:
        options = {option.user.pk: option for option in reviewer_options(locked)}
        existing = {a.reviewer_id: a for a in locked.assignments.all()}
        errors = []
        for pk, user in wanted.items():
            option = options.get(pk)
            if option is None:
                errors.append(_("%(name)s is not a member of the assessment team.") % {"name": user})
            elif option.conflicts:
                errors.append(
                    _("%(name)s cannot score this branch: %(reason)s")
                    % {"name": user, "reason": " ".join(option.conflicts)}
                )
        removed = [pk for pk in existing if pk not in wanted]
        for pk in removed:
            if options.get(pk) and options[pk].has_scores:
                errors.append(
                    _("%(name)s has already entered scores and cannot be removed.")
                    % {"name": existing[pk].reviewer}
                )
        added = [pk for pk in wanted if pk not in existing]
        if not errors and not added and not removed:
            errors.append(_("The reviewers are unchanged."))
        if not errors and not added and all(existing[pk].submitted_at for pk in wanted):
            # Nobody left to submit would mean the scoring could never complete.
            errors.append(_("Every remaining reviewer has already submitted; keep or add one who has not."))
        if errors:
            raise ValidationError({"reviewers": errors})
        ReviewerAssignment.objects.filter(assessment_id=locked.pk, reviewer_id__in=removed).delete()
        ReviewerAssignment.objects.bulk_create(
            ReviewerAssignment(
                assessment_id=locked.pk, cycle_id=locked.cycle_id, reviewer_id=pk, assigned_by=actor
            )
            for pk in added
        )

    note = _("Reviewers: %(names)s") % {"names": _names(wanted.values())}
    return move(assessment_id=assessment.pk, action="assign", actor=actor, note=note, apply=apply)


@transaction.atomic
@transaction.atomic
def auto_assign(*, cycle: Cycle, actor, progress: Progress | None = None) -> dict:
    """Give every forwarded assessment of the cycle ``cycle.reviewers_per_branch`` reviewers.

    Least-loaded reviewers first (load = assignments in this cycle), ties broken by the
    lower user id, assessments taken in tree order, so a run is reproducible. Conflicted
    reviewers are skipped. An assessment that cannot get enough reviewers gets none and
    stays forwarded, for the committee to handle by hand.

    The choice is made in memory and written in bulk, in a number of statements that does
    not grow with the cycle (one per ``BULK_BATCH`` rows): the status moves as one
    conditional UPDATE, the assignments and the ``assign`` events (the same fields
    ``core.move`` writes) as bulk inserts. The cycle row is locked first, so a second run
    waits and then finds nothing forwarded left. ``progress(done, total)`` is called after
    each batch of assessments written.

    Returns ``{"assigned": n, "reviewer_assignments": m, "short": [Assessment, …]}``.
    """
    _committee_check(actor, cycle)
    # Two runs at once would each count loads before the other's rows exist; one waits.
    Cycle.objects.select_for_update().get(pk=cycle.pk)
    spec = TRANSITIONS["assign"]
    team = list(team_reviewers(cycle.committee))
    team_ids = [user.pk for user in team]
    names = {user.pk: str(user) for user in team}
    held = held_roles(team_ids, cycle.committee)
    loads = cycle_loads(cycle)
    # The forwarded rows are locked in the same statement (one query, not one per row), so a
    # one-by-one assignment of one of them waits for this run and then finds it moved on.
    targets = list(
        Assessment.objects.filter(cycle_id=cycle.pk, status=AssessmentStatus.FORWARDED)
        .select_related("branch")
        .select_for_update(of=("self",))
        .order_by("branch__path", "pk")
    )
    already: dict[int, set[int]] = {}
    for assessment_id, reviewer_id in ReviewerAssignment.objects.filter(
        assessment__cycle_id=cycle.pk, assessment__status=AssessmentStatus.FORWARDED
    ).values_list("assessment_id", "reviewer_id"):
        already.setdefault(assessment_id, set()).add(reviewer_id)

    short: list[Assessment] = []
    plan: list[tuple[Assessment, list[int]]] = []  # (assessment, the chosen reviewers' ids)
    load_key = lambda pk: (loads.get(pk, 0), pk)  # noqa: E731 - least loaded, then lower id
    for assessment in targets:
        have = already.get(assessment.pk, ())
        need = cycle.reviewers_per_branch - len(have)
        candidates = [
            pk
            for pk in team_ids
            if pk not in have and not (pk in held and conflicts_for(held[pk], assessment.branch))
        ]
        if need > len(candidates):
            short.append(assessment)
            continue
        chosen = heapq.nsmallest(max(need, 0), candidates, key=load_key)
        for pk in chosen:
            loads[pk] = loads.get(pk, 0) + 1
        plan.append((assessment, chosen))

    total = len(plan)
    automatic = _("Assigned automatically: %(names)s")
    if progress is not None:
        progress(0, total)
    now = timezone.now()
    recorded_actor_id = getattr(actor_or_none(actor), "pk", None)
    rows = 0
    for start in range(0, total, BULK_BATCH):
        part = plan[start : start + BULK_BATCH]
        moved = Assessment.objects.filter(
            pk__in=[assessment.pk for assessment, _chosen in part], status__in=spec.sources
        ).update(status=spec.target, updated_at=now)
        statuses_changed()
        if moved != len(part):  # pragma: no cover - the rows are locked; a mismatch is a bug
            raise WorkflowError(_("The assessments changed while they were being updated; try again."))
        new_rows = ReviewerAssignment.objects.bulk_create(
            ReviewerAssignment(
                assessment_id=assessment.pk,
                cycle_id=assessment.cycle_id,
                reviewer_id=pk,
                assigned_by_id=actor.pk,
            )
            for assessment, chosen in part
            for pk in chosen
        )
        AssessmentEvent.objects.bulk_create(
            AssessmentEvent(
                assessment_id=assessment.pk,
                actor_id=recorded_actor_id,
                action="assign",
                from_status=assessment.status,
                to_status=spec.target,
                note=automatic % {"names": "、".join(names[pk] for pk in chosen)},
            )
            for assessment, chosen in part
        )
        rows += len(new_rows)
        if progress is not None:
            progress(start + len(part), total)
    if total:
        logger.info(
            "status move reviews.cycle:%s: %s assessments assigned automatically",
            cycle.pk,
            total,
            extra={"event": "status_move", "action": "assign", "target": f"reviews.cycle:{cycle.pk}"},
        )
    return {"assigned": total, "reviewer_assignments": rows, "short": short}


# ---------------------------------------------------------------------------- scoring


def _clean_entries(items: list[Item], entries: Entries, *, complete: bool) -> dict[int, ScoreEntry]:
    """Validate a sheet; ``complete`` also demands every score and a comment on every deduction.

    A deduction is a normal item below full marks, or a deduction item (扣分项) above 0, whose
    score is the points taken off (0 when nothing is deducted, which must be entered too).
    Errors are keyed by item code.
    """
    known = {item.pk for item in items}
    if set(entries) - known:
        raise ValidationError(_("Scores were sent for items that are not in this standard."))
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
        if item.kind == ItemKind.VETO:
            if entry.score not in (VETO_APPLIES, VETO_DOES_NOT_APPLY):
                errors[item.code] = _("Say whether the veto applies.")
                continue
            value = Decimal(entry.score).quantize(Decimal("0.1"))
            if complete and value == VETO_APPLIES and not comment:
                errors[item.code] = _("Explain why the veto applies.")
                continue
        else:
            try:
                value = validate_item_score(entry.score, item.max_score)
            except ScoreError as error:
                errors[item.code] = str(error)
                continue
            if item.kind == ItemKind.DEDUCTION:
                # On a deduction item the score is the points taken off: any above 0 needs a reason.
                if complete and value > 0 and not comment:
                    errors[item.code] = _("Give the reason for the deduction in the comment.")
                    continue
            elif complete and value < item.max_score and not comment:
                errors[item.code] = _("Explain the deduction: a comment is required below full marks.")
                continue
        cleaned[item.pk] = ScoreEntry(value, comment)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _write_sheet(assignment: ReviewerAssignment, version: int, sheet: dict[int, ScoreEntry]) -> None:
    ReviewScore.objects.filter(assignment_id=assignment.pk, version=version).delete()
    ReviewScore.objects.bulk_create(
        ReviewScore(
            assignment_id=assignment.pk,
            item_id=item_id,
            version=version,
            score=entry.score,
            comment=entry.text,
        )
        for item_id, entry in sheet.items()
        if entry.score is not None or entry.text
    )


def _lock_for_reviewer(assignment: ReviewerAssignment, actor) -> tuple[Assessment, ReviewerAssignment]:
    """Lock the assessment row, then re-read the assignment and check it is the actor's own."""
    assessment = (
        Assessment.objects.select_for_update()
        .select_related("branch", "cycle", "cycle__standard")
        .get(pk=assignment.assessment_id)
    )
    current = ReviewerAssignment.objects.get(pk=assignment.pk)
    if current.reviewer_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the assigned reviewer may enter these scores."))
    require_role(actor, TEAM_REVIEWERS, assessment.branch)
    return assessment, current


def _check_open_sheet(assessment: Assessment, assignment: ReviewerAssignment) -> None:
    if assessment.status != AssessmentStatus.SCORING:
        raise WorkflowError(
            _("This assessment is “%(status)s”; scores can be entered only while it is being scored.")
            % {"status": assessment.get_status_display()}
        )
    if assignment.submitted_at is not None:
        raise WorkflowError(_("You have already submitted your scores; revise them instead."))


def _set_results(assessment: Assessment) -> None:
    summary = scoring_summary(assessment)
    assessment.consolidated_score = summary.consolidated_score
    assessment.proposed_stars = summary.proposed_stars


@transaction.atomic
def save_draft_scores(*, assignment: ReviewerAssignment, actor, entries: Entries) -> ReviewerAssignment:
    """Keep an unfinished sheet; nothing is checked but the scores given."""
    assessment, current = _lock_for_reviewer(assignment, actor)
    _check_open_sheet(assessment, current)
    sheet = _clean_entries(standard_items(assessment), entries, complete=False)
    _write_sheet(current, current.version + 1, sheet)
    return current


@transaction.atomic
def submit_scores(*, assignment: ReviewerAssignment, actor, entries: Entries) -> Assessment:
    """Submit the whole sheet; the last reviewer to submit completes the scoring (SCORING → SCORED)."""
    assessment, current = _lock_for_reviewer(assignment, actor)
    _check_open_sheet(assessment, current)
    sheet = _clean_entries(standard_items(assessment), entries, complete=True)
    current.version += 1
    _write_sheet(current, current.version, sheet)
    current.submitted_at = timezone.now()
    current.save(update_fields=["version", "submitted_at"])
    if ReviewerAssignment.objects.filter(assessment_id=assessment.pk, submitted_at__isnull=True).exists():
        return assessment
    summary = scoring_summary(assessment)
    note = _("Consolidated score %(score)s, proposed %(stars)s stars.") % {
        "score": summary.consolidated_score,
        "stars": summary.proposed_stars,
    }
    return move(
        assessment_id=assessment.pk, action="complete_scoring", actor=actor, note=note, apply=_set_results
    )


@transaction.atomic
def revise_scores(*, assignment: ReviewerAssignment, actor, entries: Entries, note: str = "") -> Assessment:
    """After discussion, write the reviewer's sheet anew as version + 1 and recompute the results.

    Only once every reviewer has submitted (SCORED): revising while others still score
    would end the scoring early, since the revise move always lands on SCORED.
    """
    assessment, current = _lock_for_reviewer(assignment, actor)
    if current.submitted_at is None:
        raise WorkflowError(_("Submit your scores before revising them."))
    if assessment.status == AssessmentStatus.SCORING:
        raise WorkflowError(
            _("Scores can be revised once every reviewer has submitted; the others are still scoring.")
        )
    if assessment.status != AssessmentStatus.SCORED:
        raise WorkflowError(
            _("This assessment is “%(status)s”; its scores can no longer be revised.")
            % {"status": assessment.get_status_display()}
        )
    items = standard_items(assessment)
    sheet = _clean_entries(items, entries, complete=True)
    before = {
        s.item_id: (s.score, s.comment)
        for s in ReviewScore.objects.filter(assignment_id=current.pk, version=current.version)
    }
    changed = [
        item.code
        for item in items
        if before.get(item.pk, (None, "")) != (sheet[item.pk].score, sheet[item.pk].text)
    ]
    if not changed:
        raise ValidationError(_("Nothing was changed."))
    new_version = current.version + 1
    summary_note = _("Revised items %(codes)s (version %(version)s).") % {
        "codes": ", ".join(changed),
        "version": new_version,
    }

    def apply(locked: Assessment) -> None:
        current.version = new_version
        _write_sheet(current, new_version, sheet)
        current.save(update_fields=["version"])
        _set_results(locked)

    return move(
        assessment_id=assessment.pk,
        action="revise_scores",
        actor=actor,
        note=f"{summary_note} {(note or '').strip()[:MAX_COMMENT]}".strip(),
        apply=apply,
    )


__all__ = [
    "assign_reviewers",
    "auto_assign",
    "revise_scores",
    "save_draft_scores",
    "submit_scores",
]
