"""Supervision visits (督导) of liaison branches (联系点) and stage applications (基础 → 特色 → 示范)."""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.models import BranchStage, Organization, StatusEvent


def calendar_quarter(day) -> tuple[int, int]:
    """(year, quarter) of a date, as reports.quarters counts them (that app stands above this one)."""
    return day.year, (day.month - 1) // 3 + 1


class LiaisonAssignment(models.Model):
    """A committee member (approver, staff or team reviewer) looks after a branch of the committee (联系点)."""

    committee = models.ForeignKey(
        Organization, verbose_name=_("working committee"), on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("committee member"),
        on_delete=models.CASCADE,
        related_name="liaison_assignments",
    )
    branch = models.ForeignKey(
        Organization, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="liaison_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)

    class Meta:
        verbose_name = _("liaison branch")
        verbose_name_plural = _("liaison branches")
        ordering = ["committee", "member", "branch__sort_order", "branch__code"]
        constraints = [
            models.UniqueConstraint(fields=["member", "branch"], name="liaison_member_branch_unique"),
        ]
        indexes = [models.Index(fields=["committee", "member"], name="liaison_committee_member_idx")]

    def __str__(self) -> str:
        return f"{self.member} · {self.branch}"


class SupervisionVisit(models.Model):
    """One visit of committee members to a branch: who went, what was checked, what was found."""

    committee = models.ForeignKey(
        Organization, verbose_name=_("working committee"), on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(
        Organization, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="supervision_visits"
    )
    visited_on = models.DateField(_("date of the visit"))
    year = models.PositiveSmallIntegerField(_("year"), editable=False)
    quarter = models.PositiveSmallIntegerField(_("quarter"), editable=False)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("committee members who went"),
        related_name="supervision_visits",
    )
    others = models.CharField(_("others who went"), max_length=200, blank=True)
    checked = models.TextField(_("what was checked"))
    findings = models.TextField(_("findings"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("supervision visit")
        verbose_name_plural = _("supervision visits")
        ordering = ["-visited_on", "-pk"]
        indexes = [
            models.Index(fields=["committee", "year", "quarter"], name="visit_committee_quarter_idx"),
            models.Index(fields=["branch", "year", "quarter"], name="visit_branch_quarter_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.branch} · {self.visited_on:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        # The quarter is the date's, always: a stored pair that disagreed would hide the visit.
        self.year, self.quarter = calendar_quarter(self.visited_on)
        super().save(*args, **kwargs)


def visit_photo_upload_to(instance: "VisitPhoto", filename: str) -> str:
    # The stored name is random: the user's file name is kept only as data, never as a path.
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"supervision/visits/{instance.visit_id}/{uuid.uuid4().hex}{suffix}"


class VisitPhoto(models.Model):
    """A photo taken on a visit (JPEG or PNG, checked like every upload)."""

    visit = models.ForeignKey(SupervisionVisit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to=visit_photo_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(pgettext_lazy("uploaded file", "content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class VisitAction(models.TextChoices):
    RECORDED = "recorded", _("Visit recorded")
    TASK_OPENED = "task_opened", _("Rectification task opened")


class VisitEvent(models.Model):
    """What happened to a visit record: recorded, a finding turned into a rectification task."""

    visit = models.ForeignKey(SupervisionVisit, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    action = models.CharField(_("action"), max_length=20, choices=VisitAction.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("visit event")
        verbose_name_plural = _("visit events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.visit} · {self.get_action_display()}"


# ---------------------------------------------------------------------------- stages


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


DECIDED = (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)


class StageApplication(models.Model):
    """A branch applies to move up one stage with its 特色亮点 (to distinctive) or 品牌 (to model)."""

    committee = models.ForeignKey(
        Organization, verbose_name=_("working committee"), on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(
        Organization, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="stage_applications"
    )
    from_stage = models.CharField(_("from"), max_length=20, choices=BranchStage.choices)
    to_stage = models.CharField(_("to"), max_length=20, choices=BranchStage.choices)
    name = models.CharField(_("name of the highlight or brand"), max_length=100)
    description = models.TextField(_("description"))
    status = models.CharField(
        _("status"), max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The year of the decision: a branch gets one decision a year (the constraint below).
    decided_year = models.PositiveSmallIntegerField(_("year of the decision"), null=True, blank=True)
    decision_reason = models.TextField(_("reason of the decision"), blank=True)

    class Meta:
        verbose_name = _("stage application")
        verbose_name_plural = _("stage applications")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "decided_year"],
                condition=Q(decided_year__isnull=False),
                name="stage_application_one_decision_a_year",
            ),
            models.UniqueConstraint(
                fields=["branch"],
                condition=Q(status="submitted"),
                name="stage_application_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["committee", "status"], name="stage_app_committee_status_idx")]

    def __str__(self) -> str:
        return f"{self.branch} · {self.get_from_stage_display()} → {self.get_to_stage_display()}"


def stage_file_upload_to(instance: "StageApplicationFile", filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"supervision/stages/{instance.application_id}/{uuid.uuid4().hex}{suffix}"


class StageApplicationFile(models.Model):
    """Evidence of a stage application (the evidence rules of every upload)."""

    application = models.ForeignKey(StageApplication, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(_("file"), upload_to=stage_file_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(pgettext_lazy("uploaded file", "content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stage application file")
        verbose_name_plural = _("stage application files")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class StageApplicationEvent(StatusEvent):
    """Every move of a stage application: submitted, approved, rejected, withdrawn."""

    application = models.ForeignKey(StageApplication, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=20, choices=ApplicationStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=ApplicationStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("stage application event")
        verbose_name_plural = _("stage application events")
