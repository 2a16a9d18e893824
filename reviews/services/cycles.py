"""Opening a certification cycle (认定周期) and its assessments."""

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from branches.models import Organization, OrgKind
from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import require_role, statuses_changed
from scoring.models import MAX_STARS, MIN_STARS, Standard
from scoring.selectors import published_standards_for

from ..models import Assessment, Cycle

# Rows per INSERT: well under SQLite's bound-parameter limit, few round trips on PostgreSQL.
BULK_BATCH = 1000


def deadline_errors(
    self_assessment_deadline: datetime.date | None,
    preliminary_deadline: datetime.date | None,
    scoring_deadline: datetime.date | None,
) -> dict[str, str]:
    """Each deadline must fall after the one before it; shared by the form and the service."""
    errors = {}
    if self_assessment_deadline and preliminary_deadline and preliminary_deadline <= self_assessment_deadline:
        errors["preliminary_deadline"] = _(
            "The preliminary review deadline must come after the self-assessment deadline."
        )
    if preliminary_deadline and scoring_deadline and scoring_deadline <= preliminary_deadline:
        errors["scoring_deadline"] = _(
            "The scoring deadline must come after the preliminary review deadline."
        )
    return errors


def normalize_star_caps(star_caps: dict | None) -> dict[str, int | float]:
    """``{"5": 30}``: star level → highest share in percent; blank levels are left out."""
    result: dict[str, int | float] = {}
    for key, raw in (star_caps or {}).items():
        if raw in (None, ""):
            continue
        try:
            stars = int(key)
            value = Decimal(str(raw))
        except (TypeError, ValueError, ArithmeticError):
            raise ValidationError({"star_caps": _("A star cap must be a number of percent.")}) from None
        if not MIN_STARS <= stars <= MAX_STARS:
            raise ValidationError({"star_caps": _("Star caps exist for one to five stars only.")})
        if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
            raise ValidationError({"star_caps": _("A star cap is a share between 0 and 100 percent.")})
        # JSON has no decimals: whole percentages stay integers, the rest one-decimal floats.
        result[str(stars)] = int(value) if value == value.to_integral_value() else float(round(value, 1))
    return result


def committee_branches(committee: Organization):
    """The active branches of the committee's tree: those a new cycle assesses."""
    # The committee key, not the path: one index range however large the province is.
    return Organization.objects.filter(committee_id=committee.pk, kind=OrgKind.BRANCH, is_active=True)


@transaction.atomic
def open_cycle(
    *,
    committee: Organization,
    actor,
    name: str,
    standard: Standard,
    self_assessment_deadline: datetime.date,
    preliminary_deadline: datetime.date,
    scoring_deadline: datetime.date,
    validity_months: int = 24,
    publicity_days: int = 5,
    appeal_days: int = 5,
    reviewers_per_branch: int = 3,
    disagreement_fraction: Decimal = Decimal("0.333"),
    star_caps: dict | None = None,
    check_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Cycle:
    """Open a cycle pinned to a published standard, with one assessment per active branch.

    The assessments are written in bulk (one INSERT per ``BULK_BATCH`` branches). With
    ``check_only`` every rule is checked and nothing is written: the page asks so before it
    opens a large committee's cycle as a background job, so that its refusals are still
    the form's errors. ``progress(done, total)`` hears of the assessments written.
    """
    if committee.kind != OrgKind.COMMITTEE:
        raise ValidationError(_("Only a working committee runs certification cycles."))
    require_role(actor, COMMITTEE_MANAGERS, committee)
    errors = deadline_errors(self_assessment_deadline, preliminary_deadline, scoring_deadline)
    if standard is None or not published_standards_for(committee).filter(pk=standard.pk).exists():
        errors["standard"] = _("Choose a published standard available to this committee.")
    name = (name or "").strip()
    if name and Cycle.objects.filter(committee=committee, name=name).exists():
        errors["name"] = _("This committee already has a cycle of this name.")
    if errors:
        raise ValidationError(errors)
    cycle = Cycle(
        committee=committee,
        name=name,
        standard=standard,
        self_assessment_deadline=self_assessment_deadline,
        preliminary_deadline=preliminary_deadline,
        scoring_deadline=scoring_deadline,
        validity_months=validity_months,
        publicity_days=publicity_days,
        appeal_days=appeal_days,
        reviewers_per_branch=reviewers_per_branch,
        disagreement_fraction=disagreement_fraction,
        star_caps=normalize_star_caps(star_caps),
        opened_by=actor,
    )
    # Field ranges and the one-name-per-committee constraint, as messages for the form.
    cycle.full_clean()
    if check_only:
        return cycle
    cycle.save()
    branch_ids = list(committee_branches(committee).values_list("pk", flat=True))
    Assessment.objects.bulk_create(
        (Assessment(cycle=cycle, branch_id=branch_id) for branch_id in branch_ids),
        batch_size=BULK_BATCH,
    )
    statuses_changed()
    if progress is not None:
        progress(len(branch_ids), len(branch_ids))
    return cycle
