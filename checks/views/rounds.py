"""The rounds: the list, opening one, a round's page (its sheets, then its ranked results), publishing, the export."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.kept import kept_page
from branches.models import ORG_ORDER
from branches.roles import COMMITTEE_MANAGERS, Role
from branches.selectors import has_role_on, require_role, role_set
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.views.common import add_service_errors, done, page_of, workflow_action

from ..forms.rounds import CheckRoundOpenForm, CheckSheetReturnForm
from ..models import CheckRoundStatus, CheckSheetStatus
from ..selectors import (
    check_round_list_for,
    committees_managed_by,
    get_check_round_for_user_or_404,
    round_results,
    round_sheets_for,
)
from ..services.rounds import open_check_round, publish_check_round


def _is_manager(user, check_round) -> bool:
    return any(has_role_on(user, role, check_round.committee) for role in COMMITTEE_MANAGERS)


@login_required
@kept_page
@require_GET
def round_list(request: HttpRequest) -> HttpResponse:
    """季度考核: the rounds of the user's committees, newest first."""
    page = page_of(request, check_round_list_for(request.user))
    can_open = request.user.is_superuser or committees_managed_by(request.user).exists()
    return render(request, "checks/round_list.html", {"page": page, "can_open": can_open})


@login_required
@require_http_methods(["GET", "POST"])
def round_open(request: HttpRequest) -> HttpResponse:
    """Staff or the approver open a committee's quarterly check by hand (the schedule does it too)."""
    committees = committees_managed_by(request.user).order_by(*ORG_ORDER)
    if not committees.exists():
        raise PermissionDenied(_("Only the committee's approver or staff can open a quarterly check."))
    form = CheckRoundOpenForm(request.POST or None, committees=committees)
    if request.method == "POST":
        # A committee the user does not manage is not among the choices: the form refuses it.
        if form.is_valid():
            data = form.cleaned_data
            try:
                check_round, _created = open_check_round(
                    committee=data["committee"],
                    year=data["year"],
                    quarter=data["quarter"],
                    actor=request.user,
                    self_reports=data["self_reports"],
                    self_report_deadline=data["self_report_deadline"],
                    scoring_deadline=data["scoring_deadline"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(request, _("The quarterly check is open."), "checks:round_detail", check_round.pk)
        return render(request, "checks/round_open.html", {"form": form}, status=400)
    return render(request, "checks/round_open.html", {"form": form})


def _round_context(request, check_round) -> dict:
    manager = request.user.is_superuser or _is_manager(request.user, check_round)
    context = {"round": check_round, "is_manager": manager, "return_form": CheckSheetReturnForm()}
    # The score sheets open for their scorers and the committee's managers, not for the team.
    context["can_open_scores"] = manager or Role.PARENT_REVIEWER in role_set(request.user)
    if check_round.is_published:
        context["page"] = page_of(request, round_results(check_round), per_page=100)
    else:
        sheets = round_sheets_for(request.user, check_round).select_related("scored_by")
        context["page"] = page_of(request, sheets, per_page=100)
        counts = dict.fromkeys(CheckSheetStatus.values, 0)
        for row in check_round.sheets.order_by().values("status").annotate(n=Count("pk")):
            counts[row["status"]] = row["n"]
        context["counts"] = counts
        context["can_publish"] = manager and check_round.status == CheckRoundStatus.OPEN
        context["all_submitted"] = counts[CheckSheetStatus.SUBMITTED] == sum(counts.values())
    context["is_approver"] = has_role_on(request.user, Role.COMMITTEE_APPROVER, check_round.committee)
    return context


@login_required
@require_GET
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One round: while open, its sheets and how far scoring is; once published, the ranked results."""
    check_round = get_check_round_for_user_or_404(request.user, pk)
    return render(request, "checks/round_detail.html", _round_context(request, check_round))


@login_required
@require_POST
@workflow_action
def round_publish(request: HttpRequest, pk: int) -> HttpResponse:
    check_round = get_check_round_for_user_or_404(request.user, pk)
    require_role(request.user, COMMITTEE_MANAGERS, check_round.committee)
    publish_check_round(check_round=check_round, actor=request.user)
    return done(request, _("The results are published."), "checks:round_detail", check_round.pk)


def _sign(change) -> str:
    if change is None:
        return ""
    return f"↑{change}" if change > 0 else (f"↓{-change}" if change < 0 else "—")


@login_required
@require_GET
def round_export(request: HttpRequest, pk: int):
    """The round's results in Excel, for the units' business performance assessment."""
    check_round = get_check_round_for_user_or_404(request.user, pk)
    header = [
        _("Rank"),
        pgettext("change of rank", "Change"),
        _("Branch"),
        _("Party committee"),
        _("Rank in the party committee"),
        _("Score"),
        _("Star level in force"),
        _("Last in the party committee"),
    ]
    if check_round.is_published:
        rows = (
            [
                sheet.rank_committee,
                _sign(sheet.rank_change),
                sheet.branch.name,
                sheet.group.name,
                sheet.rank_group,
                sheet.total,
                sheet.stars_in_force or "",
                _("yes") if sheet.is_last_in_group else "",
            ]
            for sheet in round_results(check_round).iterator(chunk_size=2000)
        )
    else:
        rows = (
            ["", "", sheet.branch.name, sheet.group.name, "", sheet.total, "", sheet.get_status_display()]
            for sheet in round_sheets_for(request.user, check_round).iterator(chunk_size=2000)
        )
    title = _("Quarterly check %(label)s") % {"label": check_round.label}
    return xlsx_response(
        dated_filename(f"{check_round.committee.name}-{title}"), [Sheet(title, header, rows)]
    )


@login_required
@require_GET
def round_list_export(request: HttpRequest):
    """The rounds of the list page in Excel: the same rounds, every page of them."""
    header = [
        _("Quarterly check"),
        _("Committee"),
        _("Status"),
        _("Branches scored"),
        _("Branches"),
        _("Scoring deadline"),
        _("Published at"),
    ]
    rows = (
        [
            check_round.label,
            check_round.committee.name,
            check_round.get_status_display(),
            check_round.submitted_count,
            check_round.sheet_count,
            check_round.scoring_deadline,
            check_round.published_at,
        ]
        for check_round in check_round_list_for(request.user).iterator(chunk_size=2000)
    )
    title = _("Quarterly checks")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


urlpatterns = [
    path("", round_list, name="round_list"),
    path("export/", round_list_export, name="round_list_export"),
    path("open/", round_open, name="round_open"),
    path("<int:pk>/", round_detail, name="round_detail"),
    path("<int:pk>/publish/", round_publish, name="round_publish"),
    path("<int:pk>/export/", round_export, name="round_export"),
]
