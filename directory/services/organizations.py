"""Deactivating an organization from the directory: refused while its branches are being assessed."""

from django.db import transaction
from django.utils.translation import gettext as _

from branches.errors import WorkflowError
from branches.models import Organization, User
from branches.services.organizations import set_organization_active
from reviews.models import Assessment, CycleStatus
from reviews.workflow import FINAL


def assessments_in_flight(org: Organization):
    """Assessments of ``org``'s subtree in an open cycle that have not reached a final state."""
    return (
        Assessment.objects.filter(branch__path__startswith=org.path, cycle__status=CycleStatus.OPEN)
        .exclude(status__in=FINAL)
        .select_related("branch", "cycle")
        .order_by("branch__sort_order", "branch__code")
    )


def deactivation_refusal(org: Organization) -> str | None:
    """Why ``org`` cannot be deactivated (an assessment in flight in its subtree), or None."""
    in_flight = list(assessments_in_flight(org)[:4])
    if not in_flight:
        return None
    names = "、".join(f"{a.branch.name}（{a.cycle.name}）" for a in in_flight[:3])
    return _(
        "%(org)s cannot be deactivated: an assessment is in flight for %(branches)s. "
        "Finish or close the cycle first."
    ) % {"org": org.name, "branches": names + ("…" if len(in_flight) > 3 else "")}


@transaction.atomic
def deactivate_organization(*, org: Organization, actor: User | None, note: str = "") -> Organization:
    """Deactivate ``org`` and its subtree, unless a branch there has an assessment in flight (409).

    The site's deactivate button and the Django admin (``directory.admin``) both come here.
    """
    org = Organization.objects.select_for_update().get(pk=org.pk)
    refusal = deactivation_refusal(org)
    if refusal:
        raise WorkflowError(refusal)
    # The whole subtree goes with it, each node recorded; the top first.
    subtree = Organization.objects.filter(path__startswith=org.path, is_active=True).order_by("depth", "pk")
    for node in subtree:
        set_organization_active(org=node, active=False, actor=actor, note=note)
    org.refresh_from_db()
    return org


def reactivate_organization(*, org: Organization, actor: User | None) -> Organization:
    """Reactivate ``org``; its parent must be active (an active node never hangs under an inactive one)."""
    if org.parent_id and not Organization.objects.filter(pk=org.parent_id, is_active=True).exists():
        raise WorkflowError(_("Reactivate the parent organization first."))
    return set_organization_active(org=org, active=True, actor=actor)
