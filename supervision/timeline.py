"""The branch's supervision visits on its timeline (branches.timeline, the branch page in reviews)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization, User
from branches.timeline import LIMIT, TimelineEntry

from .models import SupervisionVisit


def visits(branch: Organization, user: User) -> list[TimelineEntry]:
    """The branch's visits (whoever may see the branch page reaches the branch, so may read them); two queries."""
    rows = (
        SupervisionVisit.objects.filter(branch_id=branch.pk)
        .select_related("recorded_by")
        .prefetch_related("members")
        .order_by("-visited_on", "-pk")[:LIMIT]
    )
    entries = []
    for visit in rows:
        # The day of the visit, at the hour it was recorded if that was the same day (else noon).
        recorded = timezone.localtime(visit.recorded_at)
        at = (
            recorded
            if recorded.date() == visit.visited_on
            else recorded.replace(
                year=visit.visited_on.year,
                month=visit.visited_on.month,
                day=visit.visited_on.day,
                hour=12,
                minute=0,
            )
        )
        entries.append(
            TimelineEntry(
                at=at,
                kind="visit",
                title=_("Supervision visit by %(members)s")
                % {"members": "、".join(member.display_name for member in visit.members.all())},
                detail=visit.findings or visit.checked,
                actor=visit.recorded_by.display_name,
                url=reverse("supervision:visit_detail", args=[visit.pk]),
            )
        )
    return entries
