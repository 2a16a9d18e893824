"""Stage applications: a branch applies to move up one stage; the committee's approver decides once a year."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import BranchStage, Organization, OrgKind, User
from branches.roles import SECRETARIES
from branches.selectors import require_role
from branches.services.organizations import change_stage
from branches.workflow import move_status
from reviews.uploads import check_upload

from ..models import DECIDED, ApplicationStatus, StageApplication, StageApplicationEvent, StageApplicationFile
from ..workflow import STAGE_TRANSITIONS
from .common import MAX_FILES_PER_APPLICATION, committee_of_branch

NEXT_STAGE = {BranchStage.BASIC: BranchStage.DISTINCTIVE, BranchStage.DISTINCTIVE: BranchStage.MODEL}


def decided_this_year(branch: Organization, year: int | None = None) -> StageApplication | None:
    """The branch's application decided in ``year`` (this year by default), if any."""
    year = year or timezone.localdate().year
    return StageApplication.objects.filter(branch_id=branch.pk, decided_year=year, status__in=DECIDED).first()


def _once_a_year_message(decided: StageApplication) -> str:
    return _(
        "The committee already decided an application of this branch in %(year)s "
        "(%(status)s on %(date)s); a branch may be decided once a year, so apply again next year."
    ) % {
        "year": decided.decided_year,
        "status": decided.get_status_display(),
        "date": timezone.localtime(decided.decided_at).date(),
    }


def submit_stage_application(
    *,
    branch: Organization,
    actor: User,
    name: str,
    description: str,
    files: Sequence[UploadedFile] = (),
) -> StageApplication:
    """The branch's secretary applies to move up one stage with its highlight or brand and evidence."""
    if branch.kind != OrgKind.BRANCH:
        raise ValidationError(_("Only a party branch applies for a stage."))
    require_role(actor, SECRETARIES, branch)
    branch = Organization.objects.get(pk=branch.pk)
    to_stage = NEXT_STAGE.get(branch.stage)
    if to_stage is None:
        raise ValidationError(_("This branch is already at the model stage, the highest."))
    if StageApplication.objects.filter(branch_id=branch.pk, status=ApplicationStatus.SUBMITTED).exists():
        raise ValidationError(
            _("This branch already has an application waiting for the committee's decision.")
        )
    decided = decided_this_year(branch)
    if decided is not None:
        raise ValidationError(_once_a_year_message(decided))
    errors: dict[str, str] = {}
    name, description = (name or "").strip(), (description or "").strip()
    if not name:
        errors["name"] = _("Give the name of the branch's highlight or brand.")
    if not description:
        errors["description"] = _("Describe the highlight or brand.")
    files = list(files or [])
    if len(files) > MAX_FILES_PER_APPLICATION:
        errors["files"] = _("Attach at most %(count)s files.") % {"count": MAX_FILES_PER_APPLICATION}
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
            application = StageApplication.objects.create(
                committee=committee_of_branch(branch),
                branch=branch,
                from_stage=branch.stage,
                to_stage=to_stage,
                name=name[:100],
                description=description[:4000],
                submitted_by=actor,
            )
            for info, uploaded in checked:
                row = StageApplicationFile(
                    application=application,
                    original_name=info.name,
                    content_type=info.content_type,
                    size=info.size,
                    uploaded_by=actor,
                )
                row.file.save(info.name, uploaded, save=False)
                stored.append(row.file.name)
                row.save()
            StageApplicationEvent.objects.create(
                application=application,
                actor=actor,
                action="submit",
                from_status="",
                to_status=ApplicationStatus.SUBMITTED,
            )
    except Exception:
        for stored_name in stored:
            StageApplicationFile._meta.get_field("file").storage.delete(stored_name)
        raise
    return application


def _move(*, application: StageApplication, action: str, actor: User, note: str = "", apply=None):
    return move_status(
        queryset=StageApplication.objects.select_related("branch", "committee"),
        pk=application.pk,
        transitions=STAGE_TRANSITIONS,
        action=action,
        actor=actor,
        authorize=lambda user, spec, row: require_role(
            user, spec.roles, row.committee if action != "withdraw" else row.branch
        ),
        refused=_("This application is “%(status)s”; the action “%(action)s” is not possible now."),
        event=lambda row, **fields: StageApplicationEvent.objects.create(application=row, **fields),
        note=note,
        apply=apply,
    )


@transaction.atomic
def decide_stage_application(
    *, application: StageApplication, actor: User, approve: bool, reason: str
) -> StageApplication:
    """Approve (the branch moves up, a StageChange on its timeline) or reject, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason of the decision.")})

    def apply(row: StageApplication) -> None:
        decided = decided_this_year(row.branch)
        if decided is not None and decided.pk != row.pk:
            raise ValidationError(_once_a_year_message(decided))
        if approve and row.branch.stage != row.from_stage:
            raise ValidationError(
                _(
                    "The branch's stage has changed since it applied (now “%(stage)s”); reject this application."
                )
                % {"stage": row.branch.get_stage_display()}
            )
        now = timezone.now()
        row.decided_by, row.decided_at = actor, now
        row.decided_year = timezone.localtime(now).year
        row.decision_reason = reason[:4000]
        if approve:
            change_stage(
                branch=row.branch,
                to_stage=row.to_stage,
                actor=actor,
                reason=_("Stage application approved: %(name)s. %(reason)s")
                % {"name": row.name, "reason": reason},
            )

    return _move(
        application=application,
        action="approve" if approve else "reject",
        actor=actor,
        note=reason,
        apply=apply,
    )


def withdraw_stage_application(*, application: StageApplication, actor: User) -> StageApplication:
    """The branch takes back an application the committee has not decided yet."""
    return _move(application=application, action="withdraw", actor=actor)


__all__ = [
    "NEXT_STAGE",
    "decide_stage_application",
    "decided_this_year",
    "submit_stage_application",
    "withdraw_stage_application",
]
