"""Supervision visits (督导): a committee member records a visit; a finding can open a rectification task."""

import datetime
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization, OrgKind, User
from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import has_role_on, require_role

from ..models import SupervisionVisit, VisitAction, VisitEvent, VisitPhoto
from .common import MAX_PHOTOS_PER_VISIT, MEMBER_ROLES, check_photo, committee_members, committee_of_branch


def record_visit(
    *,
    branch: Organization,
    actor: User,
    visited_on: datetime.date,
    members: Sequence[User],
    others: str = "",
    checked: str,
    findings: str = "",
    photos: Sequence[UploadedFile] = (),
) -> SupervisionVisit:
    """Record a visit with its photos; the quarter is the date's.

    Every photo is checked before anything is written, so a refused photo loses nothing else
    the member typed and no half-made visit stays behind.
    """
    if branch.kind != OrgKind.BRANCH:
        raise ValidationError(_("Supervision visits are recorded for party branches."))
    require_role(actor, MEMBER_ROLES, branch)
    committee = committee_of_branch(branch)
    errors: dict[str, str] = {}
    if visited_on is None:
        errors["visited_on"] = _("Give the date of the visit.")
    elif visited_on > timezone.localdate():
        errors["visited_on"] = _("The date of the visit cannot be in the future.")
    members = list({member.pk: member for member in members}.values())
    if not members:
        errors["members"] = _("Choose the committee members who went.")
    else:
        allowed = set(committee_members(committee).values_list("pk", flat=True))
        if any(member.pk not in allowed for member in members):
            errors["members"] = _("Choose members of this committee.")
    checked = (checked or "").strip()
    if not checked:
        errors["checked"] = _("Write down what was checked.")
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS_PER_VISIT:
        errors["photos"] = _("Attach at most %(count)s photos.") % {"count": MAX_PHOTOS_PER_VISIT}
    if errors:
        raise ValidationError(errors)
    checked_photos = []
    for uploaded in photos:
        try:
            checked_photos.append((check_photo(uploaded), uploaded))
        except ValidationError as error:
            raise ValidationError({"photos": error.messages}) from None
    stored: list[str] = []
    try:
        with transaction.atomic():
            visit = SupervisionVisit.objects.create(
                committee=committee,
                branch=branch,
                visited_on=visited_on,
                others=(others or "").strip()[:200],
                checked=checked[:4000],
                findings=(findings or "").strip()[:4000],
                recorded_by=actor,
            )
            visit.members.set(members)
            for info, uploaded in checked_photos:
                row = VisitPhoto(
                    visit=visit,
                    original_name=info.name,
                    content_type=info.content_type,
                    size=info.size,
                    uploaded_by=actor,
                )
                row.file.save(info.name, uploaded, save=False)
                stored.append(row.file.name)
                row.save()
            VisitEvent.objects.create(visit=visit, actor=actor, action=VisitAction.RECORDED)
    except Exception:
        for name in stored:
            VisitPhoto._meta.get_field("file").storage.delete(name)
        raise
    return visit


def may_open_task(user: User, visit: SupervisionVisit) -> bool:
    """Who went, who recorded, and the committee's approvers and staff may follow up a finding."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or visit.recorded_by_id == user.pk:
        return True
    if any(has_role_on(user, role, visit.committee) for role in COMMITTEE_MANAGERS):
        return True
    return has_role_on_any(user, visit) and visit.members.filter(pk=user.pk).exists()


def has_role_on_any(user: User, visit: SupervisionVisit) -> bool:
    return any(has_role_on(user, role, visit.committee) for role in MEMBER_ROLES)


@transaction.atomic
def open_task_from_finding(
    *,
    visit: SupervisionVisit,
    actor: User,
    title: str,
    requirement: str,
    owner: User,
    deadline: datetime.date,
):
    """Open a rectification task (整改任务) for a finding of the visit, linked to the visit."""
    from rectification.services import open_task  # the app below, written alongside

    visit = (
        SupervisionVisit.objects.select_for_update().select_related("committee", "branch").get(pk=visit.pk)
    )
    if not may_open_task(actor, visit):
        raise PermissionDenied(
            _("Only who went or recorded the visit, or the committee, may open a task from it.")
        )
    task = open_task(
        committee=visit.committee,
        branch=visit.branch,
        title=title,
        requirement=requirement,
        owner=owner,
        deadline=deadline,
        source_kind="supervision",
        source=visit,
        actor=actor,
        proposed=False,
    )
    VisitEvent.objects.create(visit=visit, actor=actor, action=VisitAction.TASK_OPENED, note=title[:200])
    return task


__all__ = ["may_open_task", "open_task_from_finding", "record_visit"]
