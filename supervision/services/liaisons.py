"""Liaison branches (联系点): the committee's approver or staff gives members branches to look after."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from branches.audit import AuditAction, record
from branches.models import Organization, OrgKind, User
from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import require_role

from ..models import LiaisonAssignment
from .common import committee_members


@transaction.atomic
def assign_liaisons(
    *, committee: Organization, member: User, branches: Sequence[Organization], actor: User
) -> list[LiaisonAssignment]:
    """Give ``member`` the ``branches`` as liaison branches (those already theirs stay as they are).

    One INSERT for all of them and one row of the audit trail naming the branches.
    """
    if committee.kind != OrgKind.COMMITTEE:
        raise ValidationError(_("Liaison branches are given by a working committee."))
    require_role(actor, COMMITTEE_MANAGERS, committee)
    errors: dict[str, str] = {}
    if not committee_members(committee).filter(pk=member.pk).exists():
        errors["member"] = _(
            "Only the committee's approvers, party-affairs staff and assessment-team reviewers "
            "can be given liaison branches."
        )
    branches = list({branch.pk: branch for branch in branches}.values())
    if not branches:
        errors["branches"] = _("Choose at least one branch.")
    elif any(branch.kind != OrgKind.BRANCH or branch.ancestor_ids[0] != committee.pk for branch in branches):
        errors["branches"] = _("Choose branches of this committee.")
    if errors:
        raise ValidationError(errors)
    taken = set(
        LiaisonAssignment.objects.filter(member=member, branch__in=branches).values_list(
            "branch_id", flat=True
        )
    )
    new = [
        LiaisonAssignment(committee=committee, member=member, branch=branch, assigned_by=actor)
        for branch in branches
        if branch.pk not in taken
    ]
    LiaisonAssignment.objects.bulk_create(new, batch_size=500)
    if new:
        record(
            actor=actor,
            action=AuditAction.CREATE,
            target_type=LiaisonAssignment._meta.model_name,
            target_label=_("Liaison branches of %(member)s") % {"member": member},
            committee=committee,
            changes={"branches": [None, "、".join(assignment.branch.name for assignment in new)]},
        )
    return new


@transaction.atomic
def remove_liaison(*, assignment: LiaisonAssignment, actor: User) -> None:
    """Take a liaison branch from its member (the visits already recorded stay)."""
    assignment = LiaisonAssignment.objects.select_related("committee", "member", "branch").get(
        pk=assignment.pk
    )
    require_role(actor, COMMITTEE_MANAGERS, assignment.committee)
    record(
        actor=actor,
        action=AuditAction.DELETE,
        target=assignment,
        committee=assignment.committee,
        changes={"branches": [assignment.branch.name, None]},
    )
    assignment.delete()


__all__ = ["assign_liaisons", "remove_liaison"]
