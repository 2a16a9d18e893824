"""Rectification tasks (整改任务): requirement, owner, deadline, source, progress reports and acceptance.

A task follows a loss of points, a downgrade or revocation, an upheld objection or appeal, a
supervision finding, or is opened by hand — the "三定" of the sources: 确定工作要求 (``requirement``),
确定责任人 (``owner``), 确定完成时间 (``deadline``). Its state moves only through
``rectification.services`` along ``rectification.workflow.TRANSITIONS``; every move writes a
``RectificationEvent``.
"""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.models import StatusEvent


class TaskStatus(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("rectification task", "Proposed")
    OPEN = "open", pgettext_lazy("rectification task", "Being rectified")
    REPORTED = "reported", pgettext_lazy("rectification task", "Reported, waiting for acceptance")
    ACCEPTED = "accepted", pgettext_lazy("rectification task", "Accepted")
    DISMISSED = "dismissed", pgettext_lazy("rectification task", "Dismissed")


# A task in one of these still needs work or a decision.
ACTIVE = frozenset({TaskStatus.PROPOSED, TaskStatus.OPEN, TaskStatus.REPORTED})
# A task in one of these can be late (it has an owner and a deadline and is not done).
RUNNING = frozenset({TaskStatus.OPEN, TaskStatus.REPORTED})


class SourceKind(models.TextChoices):
    CERTIFICATION_ITEM = "certification_item", _("Points lost in certification")
    CHECK_ITEM = "check_item", _("Points lost in a quarterly check")
    DOWNGRADE = "downgrade", _("Downgrade")
    REVOCATION = "revocation", _("Revocation")
    OBJECTION = "objection", _("Objection upheld")
    APPEAL = "appeal", _("Appeal: lower result upheld")
    SUPERVISION = "supervision", _("Supervision finding")
    MANUAL = "manual", _("Opened by hand")


# Sources that open at most one task per source object (an item loss: one per source and item).
ONE_PER_SOURCE = (SourceKind.DOWNGRADE, SourceKind.REVOCATION, SourceKind.OBJECTION, SourceKind.APPEAL)


class RectificationTask(models.Model):
    committee = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("working committee"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    branch = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="rectification_tasks",
    )
    title = models.CharField(_("title"), max_length=200)
    requirement = models.TextField(_("requirement"), max_length=4000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person responsible"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    source_kind = models.CharField(_("source"), max_length=20, choices=SourceKind.choices)
    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    item = models.ForeignKey(
        "scoring.Item",
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    reported_at = models.DateTimeField(_("last reported at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification task")
        verbose_name_plural = _("rectification tasks")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["committee", "status", "deadline"], name="rect_committee_status_idx"),
            models.Index(fields=["branch", "status"], name="rect_branch_status_idx"),
            models.Index(fields=["owner", "status"], name="rect_owner_status_idx"),
            # The daily reminder job: running tasks by deadline.
            models.Index(fields=["status", "deadline"], name="rect_status_deadline_idx"),
            models.Index(fields=["-created_at", "-id"], name="rect_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "item"],
                condition=Q(item__isnull=False),
                name="rect_one_task_per_source_item",
            ),
            models.UniqueConstraint(
                fields=["source_type", "source_id"],
                condition=Q(item__isnull=True, source_kind__in=[str(kind) for kind in ONE_PER_SOURCE]),
                name="rect_one_task_per_source",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "dismissed"]) | Q(deadline__isnull=False),
                name="rect_running_task_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} · {self.title}"

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.status in RUNNING and self.deadline is not None and self.deadline < today

    @property
    def overdue(self) -> bool:
        return self.is_overdue()


class RectificationReport(models.Model):
    """The branch's report of its progress (整改情况), with evidence files."""

    task = models.ForeignKey(
        RectificationTask,
        verbose_name=_("rectification task"),
        on_delete=models.CASCADE,
        related_name="reports",
    )
    text = models.TextField(_("progress"), max_length=4000)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("written by"), on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("rectification report")
        verbose_name_plural = _("rectification reports")
        ordering = ["written_at", "pk"]

    def __str__(self) -> str:
        return f"{self.task} · {self.written_at:%Y-%m-%d}"


def rectification_upload_to(instance: "RectificationFile", filename: str) -> str:
    # The stored name is random: the user's file name is kept only as data, never as a path.
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"rectification/{instance.task_id}/{uuid.uuid4().hex}{suffix}"


class RectificationFile(models.Model):
    """Evidence of a progress report, checked like every other evidence (``reviews.uploads``)."""

    task = models.ForeignKey(RectificationTask, on_delete=models.CASCADE, related_name="files")
    report = models.ForeignKey(RectificationReport, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(_("file"), upload_to=rectification_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(pgettext_lazy("uploaded file", "content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rectification file")
        verbose_name_plural = _("rectification files")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class RectificationEvent(StatusEvent):
    """Every move of a task (opened, confirmed, reported, sent back, accepted, dismissed)."""

    task = models.ForeignKey(
        RectificationTask,
        verbose_name=_("rectification task"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    from_status = models.CharField(_("from"), max_length=20, choices=TaskStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=TaskStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("rectification event")
        verbose_name_plural = _("rectification events")
        indexes = [models.Index(fields=["task", "at"], name="rect_event_task_idx")]
