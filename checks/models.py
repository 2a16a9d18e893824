"""Dynamic management between certifications (DOMAIN rules 5 and 7): 月检查、季考核、年考评.

* A ``CheckEntry`` is a monthly check (月检查) the parent organization's reviewer records for a
  branch: the day, the items looked at, the findings, a violation if one was found, files.
* A ``CheckRound`` is a committee's quarterly check (季度考核) pinned to a routine-check standard
  version; it holds one ``CheckSheet`` per branch, scored by the branch's parent reviewer against
  the standard. The committee's approver or staff publishes the round; publication freezes each
  sheet's total, ranks (committee-wide and within the party committee) and the star in force.
* A ``YearResult`` is a branch's year (年考评): the average of its quarterly scores, and whether
  it is named 五好党支部. A ``LeadershipFlag`` (班子调整) marks a branch ranked last in its party
  committee twice in one year, with the action its parent organization records.
* A ``DowngradeProposal`` puts a far-too-low score or a violation before the approver, who
  downgrades through ``reviews.services.decision`` or dismisses it. Nothing changes a star by itself.
"""

import uuid
from decimal import ROUND_FLOOR, Decimal
from pathlib import PurePosixPath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.models import StatusEvent
from scoring.models import POINTS

QUARTER_VALIDATORS = [MinValueValidator(1), MaxValueValidator(4)]


class CheckRoundStatus(models.TextChoices):
    OPEN = "open", _("Open for scoring")
    PUBLISHED = "published", _("Published")


class CheckSheetStatus(models.TextChoices):
    PENDING = "pending", _("Not scored yet")
    SUBMITTED = "submitted", _("Scores submitted")
    RETURNED = "returned", _("Returned for rescoring")
    PUBLISHED = "published", _("Published")


class CheckRound(models.Model):
    """One committee's quarterly check (季度考核), pinned to the check standard version it uses."""

    committee = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("working committee"),
        on_delete=models.PROTECT,
        related_name="check_rounds",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"), validators=QUARTER_VALIDATORS)
    standard = models.ForeignKey(
        "scoring.Standard", verbose_name=_("standard"), on_delete=models.PROTECT, related_name="check_rounds"
    )
    self_reports = models.BooleanField(
        _("secretaries may self-report"),
        default=True,
        help_text=_("Whether branch secretaries may add a short self-report per item, with evidence."),
    )
    self_report_deadline = models.DateField(_("self-report deadline"))
    scoring_deadline = models.DateField(_("scoring deadline"))
    status = models.CharField(
        _("status"), max_length=20, choices=CheckRoundStatus.choices, default=CheckRoundStatus.OPEN
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the quarterly schedule opened the round."),
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("quarterly check")
        verbose_name_plural = _("quarterly checks")
        ordering = ["-year", "-quarter", "committee_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "year", "quarter"], name="check_round_one_per_committee_quarter"
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="check_round_quarter_range"
            ),
        ]

    def __str__(self) -> str:
        return str(
            _("%(committee)s · quarterly check %(year)s Q%(quarter)s")
            % {"committee": self.committee, "year": self.year, "quarter": self.quarter}
        )

    @property
    def label(self) -> str:
        return str(_("%(year)s Q%(quarter)s") % {"year": self.year, "quarter": self.quarter})

    @property
    def is_published(self) -> bool:
        return self.status == CheckRoundStatus.PUBLISHED


