"""Scoped reads of cycles and assessments; views never look rows up by id directly."""

from django.db.models import QuerySet
from django.http import Http404

from branches import scoping
from branches.models import Role

from .models import Assessment, Cycle, Evidence


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


# --- Who may read an assessment and its evidence ------------------------------------------

# Roles that reach an assessment through the tree. Assessment-team reviewers hold their role
# on the whole committee but may read only what they were assigned, so they come in below.
TREE_READER_ROLES = (Role.BRANCH_SECRETARY, Role.PARENT_REVIEWER, Role.COMMITTEE_APPROVER, Role.STAFF)


def get_readable_assessment_or_404(user, pk) -> Assessment:
    """An assessment the user may read, or the same 404 for "missing" and "not yours"."""
    try:
        return get_assessment_for_user_or_404(user, pk, TREE_READER_ROLES)
    except Http404:
        assessment = (
            assigned_assessments(user)
            .select_related("branch", "cycle", "cycle__standard")
            .filter(pk=pk)
            .first()
        )
        if assessment is None:
            raise
        return assessment


def evidence_of(assessment: Assessment) -> QuerySet[Evidence]:
    return (
        Evidence.objects.filter(assessment_id=assessment.pk)
        .select_related("uploaded_by")
        .order_by("item_id", "uploaded_at", "pk")
    )


def get_evidence_for_user_or_404(user, pk) -> Evidence:
    """An evidence row whose assessment the user may read; 404 otherwise, and for bad ids."""
    try:
        assessment_id = Evidence.objects.filter(pk=pk).values_list("assessment_id", flat=True).first()
    except (ValueError, TypeError):
        raise Http404 from None
    if assessment_id is None:
        raise Http404
    assessment = get_readable_assessment_or_404(user, assessment_id)
    evidence = Evidence.objects.select_related("uploaded_by", "item").filter(pk=pk).first()
    if evidence is None:  # deleted in the meantime
        raise Http404
    evidence.assessment = assessment
    return evidence
