"""Rectification tasks: open (or propose), confirm, dismiss, report progress, send back, accept.

Every function is keyword-only and atomic; every change of state goes through
``branches.workflow.move_status`` along ``rectification.workflow.TRANSITIONS`` and leaves a
``RectificationEvent``. Opening writes the first event (from nothing to open or proposed).
"""

import datetime
import logging

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization, OrgKind, RoleAssignment, User
from branches.roles import Role
from branches.selectors import has_role_on, require_role
from branches.workflow import actor_or_none, move_status
from reviews.uploads import check_upload

from ..models import (
    ONE_PER_SOURCE,
    RectificationEvent,
    RectificationFile,
    RectificationReport,
    RectificationTask,
    SourceKind,
    TaskStatus,
)
from ..workflow import OVERSEERS, TRANSITIONS

logger = logging.getLogger(__name__)

MAX_TEXT = 4000
MAX_FILES_PER_REPORT = 10
# A downgrade or revocation opens its task with this much time (a committee may change the
# deadline of each task when it confirms or reopens it; there is no per-committee setting).
DEFAULT_DEADLINE_DAYS = 30


def _text(value: str, field: str, message: str, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message})
    if len(text) > limit:
        raise ValidationError({field: _("Please keep this under %(max)s characters.") % {"max": limit}})
    return text


def committee_of(branch: Organization) -> Organization:
    return Organization.objects.get(pk=branch.ancestor_ids[0])


def owner_choices(branch: Organization):
    """The people of the branch who may own its task: those holding a role on the branch itself."""
    return (
        User.objects.filter(is_active=True, role_assignments__organization_id=branch.pk)
        .distinct()
        .order_by("username")
    )


def default_owner(branch: Organization) -> User | None:
    """The branch's secretary (the first, if it has several), or None."""
    row = (
        RoleAssignment.objects.filter(
            organization_id=branch.pk, role=Role.BRANCH_SECRETARY, user__is_active=True
        )
        .select_related("user")
        .order_by("created_at", "pk")
        .first()
    )
    return row.user if row else None


def _check_owner(owner: User | None, branch: Organization) -> None:
    if owner is not None and not owner_choices(branch).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("The person responsible must hold a role in the branch.")})


def _check_deadline(deadline: datetime.date | None, *, required: bool) -> None:
    if deadline is None:
        if required:
            raise ValidationError({"deadline": _("Set the deadline.")})
        return
    if deadline < timezone.localdate():
        raise ValidationError({"deadline": _("The deadline cannot be in the past.")})


def _event(task: RectificationTask, **fields) -> RectificationEvent:
    return RectificationEvent.objects.create(task=task, **fields)


def existing_task(*, source, item=None) -> RectificationTask | None:
    """The task already opened for ``source`` (and ``item``), if any."""
    if source is None:
        return None
    return RectificationTask.objects.filter(
        source_type=ContentType.objects.get_for_model(source), source_id=source.pk, item=item
    ).first()


@transaction.atomic
def open_task(
    *,
    committee: Organization,
    branch: Organization,
    title: str,
    requirement: str,
    owner: User | None,
    deadline: datetime.date | None,
    source_kind: str,
    source=None,
    actor,
    proposed: bool = False,
    item=None,
) -> RectificationTask:
    """Open a task (or, with ``proposed``, propose one for the parent reviewer to confirm).

    A task opened by hand (``SourceKind.MANUAL``) needs the actor to look after the branch
    (its parent reviewer, the committee's approver or staff) and an owner; tasks of the other
    sources are opened by the service that saw the source, for whoever acted there. A source
    that already has its task (per item for item losses) gets it back, nothing new is written.
    """
    if branch.kind != OrgKind.BRANCH:
        raise ValidationError(_("Rectification tasks are opened for party branches."))
    if branch.ancestor_ids[0] != committee.pk:
        raise ValidationError(_("The branch does not belong to this working committee."))
    if source_kind not in SourceKind.values:
        raise ValidationError({"source_kind": _("Unknown source.")})
    if source_kind == SourceKind.MANUAL:
        require_role(actor, OVERSEERS, branch)
    title = _text(title, "title", _("Give the task a title."), limit=200)
    requirement = _text(requirement, "requirement", _("Write down what is to be rectified."))
    if not proposed:
        _check_deadline(deadline, required=True)
        if source_kind == SourceKind.MANUAL and owner is None:
            raise ValidationError({"owner": _("Choose the person responsible.")})
    _check_owner(owner, branch)
    found = existing_task(source=source, item=item)
    if found is not None:
        return found
    status = TaskStatus.PROPOSED if proposed else TaskStatus.OPEN
    task = RectificationTask(
        committee=committee,
        branch=branch,
        title=title,
        requirement=requirement,
        owner=owner,
        deadline=deadline,
        source_kind=source_kind,
        item=item,
        status=status,
        opened_by=actor_or_none(actor),
        opened_on=None if proposed else timezone.localdate(),
    )
    if source is not None:
        task.source_type = ContentType.objects.get_for_model(source)
        task.source_id = source.pk
    try:
        with transaction.atomic():
            task.save()
    except IntegrityError:
        # Opened at the same moment by another request: the unique constraint kept it single.
        found = existing_task(source=source, item=item)
        if found is None or (source_kind not in ONE_PER_SOURCE and item is None):  # pragma: no cover
            raise
        return found
    _event(
        task,
        actor=actor_or_none(actor),
        action="propose" if proposed else "open",
        from_status="",
        to_status=status,
        note=requirement,
    )
    return task