class CheckSheet(models.Model):
    """One branch's sheet in a round: the parent reviewer's scores, then the frozen result."""

    round = models.ForeignKey(
        CheckRound, verbose_name=_("quarterly check"), on_delete=models.CASCADE, related_name="sheets"
    )
    branch = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="check_sheets",
    )
    # The group the branch is ranked in: its parent when the round opened (the committee itself
    # for a branch standing directly under it). Kept, so a later move of the branch changes no result.
    group = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("party committee"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CheckSheetStatus.choices, default=CheckSheetStatus.PENDING
    )
    total = models.DecimalField(_("score"), **POINTS, null=True, blank=True)
    comment = models.TextField(_("overall comment"), blank=True, max_length=2000)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("scored by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    return_reason = models.TextField(_("reason for returning"), blank=True)
    # Frozen at publication (ranks and the star in force beside the score).
    rank_committee = models.PositiveIntegerField(_("rank in the committee"), null=True, blank=True)
    rank_group = models.PositiveIntegerField(_("rank in the party committee"), null=True, blank=True)
    group_size = models.PositiveIntegerField(_("branches in the party committee"), null=True, blank=True)
    is_last_in_group = models.BooleanField(_("last in the party committee"), default=False)
    rank_change = models.IntegerField(
        _("change of rank"),
        null=True,
        blank=True,
        help_text=_(
            "Places gained (positive) or lost (negative) in the committee since the previous published check."
        ),
    )
    stars_in_force = models.PositiveSmallIntegerField(_("star level in force"), null=True, blank=True)

    class Meta:
        verbose_name = _("check sheet")
        verbose_name_plural = _("check sheets")
        ordering = ["round_id", "group__sort_order", "group__code", "branch__sort_order", "branch__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "branch"], name="check_sheet_one_per_branch"),
        ]
        indexes = [models.Index(fields=["branch", "status"], name="check_sheet_branch_status_idx")]

    def __str__(self) -> str:
        return f"{self.branch} · {self.round.label}"


class CheckScore(models.Model):
    """The parent reviewer's score of one item of a sheet, with an optional comment."""

    sheet = models.ForeignKey(CheckSheet, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(
        "scoring.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("score"), **POINTS)
    comment = models.TextField(_("comment"), blank=True, max_length=1000)

    class Meta:
        verbose_name = _("check score")
        verbose_name_plural = _("check scores")
        constraints = [models.UniqueConstraint(fields=["sheet", "item"], name="check_score_one_per_item")]


class CheckSelfReport(models.Model):
    """The branch secretary's short self-report on one item of the round (optional per round)."""

    sheet = models.ForeignKey(CheckSheet, on_delete=models.CASCADE, related_name="self_reports")
    item = models.ForeignKey(
        "scoring.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("self-report"), max_length=1000)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("written by"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("self-report")
        verbose_name_plural = _("self-reports")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "item"], name="check_self_report_one_per_item")
        ]


class CheckEntry(models.Model):
    """A monthly check (月检查) of a branch by its parent organization."""

    branch = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="check_entries",
    )
    checked_on = models.DateField(_("date of the check"))
    items = models.ManyToManyField(
        "scoring.Item", verbose_name=_("items looked at"), related_name="+", blank=True
    )
    findings = models.TextField(_("findings"), max_length=4000)
    violation = models.BooleanField(
        _("violation found"),
        default=False,
        help_text=_("A violation (违规违纪) puts a downgrade proposal before the committee's approver."),
    )
    violation_note = models.CharField(_("violation"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("monthly check")
        verbose_name_plural = _("monthly checks")
        ordering = ["-checked_on", "-pk"]
        indexes = [models.Index(fields=["branch", "checked_on"], name="check_entry_branch_day_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(violation=True) | Q(violation_note=""),
                name="check_entry_violation_note_only_if_violation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} · {self.checked_on:%Y-%m-%d}"


def check_file_upload_to(instance: "CheckFile", filename: str) -> str:
    # The stored name is random: the user's file name is kept only as data, never as a path.
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"checks/{instance.branch_id}/{uuid.uuid4().hex}{suffix}"


class CheckFile(models.Model):
    """Evidence of a monthly check, or of a secretary's self-report on one item of a sheet."""

    branch = models.ForeignKey("branches.Organization", on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(
        CheckEntry, on_delete=models.CASCADE, related_name="files", null=True, blank=True
    )
    sheet = models.ForeignKey(
        CheckSheet, on_delete=models.CASCADE, related_name="files", null=True, blank=True
    )
    item = models.ForeignKey(
        "scoring.Item",
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    file = models.FileField(_("file"), upload_to=check_file_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(pgettext_lazy("uploaded file", "content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("check file")
        verbose_name_plural = _("check files")
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(entry__isnull=False) & Q(sheet__isnull=True))
                | (Q(entry__isnull=True) & Q(sheet__isnull=False) & Q(item__isnull=False)),
                name="check_file_of_an_entry_or_a_self_report",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name


class CheckRoundEvent(StatusEvent):
    """Every move of a quarterly check (opening, publication): who, when, from, to, why."""

    round = models.ForeignKey(
        CheckRound, verbose_name=_("quarterly check"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(_("from"), max_length=20, choices=CheckRoundStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=CheckRoundStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("quarterly check event")
        verbose_name_plural = _("quarterly check events")


class CheckSheetEvent(StatusEvent):
    """Every move of a check sheet (submitted, returned, published): who, when, from, to, why."""

    sheet = models.ForeignKey(
        CheckSheet, verbose_name=_("check sheet"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(_("from"), max_length=20, choices=CheckSheetStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=CheckSheetStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("check sheet event")
        verbose_name_plural = _("check sheet events")


class YearResult(models.Model):
    """A branch's year (年考评): the average of its published quarterly scores."""

    committee = models.ForeignKey("branches.Organization", on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="check_years",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    rounds = models.PositiveSmallIntegerField(_("quarterly checks scored"))
    average = models.DecimalField(_("average score"), max_digits=7, decimal_places=3)
    threshold = models.DecimalField(_("threshold"), **POINTS)
    last_places = models.PositiveSmallIntegerField(_("times last in the party committee"), default=0)
    five_good = models.BooleanField(_("named a five-good branch"), default=False)
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("year result")
        verbose_name_plural = _("year results")
        ordering = ["-year", "-average", "branch__sort_order", "branch__code"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "year"], name="check_year_result_one_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.branch} · {self.year}"

    @property
    def average_shown(self) -> Decimal:
        # Cut, never rounded up: 89.995 must not read 90.00 beside a branch that is not named.
        return self.average.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


class LeadershipFlag(models.Model):
    """班子调整: the branch was ranked last in its party committee twice in the year."""

    committee = models.ForeignKey("branches.Organization", on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="leadership_flags",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    sheets = models.ManyToManyField(CheckSheet, verbose_name=_("checks ranked last"), related_name="+")
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    action_taken = models.TextField(_("action taken"), blank=True, max_length=2000)
    action_on = models.DateField(_("date of the action"), null=True, blank=True)
    action_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action_recorded_at = models.DateTimeField(_("action recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("leadership adjustment flag")
        verbose_name_plural = _("leadership adjustment flags")
        ordering = ["-year", "branch__sort_order", "branch__code"]
        constraints = [models.UniqueConstraint(fields=["branch", "year"], name="check_flag_one_per_year")]

    def __str__(self) -> str:
        return f"{self.branch} · {self.year}"

    @property
    def is_open(self) -> bool:
        return not self.action_taken


class ProposalSource(models.TextChoices):
    LOW_SCORE = "low_score", _("Quarterly score far below the star level")
    VIOLATION = "violation", _("Violation found in a monthly check")


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the approver")
    DOWNGRADED = "downgraded", _("Downgraded")
    DISMISSED = "dismissed", _("Dismissed")


class DowngradeProposal(models.Model):
    """A proposal to lower a branch's star, put before the approver; it changes nothing by itself."""

    committee = models.ForeignKey("branches.Organization", on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="downgrade_proposals",
    )
    source = models.CharField(_("source"), max_length=20, choices=ProposalSource.choices)
    sheet = models.ForeignKey(CheckSheet, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    entry = models.ForeignKey(CheckEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    stars = models.PositiveSmallIntegerField(_("star level in force"))
    reason = models.TextField(_("why"))
    status = models.CharField(
        _("status"), max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("reason of the decision"), blank=True)
    star_event = models.ForeignKey(
        "reviews.StarEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("downgrade proposal")
        verbose_name_plural = _("downgrade proposals")
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["sheet"], condition=Q(sheet__isnull=False), name="check_proposal_one_per_sheet"
            ),
            models.UniqueConstraint(
                fields=["entry"], condition=Q(entry__isnull=False), name="check_proposal_one_per_entry"
            ),
            models.CheckConstraint(
                condition=(Q(source="low_score") & Q(sheet__isnull=False))
                | (Q(source="violation") & Q(entry__isnull=False)),
                name="check_proposal_names_its_evidence",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} · {self.get_source_display()}"
