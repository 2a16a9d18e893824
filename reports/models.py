"""Quarterly notices and bulletins, their files, and the record of every background job."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
    # Reminders of a rectification task (one per task, kind and interval slot).
    RECT_DUE = "rect_due", _("Rectification: reminder")
    RECT_OVERDUE = "rect_overdue", _("Rectification: overdue")


# Kinds whose notices belong to one rectification task and repeat once per interval slot.
TASK_NOTICE_KINDS = frozenset({NoticeKind.RECT_DUE, NoticeKind.RECT_OVERDUE})


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
    # A rectification reminder: its task, and the interval it reminds of (0, 1, 2, … since the
    # task was opened, every ``rectification_reminder_days`` days); empty for the other kinds.
    task = models.ForeignKey(
        "rectification.RectificationTask",
        verbose_name=_("rectification task"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    slot = models.PositiveIntegerField(_("reminder interval"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "committee", "year", "quarter", "kind"],
                condition=models.Q(task__isnull=True),
                name="one_notice_per_quarter_and_kind",
            ),
            models.UniqueConstraint(
                fields=["recipient", "task", "kind", "slot"],
                condition=models.Q(task__isnull=False),
                name="one_notice_per_task_kind_slot",
            ),
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


# ---------------------------------------------------------------------------- official documents


class DocumentIssuer(models.Model):
    """How a committee signs its official documents (公文): the issuing organ's full name, which
    heads every document in red (发文机关标志) and signs it at the end, and the short code (代字)
    its document numbers start with ("滨直工委〔2026〕12号")."""

    committee = models.OneToOneField(
        "branches.Organization",
        verbose_name=_("working committee"),
        on_delete=models.CASCADE,
        related_name="document_issuer",
    )
    organ_name = models.CharField(_("issuing organ"), max_length=60)
    code = models.CharField(_("document code"), max_length=20)

    class Meta:
        verbose_name = _("issuer of official documents")
        verbose_name_plural = _("issuers of official documents")

    def __str__(self) -> str:
        return f"{self.organ_name} · {self.code}"


class DocumentKind(models.TextChoices):
    BULLETIN = "bulletin", _("Quarterly bulletin (official document)")
    COMMENDATION = "commendation", _("Commendation decision")
    RESULTS_NOTICE = "results_notice", _("Notice of certification results")
    RECTIFICATION_NOTICE = "rectification_notice", _("Rectification notice")


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", pgettext_lazy("official document", "Issued")


class OfficialDocument(models.Model):
    """An official document (公文) in Word, made from frozen data: a draft staff may edit (title,
    lead paragraph, closing text), then issued once with its document number, after which it
    never changes and its .docx file is stored.

    The source is one of: the quarterly ``bulletin`` (通报); the ``cycle``, or one certified
    ``notice_batch`` of it (表彰决定; 认定结果通知 to the party committee ``unit``); a
    rectification task (整改通知, addressed to its branch as ``unit``)."""

    committee = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("working committee"),
        on_delete=models.PROTECT,
        related_name="official_documents",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT
    )
    bulletin = models.ForeignKey(
        Bulletin,
        verbose_name=_("quarterly bulletin"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    cycle = models.ForeignKey(
        "reviews.Cycle",
        verbose_name=_("certification cycle"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    notice_batch = models.ForeignKey(
        "reviews.NoticeBatch",
        verbose_name=_("public notice batch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    unit = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("addressed to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source_key = models.CharField(_("source"), max_length=60, editable=False)
    title = models.CharField(_("title"), max_length=200)
    lead = models.TextField(_("lead paragraph"), max_length=4000)
    closing = models.TextField(_("closing text"), max_length=4000, blank=True)
    data = models.JSONField(_("frozen data"), default=dict, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    document_number = models.CharField(_("document number"), max_length=60, blank=True)
    organ_name = models.CharField(_("issuing organ"), max_length=60, blank=True)
    docx = models.FileField(_("Word file"), upload_to="documents/", blank=True, max_length=255)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("official document")
        verbose_name_plural = _("official documents")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Numbers run per committee and year without gaps: the issue service takes the next
            # one under the issuer's row lock; this stops a duplicate whatever happens.
            models.UniqueConstraint(
                fields=["committee", "year", "number"],
                condition=models.Q(number__isnull=False),
                name="one_document_number_per_committee_and_year",
            ),
            # One document of a kind per source (a second "create" opens the first one).
            models.UniqueConstraint(fields=["kind", "source_key"], name="one_document_per_source"),
            models.CheckConstraint(
                condition=models.Q(status="draft", number__isnull=True)
                | models.Q(status="issued", number__isnull=False, year__isnull=False),
                name="issued_document_has_a_number",
            ),
        ]
        indexes = [models.Index(fields=["committee", "status"], name="document_committee_status_idx")]

    def __str__(self) -> str:
        return self.document_number or self.title

    @property
    def is_issued(self) -> bool:
        return self.status == DocumentStatus.ISSUED


class OfficialDocumentEvent(StatusEvent):
    """Every move of an official document (created, edited, issued): who, when, from, to, why."""

    document = models.ForeignKey(
        OfficialDocument, verbose_name=_("official document"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(_("from"), max_length=20, choices=DocumentStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=DocumentStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("official document event")
        verbose_name_plural = _("official document events")
