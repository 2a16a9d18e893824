"""Scoring standards: a versioned standard → dimensions → items, plus its star thresholds.

A standard is data, not code (DOMAIN rule 3): a committee may create, copy and version its
own, and a cycle pins the version it uses. Once published, a standard and everything under
it is frozen, so scores given against it never change meaning; ``scoring.services`` is the
only writer and refuses edits to published standards. Totals and stars are computed by the
pure functions of ``scoring.arithmetic``.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches.models import Organization, OrgKind, StatusEvent

MIN_STARS = 1
MAX_STARS = 5

# Points carry at most one decimal (DOMAIN rule 2); five digits leave room for standards
# far larger than the default 100 points.
POINTS = {"max_digits": 5, "decimal_places": 1}
ZERO = Decimal("0")

_star_validators = [MinValueValidator(MIN_STARS), MaxValueValidator(MAX_STARS)]
_non_negative = [MinValueValidator(ZERO)]


class StandardStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class StandardPurpose(models.TextChoices):
    # A certification standard rates stars in a cycle; a routine-check standard scores the
    # quarterly checks between certifications (checks app). Each code path picks its own.
    CERTIFICATION = "certification", _("Star certification")
    ROUTINE_CHECK = "routine_check", _("Routine check")


class ItemKind(models.TextChoices):
    NORMAL = "normal", _("Normal item")
    BONUS = "bonus", _("Bonus item")
    DEDUCTION = "deduction", _("Deduction item")
    VETO = "veto", _("Veto item")


class Standard(models.Model):
    """One version of a scoring standard (考核细则)."""

    name = models.CharField(_("name"), max_length=200)
    version = models.PositiveIntegerField(_("version"), validators=[MinValueValidator(1)])
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=StandardStatus.choices,
        default=StandardStatus.DRAFT,
    )
    purpose = models.CharField(
        _("purpose"),
        max_length=20,
        choices=StandardPurpose.choices,
        default=StandardPurpose.CERTIFICATION,
        help_text=_("Star certification in a cycle, or the routine quarterly check."),
    )
    max_score = models.DecimalField(
        _("maximum score"),
        **POINTS,
        default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_("The points of all normal items add up to this."),
    )
    committee = models.ForeignKey(
        Organization,
        verbose_name=_("working committee"),
        on_delete=models.PROTECT,
        related_name="standards",
        null=True,
        blank=True,
        limit_choices_to={"kind": OrgKind.COMMITTEE},
        help_text=_("Leave empty to make the standard available to every working committee."),
    )
    bonus_cap = models.DecimalField(
        _("bonus cap"),
        **POINTS,
        null=True,
        blank=True,
        validators=_non_negative,
        help_text=_("The most bonus points a branch can earn in all; empty means no cap."),
    )
    allow_total_above_max = models.BooleanField(
        _("allow total above maximum"),
        default=False,
        help_text=_("Whether bonus points may lift the total above the maximum score."),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    copied_from = models.ForeignKey(
        "self",
        verbose_name=_("copied from"),
        on_delete=models.SET_NULL,
        related_name="copies",
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        verbose_name = _("scoring standard")
        verbose_name_plural = _("scoring standards")
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="scoring_standard_name_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="scoring_standard_version_positive"),
            # A standard worth zero points could never tell branches apart.
            models.CheckConstraint(condition=Q(max_score__gt=0), name="scoring_standard_max_score_positive"),
            models.CheckConstraint(
                condition=Q(bonus_cap__isnull=True) | Q(bonus_cap__gte=0),
                name="scoring_standard_bonus_cap_non_negative",
            ),
            # Publication is a recorded moment: the timestamp exists exactly when published.
            models.CheckConstraint(
                condition=Q(status=StandardStatus.PUBLISHED, published_at__isnull=False)
                | Q(status=StandardStatus.DRAFT, published_at__isnull=True),
                name="scoring_standard_published_at_iff_published",
            ),
        ]

    def __str__(self) -> str:
        return str(_("%(name)s (version %(version)s)") % {"name": self.name, "version": self.version})

    @property
    def is_published(self) -> bool:
        return self.status == StandardStatus.PUBLISHED

    @property
    def is_global(self) -> bool:
        return self.committee_id is None


class StandardEvent(StatusEvent):
    """Every move of a standard (its publication): who, when, from, to, why."""

    standard = models.ForeignKey(
        Standard, verbose_name=_("standard"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(_("from"), max_length=20, choices=StandardStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=StandardStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("standard event")
        verbose_name_plural = _("standard events")


class StarThreshold(models.Model):
    """The least total that earns a star level under one standard (e.g. ≥95 → five stars)."""

    standard = models.ForeignKey(
        Standard, verbose_name=_("standard"), on_delete=models.CASCADE, related_name="thresholds"
    )
    stars = models.PositiveSmallIntegerField(_("stars"), validators=_star_validators)
    min_score = models.DecimalField(_("minimum score"), **POINTS, validators=_non_negative)

    class Meta:
        verbose_name = _("star threshold")
        verbose_name_plural = _("star thresholds")
        ordering = ["standard_id", "-stars"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "stars"], name="scoring_threshold_stars_unique"),
            models.CheckConstraint(
                condition=Q(stars__gte=MIN_STARS, stars__lte=MAX_STARS), name="scoring_threshold_stars_range"
            ),
            models.CheckConstraint(condition=Q(min_score__gte=0), name="scoring_threshold_min_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{'★' * self.stars} ≥ {self.min_score}"


class Dimension(models.Model):
    """A group of items with its share of the points (e.g. 1 班子建设, 25 points)."""

    standard = models.ForeignKey(
        Standard, verbose_name=_("standard"), on_delete=models.CASCADE, related_name="dimensions"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    code = models.CharField(_("code"), max_length=20, help_text=_("For example “1”."))
    title = models.CharField(_("title"), max_length=200)
    max_score = models.DecimalField(
        _("maximum score"),
        **POINTS,
        validators=_non_negative,
        help_text=_("Equal to the points of the dimension's normal items."),
    )

    class Meta:
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")
        ordering = ["standard_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "code"], name="scoring_dimension_code_unique"),
            models.CheckConstraint(condition=Q(max_score__gte=0), name="scoring_dimension_max_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Item(models.Model):
    """One line of the scoring sheet: what full marks needs and what evidence shows it."""

    dimension = models.ForeignKey(
        Dimension, verbose_name=_("dimension"), on_delete=models.CASCADE, related_name="items"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    code = models.CharField(
        _("code"),
        max_length=20,
        help_text=_("For example “1.1”; unique within the standard, since scores are keyed by it."),
    )
    title = models.CharField(_("title"), max_length=200)
    guidance = models.TextField(_("guidance"), blank=True, help_text=_("What full marks requires."))
    evidence_hint = models.CharField(
        _("evidence hint"),
        max_length=200,
        blank=True,
        help_text=_("The documents that show the item is met, e.g. meeting minutes."),
    )
    evidence_required = models.BooleanField(
        _("evidence required"),
        default=False,
        help_text=_("Whether a self-assessment must attach evidence for this item."),
    )
    max_score = models.DecimalField(
        _("maximum score"),
        **POINTS,
        validators=_non_negative,
        help_text=_("For a deduction item, the most points it can deduct."),
    )
    kind = models.CharField(
        _("kind"),
        max_length=10,
        choices=ItemKind.choices,
        default=ItemKind.NORMAL,
        help_text=_(
            "Normal items make up the standard's points; a bonus item adds points up to the bonus cap; "
            "a deduction item takes off up to its maximum, each deduction with a reason; a veto item "
            "caps the star level."
        ),
    )
    veto_star_cap = models.PositiveSmallIntegerField(
        _("star cap when vetoed"),
        null=True,
        blank=True,
        validators=_star_validators,
        help_text=_("Veto items only: the highest star level a branch can get when the item applies."),
    )

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        # By the raw key: ordering by "dimension" would follow Dimension's and Standard's
        # orderings through two joins on every query of items.
        ordering = ["dimension_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="scoring_item_code_unique"),
            models.CheckConstraint(condition=Q(max_score__gte=0), name="scoring_item_max_non_negative"),
            # isnull=False spelled out: SQL lets a CHECK pass when a comparison meets NULL.
            models.CheckConstraint(
                condition=Q(
                    kind=ItemKind.VETO,
                    veto_star_cap__isnull=False,
                    veto_star_cap__gte=MIN_STARS,
                    veto_star_cap__lte=MAX_STARS,
                )
                | (~Q(kind=ItemKind.VETO) & Q(veto_star_cap__isnull=True)),
                name="scoring_item_veto_cap_iff_veto",
            ),
            # A veto caps the star level; it never adds or removes points.
            models.CheckConstraint(
                condition=~Q(kind=ItemKind.VETO) | Q(max_score=0),
                name="scoring_item_veto_has_no_points",
            ),
            # A deduction item that can deduct nothing would be a line nobody can fill in.
            models.CheckConstraint(
                condition=~Q(kind=ItemKind.DEDUCTION) | Q(max_score__gt=0),
                name="scoring_item_deduction_has_points",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        if self.kind == ItemKind.VETO:
            if self.veto_star_cap is None:
                errors["veto_star_cap"] = ValidationError(_("A veto item needs the star level it caps at."))
            if self.max_score is not None and self.max_score != 0:
                errors["max_score"] = ValidationError(_("A veto item carries no points; set 0."))
        elif self.veto_star_cap is not None:
            errors["veto_star_cap"] = ValidationError(_("Only a veto item caps the star level."))
        if self.kind == ItemKind.DEDUCTION and self.max_score is not None and self.max_score <= 0:
            errors["max_score"] = ValidationError(
                _("A deduction item needs the most points it can deduct, above 0.")
            )
        if errors:
            raise ValidationError(errors)