def _authorize(user, spec, task: RectificationTask) -> None:
    if spec is TRANSITIONS["report"]:
        if user.is_authenticated and task.owner_id == user.pk:
            return
        require_role(user, spec.roles, task.branch)
        return
    require_role(user, spec.roles, task.branch)


def _move(*, task: RectificationTask, action: str, actor, note: str = "", apply=None) -> RectificationTask:
    return move_status(
        queryset=RectificationTask.objects.select_related("branch"),
        pk=task.pk,
        transitions=TRANSITIONS,
        action=action,
        actor=actor,
        authorize=_authorize,
        refused=_("This task is “%(status)s”; the action “%(action)s” is not possible now."),
        event=lambda row, **fields: _event(row, **fields),
        note=note,
        apply=apply,
    )


@transaction.atomic
def confirm_proposed(
    *, task: RectificationTask, actor, owner: User, deadline: datetime.date, requirement: str
) -> RectificationTask:
    """The parent reviewer confirms a proposed task: the requirement, the owner, the deadline."""
    requirement = _text(requirement, "requirement", _("Write down what is to be rectified."))
    if owner is None:
        raise ValidationError({"owner": _("Choose the person responsible.")})
    _check_owner(owner, task.branch)
    _check_deadline(deadline, required=True)

    def apply(locked: RectificationTask) -> None:
        locked.owner = owner
        locked.deadline = deadline
        locked.requirement = requirement
        locked.opened_on = timezone.localdate()

    return _move(task=task, action="confirm", actor=actor, note=requirement, apply=apply)


@transaction.atomic
def dismiss(*, task: RectificationTask, actor, reason: str) -> RectificationTask:
    """The parent reviewer dismisses a proposed task, with the reason."""
    reason = _text(reason, "reason", _("Give the reason for dismissing the proposal."))

    def apply(locked: RectificationTask) -> None:
        locked.closed_at = timezone.now()

    return _move(task=task, action="dismiss", actor=actor, note=reason, apply=apply)


def report_progress(
    *, task: RectificationTask, actor, text: str, files: list[UploadedFile] = ()
) -> RectificationReport:
    """The owner or the branch's secretary reports what was done, with evidence files.

    Every file is checked (``reviews.uploads.check_upload``) before anything is written, so a
    refused file loses nothing typed and leaves no half-made report behind.
    """
    text = _text(text, "text", _("Describe what has been done."))
    files = list(files or [])
    if len(files) > MAX_FILES_PER_REPORT:
        raise ValidationError(
            {"files": _("Attach at most %(count)s files.") % {"count": MAX_FILES_PER_REPORT}}
        )
    if not (
        task.owner_id == getattr(actor, "pk", None) or has_role_on(actor, Role.BRANCH_SECRETARY, task.branch)
    ):
        raise PermissionDenied(_("Only the person responsible or the branch secretary reports progress."))
    checked = []
    for uploaded in files:
        try:
            checked.append((check_upload(uploaded), uploaded))
        except ValidationError as error:
            raise ValidationError({"files": error.messages}) from None
    stored: list[str] = []
    reports: list[RectificationReport] = []

    def apply(locked: RectificationTask) -> None:
        now = timezone.now()
        report = RectificationReport.objects.create(task=locked, text=text, written_by=actor, written_at=now)
        for info, uploaded in checked:
            row = RectificationFile(
                task=locked,
                report=report,
                original_name=info.name,
                content_type=info.content_type,
                size=info.size,
                uploaded_by=actor,
            )
            row.file.save(info.name, uploaded, save=False)
            stored.append(row.file.name)
            row.save()
        locked.reported_at = now
        reports.append(report)

    try:
        with transaction.atomic():
            _move(task=task, action="report", actor=actor, note=text, apply=apply)
    except Exception:
        for name in stored:
            RectificationFile._meta.get_field("file").storage.delete(name)
        raise
    return reports[0]


@transaction.atomic
def send_back(
    *, task: RectificationTask, actor, reason: str, deadline: datetime.date | None = None
) -> RectificationTask:
    """The parent reviewer sends the report back (整改不到位), with the reason; optionally a new deadline."""
    reason = _text(reason, "reason", _("Give the reason for sending the report back."))
    _check_deadline(deadline, required=False)

    def apply(locked: RectificationTask) -> None:
        if deadline is not None:
            locked.deadline = deadline

    return _move(task=task, action="send_back", actor=actor, note=reason, apply=apply)


@transaction.atomic
def accept(*, task: RectificationTask, actor, note: str = "") -> RectificationTask:
    """The parent reviewer accepts the rectification (整改到位); the task is closed."""
    note = (note or "").strip()[:MAX_TEXT]

    def apply(locked: RectificationTask) -> None:
        locked.closed_at = timezone.now()

    return _move(task=task, action="accept", actor=actor, note=note, apply=apply)


__all__ = [
    "DEFAULT_DEADLINE_DAYS",
    "accept",
    "committee_of",
    "confirm_proposed",
    "default_owner",
    "dismiss",
    "existing_task",
    "open_task",
    "owner_choices",
    "report_progress",
    "send_back",
]
