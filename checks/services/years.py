"""What a published round leads to: year results (五好党支部), 班子调整 flags, downgrade proposals."""

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.errors import WorkflowError
from branches.roles import APPROVERS, PARENT_REVIEWERS
from branches.selectors import require_role
from reviews.services.decision import downgrade_branch
from scoring.models import StarThreshold

from ..models import (
    CheckEntry,
    CheckRound,
    CheckRoundStatus,
    CheckSheet,
    DowngradeProposal,
    LeadershipFlag,
    ProposalSource,
    ProposalStatus,
    YearResult,
)
from ..ranking import LAST_PLACES_FOR_A_FLAG, far_below, is_five_good, year_average
from ..selectors import check_policy_numbers
from .rounds import stars_in_force


def after_publication(check_round: CheckRound) -> None:
    """Run inside the publication's transaction: flags, proposals, then the year's results."""
    raise_leadership_flags(committee_id=check_round.committee_id, year=check_round.year)
    propose_low_score_downgrades(check_round)
    compute_year_results(committee_id=check_round.committee_id, year=check_round.year)


def _published_sheets(committee_id: int, year: int):
    return CheckSheet.objects.filter(
        round__committee_id=committee_id, round__year=year, round__status=CheckRoundStatus.PUBLISHED
    )


@transaction.atomic
def compute_year_results(*, committee_id: int, year: int) -> list[YearResult]:
    """Each branch's average of the year's published quarterly scores; named five-good by the rule.

    Idempotent: the rows are rewritten from the published sheets each time (after every
    publication, so the year's page shows the year so far; final after the fourth quarter).
    """
    threshold, _margin = check_policy_numbers(committee_id)
    scores: dict[int, list[Decimal]] = defaultdict(list)
    last_places: dict[int, int] = defaultdict(int)
    for branch_id, total, last in _published_sheets(committee_id, year).values_list(
        "branch_id", "total", "is_last_in_group"
    ):
        scores[branch_id].append(total)
        last_places[branch_id] += int(last)
    existing = {row.branch_id: row for row in YearResult.objects.filter(committee_id=committee_id, year=year)}
    new_rows, changed = [], []
    for branch_id, values in scores.items():
        row = existing.pop(branch_id, None)
        if row is None:
            row = YearResult(committee_id=committee_id, branch_id=branch_id, year=year)
            new_rows.append(row)
        else:
            changed.append(row)
        row.rounds = len(values)
        row.average = year_average(values)
        row.threshold = threshold
        row.last_places = last_places[branch_id]
        row.five_good = is_five_good(values, threshold)
    # In bulk: a committee of 20,000 branches is rewritten in a few statements.
    YearResult.objects.bulk_create(new_rows, batch_size=1000)
    YearResult.objects.bulk_update(
        changed, ["rounds", "average", "threshold", "last_places", "five_good"], batch_size=1000
    )
    results = [*new_rows, *changed]
    # A branch without a published score any more (a result re-opened by an admin) has no year.
    YearResult.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    return results


def raise_leadership_flags(*, committee_id: int, year: int) -> list[LeadershipFlag]:
    """Flag every branch ranked last in its party committee in two published rounds of the year."""
    last: dict[int, list[int]] = defaultdict(list)
    for sheet_id, branch_id in (
        _published_sheets(committee_id, year).filter(is_last_in_group=True).values_list("pk", "branch_id")
    ):
        last[branch_id].append(sheet_id)
    raised = []
    for branch_id, sheet_ids in last.items():
        if len(sheet_ids) < LAST_PLACES_FOR_A_FLAG:
            continue
        flag, created = LeadershipFlag.objects.get_or_create(
            branch_id=branch_id, year=year, defaults={"committee_id": committee_id}
        )
        flag.sheets.add(*sheet_ids)
        if created:
            raised.append(flag)
    return raised


