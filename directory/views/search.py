"""Search: branches by name or code, within the scope of staff, approvers and parent reviewers."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from branches.kept import kept_page
from branches.roles import Role
from branches.selectors import branches_visible_to, role_set
from reviews.views.common import page_of, query_without_page

from ..forms.search import BranchSearchForm
from ..selectors import search_organizations, star_in_force

SEARCH_ROLES = frozenset({Role.STAFF, Role.COMMITTEE_APPROVER, Role.PARENT_REVIEWER})
# The most matches listed (and counted) for one search.
SEARCH_LIMIT = 500


def may_search(user) -> bool:
    """Who gets the search box: staff, approvers and parent reviewers (and superusers)."""
    return user.is_authenticated and (user.is_superuser or bool(SEARCH_ROLES & role_set(user)))


@login_required
@kept_page
@require_GET
def search(request):
    if not may_search(request.user):
        raise PermissionDenied(_("Searching branches is for party-affairs staff, approvers and reviewers."))
    form = BranchSearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    page, more = None, False
    if q:
        matching = search_organizations(branches_visible_to(request.user, SEARCH_ROLES), q)
        # A word every branch shares (党支部) matches a whole province: the count stops at
        # SEARCH_LIMIT, and the page asks for a more precise word.
        count = matching.order_by()[: SEARCH_LIMIT + 1].count()
        more = count > SEARCH_LIMIT
        found = (
            matching.annotate(star=star_in_force())
            # The parents of the page's rows only: a join would sort every match by its parent.
            .prefetch_related("parent")
            .order_by("order_key")  # under the parent, both by ORG_ORDER (branch_order)
        )
        page = page_of(request, found, count=min(count, SEARCH_LIMIT))
    return render(
        request,
        "directory/search.html",
        {
            "form": form,
            "q": q,
            "page": page,
            "more": more,
            "limit": SEARCH_LIMIT,
            "query": query_without_page(request),
        },
    )


urlpatterns = [path("search/", search, name="search")]
