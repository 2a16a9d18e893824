"""Monthly checks (月检查): the parent organization's reviewer records what it found at a branch."""

import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization, OrgKind
from branches.roles import PARENT_REVIEWERS
from branches.selectors import require_role
from reviews.uploads import check_upload
from scoring.models import Item, StandardPurpose, StandardStatus

from ..models import CheckEntry, CheckFile
from .years import propose_violation_downgrade

MAX_FILES_PER_ENTRY = 10


def record_check_entry(
    *,
    branch: Organization,
    actor,
    checked_on: datetime.date,
    items: list[Item],
    findings: str,
    violation: bool = False,
    violation_note: str = "",
    files: list[UploadedFile] = (),
) -> CheckEntry:
    """Record a monthly check with its files; a violation proposes a downgrade to the approver.

    Every file is checked before anything is written, so a refused file loses nothing else
    the reviewer typed (the form shows it again) and no half-made entry stays behind.
    """
    if branch.kind != OrgKind.BRANCH:
        raise ValidationError(_("Monthly checks are recorded for party branches."))
    require_role(actor, PARENT_REVIEWERS, branch)
    errors: dict[str, str] = {}
    if checked_on is None:
        errors["checked_on"] = _("Give the date of the check.")
    elif checked_on > timezone.localdate():
        errors["checked_on"] = _("The date of the check cannot be in the future.")
    findings = (findings or "").strip()
    if not findings:
        errors["findings"] = _("Write down what the check found.")
    violation_note = (violation_note or "").strip()
    if violation and not violation_note:
        errors["violation_note"] = _("Name the violation (违规违纪) that was found.")
    if not violation:
        violation_note = ""
    wrong = [
        item
        for item in items
        if item.dimension.standard.purpose != StandardPurpose.ROUTINE_CHECK
        or item.dimension.standard.status != StandardStatus.PUBLISHED
    ]
    if wrong:
        errors["items"] = _("Choose items of a published routine-check standard.")
    files = list(files or [])
    if len(files) > MAX_FILES_PER_ENTRY:
        errors["files"] = _("Attach at most %(count)s files.") % {"count": MAX_FILES_PER_ENTRY}
    if errors:
        raise ValidationError(errors)
    checked = []
    for uploaded in files:
        try:
            checked.append((check_upload(uploaded), uploaded))
        except ValidationError as error:
            raise ValidationError({"files": error.messages}) from None
    stored: list[str] = []
    try:
        with transaction.atomic():
            entry = CheckEntry.objects.create(
                branch=branch,
                checked_on=checked_on,
                findings=findings[:4000],
                violation=bool(violation),
                violation_note=violation_note[:200],
                recorded_by=actor,
            )
            entry.items.set(items)
            for info, uploaded in checked:
                row = CheckFile(
                    branch_id=branch.pk,
                    entry=entry,
                    original_name=info.name,
                    content_type=info.content_type,
                    size=info.size,
                    uploaded_by=actor,
                )
                row.file.save(info.name, uploaded, save=False)
                stored.append(row.file.name)
                row.save()
            propose_violation_downgrade(entry)
    except Exception:
        for name in stored:
            CheckFile._meta.get_field("file").storage.delete(name)
        raise
    return entry


__all__ = ["record_check_entry"]
