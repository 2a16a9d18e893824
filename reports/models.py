"""Quarterly notices and bulletins, their files, and the record of every background job."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.models import StatusEvent

from .quarters import quarter_label, year_label


class BulletinStatus(models.TextChoices):
    GENERATING = "generating", _("Being generated")
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")


class BulletinKind(models.TextChoices):
    QUARTERLY = "quarterly", _("Quarterly bulletin")
    YEAR = "year", _("Year bulletin")


class Bulletin(models.Model):
    """A committee's bulletin: the quarterly one (季度通报), one per committee and quarter, or the
    year bulletin (年度通报) of the quarterly checks, one per committee and year (no quarter).

    ``data`` is the frozen result of the data function; the web preview, the PDF and the
    Excel file are all rendered from it, so they always agree and never change afterwards.
    """

    committee = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("working committee"),
        on_delete=models.PROTECT,
        related_name="bulletins",
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=BulletinKind.choices, default=BulletinKind.QUARTERLY
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000)])
    quarter = models.PositiveSmallIntegerField(
        _("quarter"), validators=[MinValueValidator(1), MaxValueValidator(4)], null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=BulletinStatus.choices, default=BulletinStatus.GENERATING
    )
    data = models.JSONField(_("frozen data"), default=dict, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="bulletins/", blank=True, max_length=255)
    xlsx = models.FileField(_("Excel"), upload_to="bulletins/", blank=True, max_length=255)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("quarterly bulletin")
        verbose_name_plural = _("quarterly bulletins")
        ordering = ["-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "year", "quarter"],
                condition=models.Q(kind="quarterly"),
                name="one_bulletin_per_quarter",
            ),
            models.UniqueConstraint(
                fields=["committee", "year"],
                condition=models.Q(kind="year"),
                name="one_year_bulletin_per_year",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="quarterly", quarter__gte=1, quarter__lte=4)
                | models.Q(kind="year", quarter__isnull=True),
                name="bulletin_quarter_1_4",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == BulletinKind.YEAR:
            return f"{self.committee} {self.year}"
        return f"{self.committee} {self.year}Q{self.quarter}"

    @property
    def is_year(self) -> bool:
        return self.kind == BulletinKind.YEAR

    @property
    def label(self) -> str:
        """ "Q3 2026" for a quarterly bulletin, "2025 year bulletin" for a year bulletin."""
        if self.is_year:
            return year_label(self.year)
        return quarter_label(self.year, self.quarter)

    @property
    def file_stem(self) -> str:
        """What the downloaded files are called after: "2026Q3", or "2025" for a year bulletin."""
        return str(self.year) if self.is_year else f"{self.year}Q{self.quarter}"


class BulletinAnnex(models.Model):
    """The PDF annex of one party committee (or general branch directly under the committee) to a
    quarterly bulletin: its branches' full lists and ranking, which the main document cuts on a
    large committee. Rendered with the bulletin from its frozen data; replaced when it is
    generated again."""

    bulletin = models.ForeignKey(
        Bulletin, verbose_name=_("quarterly bulletin"), on_delete=models.CASCADE, related_name="annexes"
    )
    unit = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("party committee"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    branches = models.PositiveIntegerField(_("branches"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    pdf = models.FileField(_("PDF"), upload_to="bulletins/", max_length=255)

    class Meta:
        verbose_name = _("bulletin annex")
        verbose_name_plural = _("bulletin annexes")
        ordering = ["bulletin", "position"]
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "unit"], name="one_annex_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.bulletin} · {self.name}"


class BulletinEvent(StatusEvent):
    """Every move of a bulletin (generated, failed, published): who, when, from, to, why.

    ``actor`` is empty for the moves a background worker makes.
    """

    bulletin = models.ForeignKey(
        Bulletin, verbose_name=_("quarterly bulletin"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(_("from"), max_length=20, choices=BulletinStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=BulletinStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("bulletin event")
        verbose_name_plural = _("bulletin events")


class NoticeKind(models.TextChoices):
    QUARTERLY = "quarterly", _("Quarterly notice")
    EXPIRY = "expiry", _("Certificate expiry")
    # Reminders of a quarterly check round (one round per committee and quarter).
    CHECK_REPORT_DUE = "check_report_due", _("Quarterly check: self-report due")
    CHECK_SCORING_DUE = "check_scoring_due", _("Quarterly check: scoring due")
    CHECK_SCORING_LATE = "check_scoring_late", _("Quarterly check: scoring overdue")


class Notice(models.Model):
    """A message in a user's notices page (and e-mailed where the user has an address)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    committee = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("working committee"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    links = models.JSONField(_("links"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "committee", "year", "quarter", "kind"],
                name="one_notice_per_quarter_and_kind",
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_unread_idx")]

    def __str__(self) -> str:
        return self.title


class JobStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class JobRun(models.Model):
    """One run of a background job, so staff can see what ran and what failed, with its error."""

    task_name = models.CharField(_("job"), max_length=200)
    arguments = models.JSONField(_("arguments"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.RUNNING
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Rows (or items) done of all, written every few hundred by jobs that report progress.
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("in all"), default=0)
    # What a job that reports its outcome did (counts, a refusal); never a secret.
    outcome = models.JSONField(_("outcome"), default=dict, blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.task_name} · {self.get_status_display()}"

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)
