"""Every write to standards, thresholds, dimensions and items. Views, admin and commands call these.

A published standard is frozen: scores already given against it must keep their meaning
(DOMAIN rule 3). Each write therefore locks the standard row and re-reads its status from
the database — never trusting the caller's possibly stale instance — and refuses with
``PublishedStandardError`` when it is published. The way to change a published standard is
``copy_standard_to_new_draft`` and publishing the copy.
"""

import enum
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.audit import AuditAction, record
from branches.models import Organization
from branches.workflow import move_status

from ..models import Dimension, Item, ItemKind, Standard, StandardEvent, StandardStatus, StarThreshold
from ..selectors import can_move_standard
from ..workflow import STANDARD_TRANSITIONS


class PublishedStandardError(ValidationError):
    """An attempt to change or delete a published standard or anything under it."""


class _Unchanged(enum.Enum):
    UNCHANGED = enum.auto()


# Default of ``copy_standard_to_new_draft(committee=...)``: the copy keeps the source's owner.
UNCHANGED = _Unchanged.UNCHANGED


def _locked_draft(standard_id: int) -> Standard:
    """The standard's row, locked for this transaction; refused if it is published."""
    standard = Standard.objects.select_for_update().get(pk=standard_id)
    if standard.is_published:
        raise PublishedStandardError(
            _("“%(standard)s” is published and can no longer be changed; copy it to a new draft version."),
            code="published",
            params={"standard": standard},
        )
    return standard


def _lock_drafts(*standard_ids: int | None) -> None:
    # Lock in primary-key order so two writers touching the same pair cannot deadlock.
    for standard_id in sorted({pk for pk in standard_ids if pk is not None}):
        _locked_draft(standard_id)


def _next_version(name: str) -> int:
    # Locking the existing versions makes a concurrent copy of the same standard wait here,
    # and the MAX below runs as a new statement, so it sees the version the other one made.
    list(Standard.objects.select_for_update().filter(name=name).values_list("pk", flat=True))
    highest = Standard.objects.filter(name=name).aggregate(highest=Max("version"))["highest"]
    return (highest or 0) + 1


# --- Standards ---------------------------------------------------------------------------


@transaction.atomic
def create_standard(
    *,
    name: str,
    committee: Organization | None = None,
    max_score: Decimal = Decimal("100"),
    bonus_cap: Decimal | None = None,
    allow_total_above_max: bool = False,
) -> Standard:
    """A new draft standard, numbered one past the highest version of that name."""
    standard = Standard(
        name=name,
        committee=committee,
        max_score=max_score,
        bonus_cap=bonus_cap,
        allow_total_above_max=allow_total_above_max,
    )
    return save_standard(standard=standard)


@transaction.atomic
def save_standard(*, standard: Standard) -> Standard:
    """Create or update a draft standard. Its status changes only through ``publish_standard``."""
    if standard.pk is None:
        if standard.status != StandardStatus.DRAFT or standard.published_at is not None:
            raise ValidationError(_("A new standard starts as a draft."), code="not_draft")
        if standard.version is None:
            standard.version = _next_version(standard.name)
    else:
        stored = _locked_draft(standard.pk)
        if standard.status != stored.status or standard.published_at != stored.published_at:
            raise ValidationError(_("A standard is published only through publishing it."), code="status")
        if standard.copied_from_id != stored.copied_from_id:
            raise ValidationError(
                _("Where a standard was copied from cannot be changed."), code="copied_from"
            )
    standard.full_clean()
    standard.save()
    return standard


@transaction.atomic
def delete_standard(*, standard: Standard) -> None:
    """Delete a draft standard with its thresholds, dimensions and items."""
    _locked_draft(standard.pk)
    standard.delete()


# --- Thresholds, dimensions, items -------------------------------------------------------


@transaction.atomic
def save_threshold(*, threshold: StarThreshold) -> StarThreshold:
    stored = StarThreshold.objects.filter(pk=threshold.pk).values_list("standard_id", flat=True).first()
    _lock_drafts(threshold.standard_id, stored)
    threshold.full_clean()
    threshold.save()
    return threshold


@transaction.atomic
def delete_threshold(*, threshold: StarThreshold) -> None:
    _lock_drafts(threshold.standard_id)
    threshold.delete()


@transaction.atomic
def save_dimension(*, dimension: Dimension) -> Dimension:
    stored = Dimension.objects.filter(pk=dimension.pk).values_list("standard_id", flat=True).first()
    _lock_drafts(dimension.standard_id, stored)
    dimension.full_clean()
    dimension.save()
    return dimension


@transaction.atomic
def delete_dimension(*, dimension: Dimension) -> None:
    """Delete a draft's dimension together with its items."""
    _lock_drafts(dimension.standard_id)
    dimension.delete()


