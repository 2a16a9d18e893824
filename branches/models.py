from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import Role


class User(AbstractUser):
    """A person who signs in; what they may do comes from their role assignments."""

    real_name = models.CharField(_("real name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Set when a one-time password was issued; the person chooses a new one at sign-in."),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.real_name or self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return str(self)


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", _("Working committee")
    PARTY_COMMITTEE = "party_committee", _("Party committee")
    GENERAL_BRANCH = "general_branch", _("General party branch")
    BRANCH = "branch", _("Party branch")


PARENT_KINDS = frozenset({OrgKind.PARTY_COMMITTEE, OrgKind.GENERAL_BRANCH})

# How organizations are listed side by side (a flat list, or siblings within the tree): the
# explicit sort number an admin sets, then the code. The tree's ``path`` holds primary keys,
# whose text order ("/1/10/" before "/1/2/") means nothing to a reader.
ORG_ORDER = ("sort_order", "code")


def branch_order(field: str = "branch") -> tuple[str, ...]:
    """Rows of branches (``field`` names the branch) grouped under their parent, both by ORG_ORDER.

    One indexed column, ``Organization.order_key``, holds that order: a page of a committee's
    20,000 assessments walks the index for its 25 rows instead of sorting them all.
    """
    return (f"{field}__order_key",)


def _order_part(sort_order: int, code: str) -> str:
    # The sort number shifted to be non-negative, at a fixed width; the code's UTF-8 bytes in hex,
    # ended by "00" (no code byte is 0), so that a code sorts before the codes it begins: the key
    # compares as (sort_order, code) do, byte by byte, whatever the database's collation.
    return f"{sort_order + 2**31:010d}{code.encode().hex()}00"


def order_key_of(org: "Organization", parent: "Organization | None") -> str:
    """``org``'s place in ``branch_order``: its parent's (sort_order, code), then its own."""
    head = _order_part(parent.sort_order, parent.code) if parent is not None else _order_part(0, "")
    return head + _order_part(org.sort_order, org.code)


# Which kinds may stand directly under which: committee → parent orgs (which may nest)
# → branches; a branch may also stand directly under the committee.
ALLOWED_CHILDREN: dict[str, frozenset[str]] = {
    OrgKind.COMMITTEE: frozenset({OrgKind.PARTY_COMMITTEE, OrgKind.GENERAL_BRANCH, OrgKind.BRANCH}),
    OrgKind.PARTY_COMMITTEE: frozenset({OrgKind.PARTY_COMMITTEE, OrgKind.GENERAL_BRANCH, OrgKind.BRANCH}),
    OrgKind.GENERAL_BRANCH: frozenset({OrgKind.BRANCH}),
    OrgKind.BRANCH: frozenset(),
}


class BranchStage(models.TextChoices):
    BASIC = "basic", _("Basic")
    DISTINCTIVE = "distinctive", _("Distinctive")
    MODEL = "model", _("Model")


class Organization(models.Model):
    """A node of the organization tree: committee → party committee / general branch → branch.

    ``path`` is a materialized path of primary keys ("/1/7/42/"), so a whole subtree is one
    indexed prefix query (``path__startswith``) however deep and large the tree is. It is
    written only by ``branches.services``.
    """

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("A unique short code, e.g. the organization's number in the party-member system."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
    )
    path = models.CharField(_("tree path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    # The committee at the top of the tree (the committee's own row points to itself): the
    # first key of ``path``, kept here so that a committee's whole tree is an equality on an
    # index, which the planner estimates from its statistics, rather than a LIKE semi-join it
    # cannot. Written only by ``branches.services`` (and the bulk builders), like ``path``.
    committee = models.ForeignKey(
        "self",
        verbose_name=_("working committee"),
        on_delete=models.DO_NOTHING,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
        db_index=False,  # the composite index below leads with it
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.IntegerField(
        _("order"),
        default=0,
        help_text=_("Organizations are listed by this number, then by code (smaller first)."),
    )
    stage = models.CharField(
        _("stage"),
        max_length=20,
        choices=BranchStage.choices,
        blank=True,
        help_text=_("Branches only: basic → distinctive → model."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # ``branch_order``'s key (parent's sort number and code, then its own), written on every
    # save and by the bulk writers; a parent's change of number or code rewrites its children's.
    order_key = models.CharField(_("list order"), max_length=700, editable=False, default="")

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        # Flat lists (choices, pages) by the sort number, then the code; tree views order by
        # ``path`` themselves (the admin's indented list, the bulletin's own tree order).
        ordering = ["sort_order", "code"]
        indexes = [
            # varchar_pattern_ops lets PostgreSQL use the index for LIKE 'prefix%'.
            models.Index(
                fields=["path"],
                name="org_path_prefix_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["kind", "is_active"], name="org_kind_active_idx"),
            models.Index(fields=["committee", "kind", "is_active"], name="org_committee_kind_idx"),
            models.Index(fields=["order_key"], name="org_order_key_idx"),
        ]
        constraints = [
            models.UniqueConstraint(Upper("code"), name="org_code_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(kind=OrgKind.COMMITTEE, parent__isnull=True)
                | (~models.Q(kind=OrgKind.COMMITTEE) & models.Q(parent__isnull=False)),
                name="org_only_committee_is_root",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=OrgKind.BRANCH) | models.Q(stage=""),
                name="org_stage_only_on_branch",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.order_key = order_key_of(self, self.parent if self.parent_id else None)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "order_key" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "order_key"]
        super().save(*args, **kwargs)

    @property
    def is_committee(self) -> bool:
        return self.kind == OrgKind.COMMITTEE

    @property
    def ancestor_ids(self) -> list[int]:
        """Primary keys from the committee down to this node, this node included."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def clean(self) -> None:
        errors = {}
        if self.kind == OrgKind.COMMITTEE and self.parent_id:
            errors["parent"] = _("A working committee is the top of its tree and has no parent.")
        if self.kind != OrgKind.COMMITTEE and self.kind and not self.parent_id:
            errors["parent"] = _("Choose the organization this one belongs to.")
        if self.parent_id and self.kind:
            parent = self.parent
            if self.kind not in ALLOWED_CHILDREN[parent.kind]:
                errors["parent"] = _("A %(kind)s cannot be placed under a %(parent_kind)s.") % {
                    "kind": OrgKind(self.kind).label,
                    "parent_kind": OrgKind(parent.kind).label,
                }
            elif self.pk and parent.path.startswith(self.path):
                errors["parent"] = _("An organization cannot be moved under itself or its own subtree.")
        if self.kind != OrgKind.BRANCH and self.stage:
            errors["stage"] = _("Only a party branch has a stage.")
        if self.kind == OrgKind.BRANCH and not self.stage:
            self.stage = BranchStage.BASIC
        if self.pk and self.kind:
            old_kind = Organization.objects.filter(pk=self.pk).values_list("kind", flat=True).first()
            if old_kind != self.kind and Organization.objects.filter(parent_id=self.pk).exists():
                errors["kind"] = _("The kind of an organization with sub-organizations cannot be changed.")
        if errors:
            raise ValidationError(errors)


class CommitteePolicy(models.Model):
    """The numbers a committee sets for itself (DOMAIN rule 6)."""

    committee = models.OneToOneField(
        Organization,
        verbose_name=_("working committee"),
        on_delete=models.CASCADE,
        related_name="policy",
        limit_choices_to={"kind": OrgKind.COMMITTEE},
    )
    five_star_target_percent = models.DecimalField(
        _("five-star target (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("80"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Share of branches the committee aims to have rated five stars."),
    )
    target_deadline = models.DateField(
        _("target deadline"),
        null=True,
        blank=True,
        help_text=_("The date by which the five-star share should be reached."),
    )
    five_goods_min_percent = models.DecimalField(
        _("minimum five-star share for “five goods” (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "A party committee or general branch whose share of five-star branches is below "
            "this cannot be rated a “five goods” organization."
        ),
    )

    five_good_threshold = models.DecimalField(
        _("five-good branch threshold"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("90"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "A branch whose quarterly checks average at least this in a year is named a "
            "five-good branch (五好党支部)."
        ),
    )
    downgrade_margin = models.DecimalField(
        _("downgrade proposal margin"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "A quarterly score more than this many points under the threshold of the branch's "
            "certified star proposes a downgrade to the approver."
        ),
    )

    rectification_loss_percent = models.DecimalField(
        _("rectification loss share (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "An item on which a branch lost more than this share of its points, in certification "
            "scoring or a quarterly check, proposes a rectification task."
        ),
    )
    rectification_reminder_days = models.PositiveSmallIntegerField(
        _("rectification reminder interval (days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("An open rectification task reminds its owner and the secretary every this many days."),
    )

    class Meta:
        verbose_name = _("committee policy")
        verbose_name_plural = _("committee policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(five_star_target_percent__gte=0, five_star_target_percent__lte=100),
                name="policy_target_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(five_goods_min_percent__gte=0, five_goods_min_percent__lte=100),
                name="policy_five_goods_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Policy of %(committee)s") % {"committee": self.committee})

    def clean(self) -> None:
        if self.committee_id and self.committee.kind != OrgKind.COMMITTEE:
            raise ValidationError({"committee": _("Only a working committee has a policy.")})


# The kinds of organization each role may be held on (DOMAIN.md, "Roles and scope").
ROLE_ORG_KINDS: dict[str, frozenset[str]] = {
    Role.BRANCH_SECRETARY: frozenset({OrgKind.BRANCH}),
    Role.PARENT_REVIEWER: PARENT_KINDS,
    Role.ASSESSMENT_REVIEWER: frozenset({OrgKind.COMMITTEE}),
    Role.COMMITTEE_APPROVER: frozenset({OrgKind.COMMITTEE}),
    Role.STAFF: frozenset(OrgKind.values),
}


class RoleAssignment(models.Model):
    """A user holds a role on an organization; it reaches the organization's whole subtree."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    created_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        # A person's roles from the top of the tree down, siblings by their explicit order.
        ordering = ["organization__depth", "organization__sort_order", "organization__code", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "organization"], name="role_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organization}"

    def clean(self) -> None:
        if self.role and self.organization_id:
            allowed = ROLE_ORG_KINDS[self.role]
            if self.organization.kind not in allowed:
                raise ValidationError(
                    {
                        "organization": _("The role “%(role)s” cannot be held on a %(kind)s.")
                        % {
                            "role": Role(self.role).label,
                            "kind": OrgKind(self.organization.kind).label,
                        }
                    }
                )


class StatusEvent(models.Model):
    """The shape of every status history: who moved what, when, from which status to which, why.

    Each app's event model adds the row it records and the choices of its statuses.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(_("from"), max_length=20)
    to_status = models.CharField(_("to"), max_length=20)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        # The statuses' labels, not the stored codes: each event model gives them choices.
        display = getattr(self, "get_to_status_display", lambda: self.to_status)
        source = getattr(self, "get_from_status_display", lambda: self.from_status)
        moved = f"{source() or '—'} → {display()}"
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {moved}" if self.at else moved


class StageChange(models.Model):
    """One change of a branch's stage (基础 → 特色 → 示范): by a committee's decision, an edit or an import.

    Written only by ``branches.services`` whenever a branch's stage changes, so the branch's
    timeline shows every change beside its star history.
    """

    branch = models.ForeignKey(
        Organization, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(_("from"), max_length=20, choices=BranchStage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=20, choices=BranchStage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["branch", "-at"], name="stage_change_branch_idx")]

    def __str__(self) -> str:
        return f"{self.branch} {self.get_from_stage_display() or '—'} → {self.get_to_stage_display()}"


class AuditEntry(models.Model):
    """One change made by administration: who changed what, when, from what to what.

    Append-only (等保 2.0 keeps these at least six months): rows are written by
    ``branches.audit.record`` from the services and never updated or deleted by the product.
    ``committee`` is the committee whose staff may read the row (empty for changes only a
    superuser sees, such as a new committee).
    """

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    committee = models.ForeignKey(
        Organization,
        verbose_name=_("working committee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=40)
    target_type = models.CharField(_("object type"), max_length=40)
    target_id = models.CharField(_("object id"), max_length=40, blank=True)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["committee", "-at"], name="audit_committee_at_idx"),
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("The audit trail is append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The audit trail is append-only."))


class PasswordHistory(models.Model):
    """The hash of a password someone chose, so that none of their last few is chosen again.

    Written by ``branches.passwords.PasswordHistoryValidator.password_changed`` whenever a
    password is saved (the change form, the forced change after a one-time password, the
    admin, ``changepassword``); only the newest ``PASSWORD_HISTORY_COUNT`` rows are kept.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="password_history",
    )
    password = models.CharField(_("password hash"), max_length=128)
    created_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        verbose_name = _("previous password")
        verbose_name_plural = _("previous passwords")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="password_history_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"
