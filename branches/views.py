from django.contrib.auth.decorators import login_required
from django.db.models import F, Func, IntegerField, OuterRef, Subquery
from django.db.models.lookups import StartsWith
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Organization, OrgKind
from .scoping import roles_of


def _branch_count_in_subtree() -> Subquery:
    """COUNT of the branches under the outer role assignment's organization (itself included).

    A correlated subquery, so the home page is one query however many roles a user holds.
    """
    branches = (
        Organization.objects.filter(kind=OrgKind.BRANCH)
        .filter(StartsWith(F("path"), OuterRef("organization__path")))
        .order_by()
        # COUNT without GROUP BY: one row holding the number of matching branches.
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return Subquery(branches, output_field=IntegerField())


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """我的工作: the user's roles, each with the organization it is held on and its reach."""
    from reviews.dashboards import home_sections  # the home page spans the apps

    assignments = roles_of(request.user).annotate(branch_count=_branch_count_in_subtree())
    return render(
        request,
        "branches/home.html",
        {"assignments": assignments, "sections": home_sections(request.user)},
    )