@transaction.atomic
def save_item(*, item: Item) -> Item:
    standard_id = Dimension.objects.filter(pk=item.dimension_id).values_list("standard_id", flat=True).first()
    stored = Item.objects.filter(pk=item.pk).values_list("dimension__standard_id", flat=True).first()
    _lock_drafts(standard_id, stored)
    item.full_clean()
    # Scores are keyed by item code across the whole standard, not only within a dimension.
    if (
        Item.objects.filter(dimension__standard_id=standard_id, code=item.code)
        .exclude(pk=item.pk if item.pk is not None else -1)
        .exists()
    ):
        raise ValidationError(
            {
                "code": ValidationError(
                    _("Another item of this standard already has the code %(code)s."),
                    code="duplicate_code",
                    params={"code": item.code},
                )
            }
        )
    item.save()
    return item


@transaction.atomic
def delete_item(*, item: Item) -> None:
    standard_id = Dimension.objects.filter(pk=item.dimension_id).values_list("standard_id", flat=True).first()
    _lock_drafts(standard_id)
    item.delete()


# --- Publishing and copying --------------------------------------------------------------


def _publication_errors(standard: Standard) -> list[ValidationError]:
    """Everything that keeps ``standard`` from being scored consistently, in reading order.

    Only normal items make up a dimension's and the standard's points: bonus items (加分)
    and deduction items (减分) sit outside them, as on the sheets (基础分 + 加分 − 减分).
    """
    errors: list[ValidationError] = []
    dimensions = list(standard.dimensions.order_by("order", "code").prefetch_related("items"))
    thresholds = sorted(standard.thresholds.all(), key=lambda threshold: threshold.stars)

    if not dimensions:
        errors.append(ValidationError(_("A standard needs at least one dimension."), code="no_dimensions"))
    items = [item for dimension in dimensions for item in dimension.items.all()]
    if dimensions and not items:
        errors.append(ValidationError(_("A standard needs at least one item."), code="no_items"))

    for dimension in dimensions:
        dimension_items = list(dimension.items.all())
        if items and not dimension_items:
            errors.append(
                ValidationError(
                    _("Dimension “%(dimension)s” has no items."),
                    code="empty_dimension",
                    params={"dimension": dimension},
                )
            )
        normal_sum = sum(
            (item.max_score for item in dimension_items if item.kind == ItemKind.NORMAL), Decimal(0)
        )
        if dimension_items and normal_sum != dimension.max_score:
            errors.append(
                ValidationError(
                    _(
                        "Dimension “%(dimension)s” is worth %(max)s points, "
                        "but its normal items add up to %(sum)s."
                    ),
                    code="dimension_sum",
                    params={"dimension": dimension, "max": dimension.max_score, "sum": normal_sum},
                )
            )

    if items:
        normal_total = sum((item.max_score for item in items if item.kind == ItemKind.NORMAL), Decimal(0))
        if normal_total != standard.max_score:
            errors.append(
                ValidationError(
                    _("The normal items add up to %(sum)s points, but the standard's maximum is %(max)s."),
                    code="standard_sum",
                    params={"sum": normal_total, "max": standard.max_score},
                )
            )
        seen: set[str] = set()
        for item in items:
            if item.code in seen:
                errors.append(
                    ValidationError(
                        _("The item code %(code)s is used more than once."),
                        code="duplicate_code",
                        params={"code": item.code},
                    )
                )
            seen.add(item.code)

    if not thresholds:
        errors.append(
            ValidationError(_("A standard needs at least one star threshold."), code="no_thresholds")
        )
    for lower, higher in itertools.pairwise(thresholds):
        if higher.min_score <= lower.min_score:
            errors.append(
                ValidationError(
                    _(
                        "The threshold for %(higher)s stars (%(higher_min)s) must be above "
                        "the threshold for %(lower)s stars (%(lower_min)s)."
                    ),
                    code="thresholds_order",
                    params={
                        "higher": higher.stars,
                        "higher_min": higher.min_score,
                        "lower": lower.stars,
                        "lower_min": lower.min_score,
                    },
                )
            )
    if not standard.allow_total_above_max:
        for threshold in thresholds:
            if threshold.min_score > standard.max_score:
                errors.append(
                    ValidationError(
                        _(
                            "The threshold for %(stars)s stars (%(min)s) is above the maximum score "
                            "of %(max)s, so no branch could reach it."
                        ),
                        code="threshold_unreachable",
                        params={
                            "stars": threshold.stars,
                            "min": threshold.min_score,
                            "max": standard.max_score,
                        },
                    )
                )
    return errors


