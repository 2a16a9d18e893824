"""Star-rating cycles: self-assessment, preliminary review, scoring, decision, certificates.

State lives in one status field per assessment and per cycle, moved only by
``reviews.services`` following ``workflow.TRANSITIONS`` and ``workflow.CYCLE_TRANSITIONS``;
every move writes an ``AssessmentEvent`` or a ``CycleEvent``, and every change of a branch's
star a ``StarEvent``.
"""

import secrets
import uuid
from decimal import Decimal
from pathlib import PurePosixPath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.models import StatusEvent

POINTS = {"max_digits": 5, "decimal_places": 1}
STAR_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class CycleStatus(models.TextChoices):
    # A cycle stays open while its public notice batches are published and certified one
    # after another; it closes once every assessment is final, or when the approver closes it.
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Cycle(models.Model):
    """One round of star certification (认定周期) of a committee, pinned to a standard version."""

    committee = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("working committee"),
        on_delete=models.PROTECT,
        related_name="cycles",
    )
    name = models.CharField(_("name"), max_length=100)
    standard = models.ForeignKey(
        "scoring.Standard", verbose_name=_("standard"), on_delete=models.PROTECT, related_name="cycles"
    )
    self_assessment_deadline = models.DateField(_("self-assessment deadline"))
    preliminary_deadline = models.DateField(_("preliminary review deadline"))
    scoring_deadline = models.DateField(_("scoring deadline"))
    validity_months = models.PositiveSmallIntegerField(
        _("certificate validity (months)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    publicity_days = models.PositiveSmallIntegerField(
        _("public notice period (days)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    appeal_days = models.PositiveSmallIntegerField(
        _("appeal period (days)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("A branch may apply for a re-review for this many days after its result is published."),
    )
    reviewers_per_branch = models.PositiveSmallIntegerField(
        _("reviewers per branch"), default=3, validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    disagreement_fraction = models.DecimalField(
        _("disagreement threshold (share of the item's points)"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.333"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
        help_text=_(
            "Reviewers disagree on an item when their scores differ by more than this share of its points."
        ),
    )
    star_caps = models.JSONField(
        _("caps on the share of each star level (%)"),
        default=dict,
        blank=True,
        help_text=_('For example {"5": 30} allows at most 30% five-star branches.'),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CycleStatus.choices, default=CycleStatus.OPEN
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("certification cycle")
        verbose_name_plural = _("certification cycles")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "name"], name="cycle_name_unique_per_committee"),
        ]

    def __str__(self) -> str:
        return self.name

    def cap_for(self, stars: int) -> Decimal | None:
        raw = (self.star_caps or {}).get(str(stars))
        return None if raw in (None, "") else Decimal(str(raw))


class AssessmentStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned")
    FORWARDED = "forwarded", _("Forwarded")
    SCORING = "scoring", _("Being scored")
    SCORED = "scored", _("Scored")
    DECIDED = "decided", _("Decided")
    PUBLICIZED = "publicized", _("Under public notice")
    CERTIFIED = "certified", _("Certified")
    # Final without a star: the cycle closed before the assessment reached a certification.
    NOT_TAKING_PART = "not_taking_part", _("Did not take part")


class NoticeBatch(models.Model):
    """One publication of the public notice (公示) in a cycle, with its own window and certification.

    A cycle publishes the results decided so far as batch 1, certifies them once that batch's
    window has ended and its objections are resolved, while its other branches go on; those
    decided later form batch 2, and so on.
    """

    cycle = models.ForeignKey(
        Cycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="notice_batches"
    )
    number = models.PositiveSmallIntegerField(_("batch"))
    started_at = models.DateTimeField(_("public notice started"))
    ends_at = models.DateTimeField(_("public notice ends"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    certified_at = models.DateTimeField(_("certified at"), null=True, blank=True)
    certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("certified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("public notice batch")
        verbose_name_plural = _("public notice batches")
        ordering = ["cycle", "number"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "number"], name="notice_batch_number_unique_per_cycle")
        ]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.number}"

    def running(self, now) -> bool:
        return self.certified_at is None and now <= self.ends_at

    def due(self, now) -> bool:
        """Whether the window has ended and the batch waits for its certification."""
        return self.certified_at is None and now > self.ends_at


class Assessment(models.Model):
    """A branch's assessment in one cycle: self-scores, review rounds, scores, decision."""

    cycle = models.ForeignKey(
        Cycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="assessments"
    )
    branch = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.NOT_STARTED
    )
    declared_stars = models.PositiveSmallIntegerField(
        _("declared star level"), null=True, blank=True, validators=STAR_VALIDATORS
    )
    self_total = models.DecimalField(_("self-assessment total"), null=True, blank=True, **POINTS)
    recommendation = models.TextField(_("recommendation"), blank=True)
    consolidated_score = models.DecimalField(_("consolidated score"), null=True, blank=True, **POINTS)
    proposed_stars = models.PositiveSmallIntegerField(
        _("proposed star level"), null=True, blank=True, validators=STAR_VALIDATORS
    )
    decided_stars = models.PositiveSmallIntegerField(
        _("decided star level"), null=True, blank=True, validators=STAR_VALIDATORS
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    notice_batch = models.ForeignKey(
        NoticeBatch,
        verbose_name=_("public notice batch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["branch__path"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "branch"], name="one_assessment_per_branch_per_cycle"),
        ]
        indexes = [models.Index(fields=["cycle", "status"], name="assessment_cycle_status_idx")]

    def __str__(self) -> str:
        return f"{self.branch} · {self.cycle}"


class SelfScore(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="self_scores")
    item = models.ForeignKey(
        "scoring.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("self-score"), null=True, blank=True, **POINTS)
    explanation = models.TextField(_("explanation"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("self-score")
        verbose_name_plural = _("self-scores")
        constraints = [models.UniqueConstraint(fields=["assessment", "item"], name="one_self_score_per_item")]


def evidence_upload_to(instance: "Evidence", filename: str) -> str:
    # The stored name is random: the user's file name is kept only as data, never as a path.
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"evidence/{instance.assessment_id}/{uuid.uuid4().hex}{suffix}"


class Evidence(models.Model):
    """A file supporting one item (佐证材料), stored outside static/ under a random name."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="evidence")
    item = models.ForeignKey(
        "scoring.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("file"), upload_to=evidence_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(pgettext_lazy("uploaded file", "content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at"]


class SubmissionRound(models.Model):
    """One submission to the preliminary review and its outcome; every round is kept."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        RETURNED = "returned", _("Returned")
        FORWARDED = "forwarded", _("Forwarded")

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("round"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    declared_stars = models.PositiveSmallIntegerField(_("declared star level"), validators=STAR_VALIDATORS)
    self_total = models.DecimalField(_("self-assessment total"), **POINTS)
    snapshot = models.JSONField(_("self-scores as submitted"), default=dict)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    comment = models.TextField(_("reason or recommendation"), blank=True)

    class Meta:
        verbose_name = _("submission round")
        verbose_name_plural = _("submission rounds")
        ordering = ["assessment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "number"], name="submission_round_unique")
        ]


class ReviewerAssignment(models.Model):
    """An assessment-team member assigned to score one assessment."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="assignments")
    # The assessment's cycle, copied (it never changes): a reviewer's pages read their own
    # assignments of the cycles in hand by the (reviewer, cycle) index, not every assignment
    # they ever had (thousands in a province) joined to its assessment.
    cycle = models.ForeignKey(
        Cycle,
        verbose_name=_("cycle"),
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        db_index=False,  # the (reviewer, cycle) index below
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned by"), on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("scores submitted at"), null=True, blank=True)
    version = models.PositiveSmallIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("reviewer assignment")
        verbose_name_plural = _("reviewer assignments")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "reviewer"], name="one_assignment_per_reviewer")
        ]
        indexes = [models.Index(fields=["reviewer", "cycle"], name="assignment_reviewer_cycle_idx")]

    def save(self, *args, **kwargs):
        if self.cycle_id is None and self.assessment_id is not None:
            self.cycle_id = Assessment.objects.values_list("cycle_id", flat=True).get(pk=self.assessment_id)
        super().save(*args, **kwargs)


class ReviewScore(models.Model):
    """A reviewer's score of one item; a revision after discussion adds a new version row."""

    assignment = models.ForeignKey(ReviewerAssignment, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(
        "scoring.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    score = models.DecimalField(_("score"), null=True, blank=True, **POINTS)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review score")
        verbose_name_plural = _("review scores")
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "item", "version"], name="review_score_version_unique"
            )
        ]


class Objection(models.Model):
    """An objection (异议) received during the public notice, and how it was resolved.

    The committee records those received on paper (``received_from`` as written on them); a
    signed-in member of the committee's tree may lodge one online, and is then ``lodged_by``.
    """

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="objections")
    received_from = models.CharField(_("received from"), max_length=100, blank=True)
    content = models.TextField(_("content"), max_length=4000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    lodged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lodged online by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    resolution = models.TextField(_("resolution"), blank=True, max_length=4000)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    substantiated = models.BooleanField(
        _("substantiated"),
        default=False,
        help_text=_("The objection was found true (异议属实); a rectification task follows."),
    )

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["recorded_at"]


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    SUPERSEDED = "superseded", _("Superseded")


def new_verification_code() -> str:
    return secrets.token_hex(8).upper()


class Certificate(models.Model):
    """A branch's certified star level; ``stars`` is the current level after any downgrade."""

    branch = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    assessment = models.OneToOneField(
        Assessment, verbose_name=_("assessment"), on_delete=models.PROTECT, related_name="certificate"
    )
    certified_stars = models.PositiveSmallIntegerField(_("certified star level"), validators=STAR_VALIDATORS)
    stars = models.PositiveSmallIntegerField(_("current star level"), validators=STAR_VALIDATORS)
    issued_at = models.DateTimeField(_("issued at"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(
        _("status"), max_length=20, choices=CertificateStatus.choices, default=CertificateStatus.VALID
    )
    verification_code = models.CharField(
        _("verification code"), max_length=32, unique=True, default=new_verification_code
    )

    class Meta:
        verbose_name = _("star certificate")
        verbose_name_plural = _("star certificates")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch"],
                condition=models.Q(status="valid"),
                name="one_valid_certificate_per_branch",
            )
        ]

    def __str__(self) -> str:
        return f"{self.branch} ★{self.stars}"


class AssessmentEvent(StatusEvent):
    """Every move of an assessment through the workflow: who, when, from, to, why."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=20, choices=AssessmentStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=AssessmentStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("assessment event")
        verbose_name_plural = _("assessment events")


class CycleEvent(StatusEvent):
    """Every move of a cycle (public notice, certification): who, when, from, to, why."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=20, choices=CycleStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=CycleStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("cycle event")
        verbose_name_plural = _("cycle events")


class StarEventKind(models.TextChoices):
    CERTIFICATION = "certification", _("Certification")
    DOWNGRADE = "downgrade", _("Downgrade")
    REVOCATION = "revocation", _("Revocation")
    EXPIRY = "expiry", _("Expiry")


class StarEvent(models.Model):
    """A change of a branch's star level (DOMAIN rule 5): who, when, from → to, why."""

    branch = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="star_events",
    )
    certificate = models.ForeignKey(
        Certificate, verbose_name=_("certificate"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=StarEventKind.choices)
    from_stars = models.PositiveSmallIntegerField(_("from"), null=True, blank=True)
    to_stars = models.PositiveSmallIntegerField(_("to"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    reason = models.TextField(_("reason"), blank=True)
    violation = models.CharField(_("violation cited"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("star event")
        verbose_name_plural = _("star events")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.branch} · {self.get_kind_display()} · {timezone.localtime(self.at):%Y-%m-%d}"


# ---------------------------------------------------------------------------- appeals (复核申请)


class AppealStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    REJECTED = "rejected", _("Rejected")
    ACCEPTED = "accepted", _("Accepted")
    RESCORING = "rescoring", _("Being re-scored")
    RESCORED = "rescored", _("Re-scored")
    UPHELD = "upheld", _("Result upheld")
    CHANGED = "changed", _("Result changed")


# An appeal in one of these is over; certification of its branch may go on.
APPEAL_CLOSED = frozenset({AppealStatus.REJECTED, AppealStatus.UPHELD, AppealStatus.CHANGED})


class Appeal(models.Model):
    """A branch's application for a re-review (复核申请) of its published result; one per result.

    Moved only by ``reviews.services.appeals`` along ``workflow.APPEAL_TRANSITIONS``; every
    move writes an ``AppealEvent``.
    """

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.CASCADE, related_name="appeals"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=AppealStatus.choices, default=AppealStatus.SUBMITTED
    )
    reason = models.TextField(_("reason for the appeal"), max_length=4000)
    items = models.ManyToManyField("scoring.Item", verbose_name=_("items contested"), related_name="+")
    original_stars = models.PositiveSmallIntegerField(
        _("star level appealed against"), null=True, blank=True, validators=STAR_VALIDATORS
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    reviewers_wanted = models.PositiveSmallIntegerField(
        _("re-reviewers"), default=2, validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    review_reason = models.TextField(_("reason for accepting or rejecting"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted or rejected by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("accepted or rejected at"), null=True, blank=True)
    rescore_total = models.DecimalField(_("total after re-scoring"), null=True, blank=True, **POINTS)
    proposed_stars = models.PositiveSmallIntegerField(
        _("star level after re-scoring"), null=True, blank=True, validators=STAR_VALIDATORS
    )
    outcome_stars = models.PositiveSmallIntegerField(
        _("star level decided on appeal"), null=True, blank=True, validators=STAR_VALIDATORS
    )
    outcome_reason = models.TextField(_("reason for the outcome"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("outcome decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("outcome decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-submitted_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["assessment"], name="one_appeal_per_assessment")]

    def __str__(self) -> str:
        return f"{self.assessment} · {self.get_status_display()}"

    @property
    def is_closed(self) -> bool:
        return self.status in APPEAL_CLOSED


def appeal_upload_to(instance: "AppealFile", filename: str) -> str:
    # As for evidence: a random stored name, the user's file name kept only as data.
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"appeals/{instance.appeal_id}/{uuid.uuid4().hex}{suffix}"


class AppealFile(models.Model):
    """A file supporting an appeal, checked like evidence and stored outside static/."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(_("file"), upload_to=appeal_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(pgettext_lazy("uploaded file", "content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("appeal file")
        verbose_name_plural = _("appeal files")
        ordering = ["uploaded_at", "pk"]


class AppealReviewer(models.Model):
    """An assessment-team member who re-scores the contested items of an accepted appeal."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="reviewers")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("re-reviewer"),
        on_delete=models.PROTECT,
        related_name="appeal_assignments",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned by"), on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("scores submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appeal re-reviewer")
        verbose_name_plural = _("appeal re-reviewers")
        ordering = ["assigned_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["appeal", "reviewer"], name="one_appeal_assignment_per_reviewer")
        ]


class AppealScore(models.Model):
    """A re-reviewer's score of one contested item (a draft until the sheet is submitted)."""

    assignment = models.ForeignKey(AppealReviewer, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(
        "scoring.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("score"), null=True, blank=True, **POINTS)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("appeal score")
        verbose_name_plural = _("appeal scores")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "item"], name="one_appeal_score_per_item")
        ]


class AppealEvent(StatusEvent):
    """Every step of an appeal: applied, accepted or rejected, assigned, re-scored, decided."""

    appeal = models.ForeignKey(
        Appeal, verbose_name=_("appeal"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(_("from"), max_length=20, choices=AppealStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=AppealStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal events")
