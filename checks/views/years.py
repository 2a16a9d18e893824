"""Year results (年考评): the averages, the 五好党支部 list, the 班子调整 flags and their actions."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from branches.kept import kept_page
from branches.models import ORG_ORDER
from branches.roles import PARENT_REVIEWERS
from branches.selectors import require_role
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.views.common import add_service_errors, done, page_of, query_without_page

from ..forms.years import FlagActionForm
from ..selectors import (
    committees_managed_by,
    get_leadership_flag_for_user_or_404,
    leadership_flags_visible_to,
    unpublished_check_quarters,
    year_result_list_for,
)
from ..services.years import record_flag_action

MANAGED_SHOWN = 20


def _year(request) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


@login_required
@kept_page
@require_GET
def year_results(request: HttpRequest) -> HttpResponse:
    """A year's averages of the quarterly checks, the named branches and the flags (``?year=``)."""
    year = _year(request)
    results = year_result_list_for(request.user, year)
    flags = (
        leadership_flags_visible_to(request.user)
        .filter(year=year)
        .select_related("branch", "branch__parent", "action_by")
        .order_by("branch__parent__sort_order", "branch__sort_order", "branch__code")
    )
    context = {
        "year": year,
        "years": [year - 1, year, year + 1],
        "page": page_of(request, results),
        "query": query_without_page(request),
        "flags": flags[:100],
        # Staff and approvers generate and read the year bulletin (年度通报): per committee they
        # manage (one, as a rule), which quarters of the year still lack a published check.
        "bulletin_committees": [
            (committee, unpublished_check_quarters(committee.pk, year))
            for committee in committees_managed_by(request.user).order_by(*ORG_ORDER)[:MANAGED_SHOWN]
        ],
    }
    return render(request, "checks/year_results.html", context)


@login_required
@require_GET
def year_results_export(request: HttpRequest):
    year = _year(request)
    header = [
        _("Branch"),
        _("Party committee"),
        _("Quarterly checks scored"),
        _("Average score"),
        _("Threshold"),
        _("Five-good branch"),
        _("Times last in the party committee"),
    ]
    rows = (
        [
            row.branch.name,
            row.branch.parent.name,
            row.rounds,
            row.average_shown,
            row.threshold,
            _("yes") if row.five_good else "",
            row.last_places,
        ]
        for row in year_result_list_for(request.user, year).iterator(chunk_size=2000)
    )
    title = _("Year results %(year)s") % {"year": year}
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


@login_required
@require_GET
def five_good_list(request: HttpRequest) -> HttpResponse:
    """五好党支部: the branches named in each year, newest year first."""
    results = year_result_list_for(request.user, five_good_only=True)
    return render(request, "checks/five_good_list.html", {"page": page_of(request, results)})


@login_required
@require_GET
def five_good_list_export(request: HttpRequest):
    """五好党支部 in Excel: the list page's rows, every page of them."""
    header = [_("Year"), _("Branch"), _("Party committee"), _("Average score")]
    rows = (
        [row.year, row.branch.name, row.branch.parent.name, row.average_shown]
        for row in year_result_list_for(request.user, five_good_only=True).iterator(chunk_size=2000)
    )
    title = _("Five-good branches")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


@login_required
@require_http_methods(["GET", "POST"])
def flag_action(request: HttpRequest, pk: int) -> HttpResponse:
    """The parent organization records how the branch's leadership was adjusted."""
    flag = get_leadership_flag_for_user_or_404(request.user, pk)
    require_role(request.user, PARENT_REVIEWERS, flag.branch)
    form = FlagActionForm(
        request.POST or None, initial={"action_taken": flag.action_taken, "action_on": flag.action_on}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                record_flag_action(flag=flag, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(request, _("The action is recorded."), "checks:flag_action", flag.pk)
        status = 400
    sheets = flag.sheets.select_related("round").order_by("round__quarter")
    return render(
        request, "checks/flag_action.html", {"flag": flag, "form": form, "sheets": sheets}, status=status
    )


urlpatterns = [
    path("years/", year_results, name="year_results"),
    path("years/export/", year_results_export, name="year_results_export"),
    path("five-good/", five_good_list, name="five_good_list"),
    path("five-good/export/", five_good_list_export, name="five_good_list_export"),
    path("flags/<int:pk>/", flag_action, name="flag_action"),
]