def _authorize_standard(actor, standard: Standard, action: str) -> None:
    if not can_move_standard(actor, standard, action):
        raise PermissionDenied(_("Your role does not allow this action."))


def move_standard(
    *,
    standard_id: int,
    action: str,
    actor,
    note: str = "",
    apply: Callable[[Standard], None] | None = None,
) -> Standard:
    """Lock the standard, check who acts and its state, run ``apply``, set the status, record.

    The only writer of a standard's status. ``apply`` does the action's own checks and
    writes while the row is locked; it may raise to refuse, and then nothing is written.
    """
    before: dict = {}

    def remember_and_apply(locked: Standard) -> None:
        before["status"] = locked.status
        if apply is not None:
            apply(locked)

    with transaction.atomic():
        stored = move_status(
            # No join to the committee: it may be NULL, and PostgreSQL locks no outer-joined row.
            queryset=Standard.objects.all(),
            pk=standard_id,
            transitions=STANDARD_TRANSITIONS,
            action=action,
            actor=actor,
            authorize=lambda user, spec, row: _authorize_standard(user, row, action),
            refused=_("This standard is “%(status)s”; the action “%(action)s” is not possible now."),
            event=lambda row, **fields: StandardEvent.objects.create(standard=row, **fields),
            note=note,
            apply=remember_and_apply,
        )
        # The audit trail of administration too: a global standard's row is for superusers.
        record(
            actor=actor,
            action=AuditAction.PUBLISH if action == "publish" else AuditAction.UPDATE,
            target=stored,
            committee=stored.committee if stored.committee_id else None,
            changes={"status": [before.get("status"), stored.status]},
            note=note,
        )
        return stored


@transaction.atomic
def publish_standard(*, standard: Standard, actor) -> Standard:
    """Check a draft for consistency and freeze it; raises ValidationError listing every problem.

    ``actor`` publishes: a superuser, or the staff or approver of the standard's committee.
    """

    def check_and_stamp(locked: Standard) -> None:
        errors = _publication_errors(locked)
        if errors:
            raise ValidationError(errors)
        locked.published_at = timezone.now()

    stored = move_standard(standard_id=standard.pk, action="publish", actor=actor, apply=check_and_stamp)
    # Keep the caller's instance in step, so it cannot later be saved back as a draft.
    standard.refresh_from_db(fields=["status", "published_at"])
    return stored


_ITEM_COPY_FIELDS = tuple(
    field.name for field in Item._meta.concrete_fields if not field.primary_key and field.name != "dimension"
)


@transaction.atomic
def copy_standard_to_new_draft(
    *,
    standard: Standard,
    committee: Organization | Literal[_Unchanged.UNCHANGED] | None = UNCHANGED,
) -> Standard:
    """A draft deep copy numbered one past the highest version of the name.

    ``committee`` gives the copy another owner — how a committee adapts a global standard.
    The copy is built from the stored rows, not from unsaved changes on ``standard``.
    """
    source = Standard.objects.get(pk=standard.pk)
    thresholds = list(source.thresholds.all())
    dimensions = list(source.dimensions.order_by("order", "code").prefetch_related("items"))

    copy = Standard(
        name=source.name,
        version=_next_version(source.name),
        status=StandardStatus.DRAFT,
        purpose=source.purpose,
        max_score=source.max_score,
        committee_id=source.committee_id if committee is UNCHANGED else (committee.pk if committee else None),
        bonus_cap=source.bonus_cap,
        allow_total_above_max=source.allow_total_above_max,
        copied_from=source,
    )
    copy.full_clean()
    copy.save()
    StarThreshold.objects.bulk_create(
        StarThreshold(standard=copy, stars=threshold.stars, min_score=threshold.min_score)
        for threshold in thresholds
    )
    new_items: list[Item] = []
    for dimension in dimensions:
        # One INSERT per dimension (a handful) so each new dimension's key is known portably.
        new_dimension = Dimension.objects.create(
            standard=copy,
            order=dimension.order,
            code=dimension.code,
            title=dimension.title,
            max_score=dimension.max_score,
        )
        new_items.extend(
            Item(dimension=new_dimension, **{name: getattr(item, name) for name in _ITEM_COPY_FIELDS})
            for item in dimension.items.all()
        )
    Item.objects.bulk_create(new_items)
    return copy


__all__ = [
    "UNCHANGED",
    "PublishedStandardError",
    "copy_standard_to_new_draft",
    "create_standard",
    "delete_dimension",
    "delete_item",
    "delete_standard",
    "delete_threshold",
    "move_standard",
    "publish_standard",
    "save_dimension",
    "save_item",
    "save_standard",
    "save_threshold",
]
