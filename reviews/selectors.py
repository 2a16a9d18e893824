"""Scoped reads of cycles and assessments; views never look rows up by id directly."""

from django.db.models import QuerySet
from django.http import Http404

from branches import scoping
from branches.models import Role

from .models import Assessment, Cycle


def assessments_visible_to(user, roles=None) -> QuerySet[Assessment]:
    """Assessments of branches the user reaches with one of ``roles`` (any role if None)."""
    return Assessment.objects.filter(branch__in=scoping.branches_visible_to(user, roles))


def get_assessment_for_user_or_404(user, pk, roles=None) -> Assessment:
    try:
        return (
            assessments_visible_to(user, roles)
            .select_related("branch", "cycle", "cycle__standard")
            .get(pk=pk)
        )
    except (Assessment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def assigned_assessments(user) -> QuerySet[Assessment]:
    """What an assessment-team member has been assigned to score, within their committee."""
    return assessments_visible_to(user, [Role.ASSESSMENT_REVIEWER]).filter(assignments__reviewer=user)


def cycles_visible_to(user, roles=None) -> QuerySet[Cycle]:
    return Cycle.objects.filter(committee__in=scoping.organizations_visible_to(user, roles))


def get_cycle_for_user_or_404(user, pk, roles=None) -> Cycle:
    try:
        return cycles_visible_to(user, roles).select_related("committee", "standard").get(pk=pk)
    except (Cycle.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
