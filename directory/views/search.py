"""Search: branches by name or code, within the scope of staff, approvers and parent reviewers."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from branches.models import ORG_ORDER
from branches.roles import Role
from branches.selectors import branches_visible_to, role_set
from reviews.views.common import page_of, query_without_page

from ..forms.search import BranchSearchForm
from ..selectors import search_organizations, star_in_force

SEARCH_ROLES = frozenset({Role.STAFF, Role.COMMITTEE_APPROVER, Role.PARENT_REVIEWER})


def may_search(user) -> bool:
    """Who gets the search box: staff, approvers and parent reviewers (and superusers)."""
    return user.is_authenticated and (user.is_superuser or bool(SEARCH_ROLES & role_set(user)))


@login_required
@require_GET
def search(request):
    if not may_search(request.user):
        raise PermissionDenied(_("Searching branches is for party-affairs staff, approvers and reviewers."))
    form = BranchSearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    page = None
    if q:
        found = (
            search_organizations(branches_visible_to(request.user, SEARCH_ROLES), q)
            .annotate(star=star_in_force())
            .select_related("parent")
            .order_by("parent__sort_order", "parent__code", *ORG_ORDER)
        )
        page = page_of(request, found)
    return render(
        request,
        "directory/search.html",
        {"form": form, "q": q, "page": page, "query": query_without_page(request)},
    )


urlpatterns = [path("search/", search, name="search")]