@transaction.atomic
def record_flag_action(*, flag: LeadershipFlag, actor, action_taken: str, action_on) -> LeadershipFlag:
    """The parent organization records how the branch's leadership was adjusted, and when."""
    require_role(actor, PARENT_REVIEWERS, flag.branch)
    text = (action_taken or "").strip()
    errors = {}
    if not text:
        errors["action_taken"] = _("Describe the action taken.")
    if action_on is None:
        errors["action_on"] = _("Give the date of the action.")
    elif action_on > timezone.localdate():
        errors["action_on"] = _("The date of the action cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    locked = LeadershipFlag.objects.select_for_update().get(pk=flag.pk)
    locked.action_taken = text[:2000]
    locked.action_on = action_on
    locked.action_by = actor
    locked.action_recorded_at = timezone.now()
    locked.save(update_fields=["action_taken", "action_on", "action_by", "action_recorded_at"])
    return locked


# --- Downgrade proposals ------------------------------------------------------------------------


def propose_low_score_downgrades(check_round: CheckRound) -> list[DowngradeProposal]:
    """Propose a downgrade for each published score more than the margin under its star's threshold."""
    _threshold, margin = check_policy_numbers(check_round.committee_id)
    sheets = list(check_round.sheets.filter(stars_in_force__isnull=False))
    certificates = stars_in_force([sheet.branch_id for sheet in sheets], timezone.localdate())
    standard_ids = {c.assessment.cycle.standard_id for c in certificates.values()}
    bands = {
        (standard_id, stars): minimum
        for standard_id, stars, minimum in StarThreshold.objects.filter(
            standard_id__in=standard_ids
        ).values_list("standard_id", "stars", "min_score")
    }
    proposals = []
    for sheet in sheets:
        certificate = certificates.get(sheet.branch_id)
        if certificate is None or certificate.stars <= 1:
            continue  # a one-star branch cannot go lower
        band = bands.get((certificate.assessment.cycle.standard_id, certificate.stars))
        if band is None or not far_below(sheet.total, band, margin):
            continue
        proposal, created = DowngradeProposal.objects.get_or_create(
            sheet=sheet,
            defaults={
                "committee_id": check_round.committee_id,
                "branch_id": sheet.branch_id,
                "source": ProposalSource.LOW_SCORE,
                "stars": certificate.stars,
                "reason": _(
                    "Quarterly check %(label)s: %(total)s points, more than %(margin)s under the %(band)s "
                    "points of its %(stars)s-star level."
                )
                % {
                    "label": check_round.label,
                    "total": sheet.total,
                    "margin": margin,
                    "band": band,
                    "stars": certificate.stars,
                },
            },
        )
        if created:
            proposals.append(proposal)
    return proposals


def propose_violation_downgrade(entry: CheckEntry) -> DowngradeProposal | None:
    """A monthly check that found a violation proposes a downgrade, if the branch holds a star."""
    if not entry.violation:
        return None
    certificate = stars_in_force([entry.branch_id], timezone.localdate()).get(entry.branch_id)
    if certificate is None:
        return None
    committee_id = entry.branch.ancestor_ids[0]
    proposal, _created = DowngradeProposal.objects.get_or_create(
        entry=entry,
        defaults={
            "committee_id": committee_id,
            "branch_id": entry.branch_id,
            "source": ProposalSource.VIOLATION,
            "stars": certificate.stars,
            "reason": _("Monthly check of %(day)s found a violation: %(violation)s")
            % {"day": f"{entry.checked_on:%Y-%m-%d}", "violation": entry.violation_note},
        },
    )
    return proposal


def _lock_open_proposal(proposal: DowngradeProposal, actor) -> DowngradeProposal:
    require_role(actor, APPROVERS, proposal.branch)
    locked = DowngradeProposal.objects.select_for_update().select_related("branch").get(pk=proposal.pk)
    if locked.status != ProposalStatus.OPEN:
        raise WorkflowError(_("This proposal has already been decided."))
    return locked


@transaction.atomic
def downgrade_from_proposal(
    *, proposal: DowngradeProposal, actor, to_stars: int, reason: str, violation: str
) -> DowngradeProposal:
    """The approver lowers the star through the existing downgrade (reviews) and closes the proposal."""
    locked = _lock_open_proposal(proposal, actor)
    event = downgrade_branch(
        branch=locked.branch, actor=actor, to_stars=to_stars, reason=reason, violation=violation
    )
    locked.status = ProposalStatus.DOWNGRADED
    locked.star_event = event
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_note = event.reason
    locked.save(update_fields=["status", "star_event", "decided_by", "decided_at", "decision_note"])
    return locked


@transaction.atomic
def dismiss_proposal(*, proposal: DowngradeProposal, actor, reason: str) -> DowngradeProposal:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for dismissing the proposal.")})
    locked = _lock_open_proposal(proposal, actor)
    locked.status = ProposalStatus.DISMISSED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_note = reason
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return locked


__all__ = [
    "after_publication",
    "compute_year_results",
    "dismiss_proposal",
    "downgrade_from_proposal",
    "propose_low_score_downgrades",
    "propose_violation_downgrade",
    "raise_leadership_flags",
    "record_flag_action",
]
