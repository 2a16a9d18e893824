"""A branch's check sheet: the parent reviewer scores it (with the quarter's monthly checks beside
each item), the secretary self-reports, the committee returns it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from branches.roles import COMMITTEE_MANAGERS, SECRETARIES
from branches.selectors import has_role_on, require_role
from reviews.views.common import add_service_errors, done, workflow_action

from ..forms.rounds import CheckSheetReturnForm
from ..forms.sheets import CheckScoresForm, CheckSelfReportForm, self_report_field, self_report_file_field
from ..models import CheckRoundStatus
from ..selectors import (
    check_items,
    check_scorer_roles,
    entries_by_item,
    get_check_sheet_for_user_or_404,
    quarter_entries,
    sheet_files,
    sheet_scores,
    sheet_self_reports,
)
from ..services.rounds import (
    add_self_report_file,
    return_sheet,
    save_self_report,
    save_sheet_scores,
    submit_sheet_scores,
)
from ..workflow import SCORABLE


def _holds_any(user, roles, org) -> bool:
    return any(has_role_on(user, role, org) for role in roles)


def _sheet_context(sheet, items) -> dict:
    entries = quarter_entries(sheet.branch_id, sheet.round.year, sheet.round.quarter)
    return {
        "sheet": sheet,
        "round": sheet.round,
        "entries": entries,
        "entries_by_item": entries_by_item(entries),
        "self_reports": sheet_self_reports(sheet),
        "files": sheet_files(sheet),
        "events": sheet.events.select_related("actor").order_by("-at", "-pk"),
    }


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def sheet_score(request: HttpRequest, pk: int) -> HttpResponse:
    """The parent reviewer's scores of one branch; save as often as needed, then submit."""
    sheet = get_check_sheet_for_user_or_404(request.user, pk)
    scorer = _holds_any(request.user, check_scorer_roles(sheet.branch), sheet.branch)
    # The committee's people review the scores read-only; only the scorer writes them.
    if request.method == "POST" or not _holds_any(request.user, COMMITTEE_MANAGERS, sheet.branch):
        require_role(request.user, check_scorer_roles(sheet.branch), sheet.branch)
    items = check_items(sheet.round.standard_id)
    editable = scorer and sheet.round.status == CheckRoundStatus.OPEN and sheet.status in SCORABLE
    form = CheckScoresForm(
        request.POST or None, items=items, scores=sheet_scores(sheet), initial={"comment": sheet.comment}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                save_sheet_scores(
                    sheet=sheet,
                    actor=request.user,
                    scores=form.scores(),
                    comment=form.cleaned_data["comment"],
                )
                if request.POST.get("action") == "submit":
                    submit_sheet_scores(sheet=sheet, actor=request.user)
                    return done(
                        request, _("The scores are submitted."), "checks:round_detail", sheet.round_id
                    )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(request, _("The scores are saved."), "checks:sheet_score", sheet.pk)
        status = 400
    context = {**_sheet_context(sheet, items), "form": form, "editable": editable}
    context["rows"] = [
        (
            item,
            score_field,
            comment_field,
            context["self_reports"].get(item.pk, ""),
            context["files"].get(item.pk, []),
            context["entries_by_item"].get(item.pk, []),
        )
        for item, score_field, comment_field in form.rows()
    ]
    return render(request, "checks/sheet_score.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def sheet_self_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The branch secretary's short self-report per item, with evidence files."""
    sheet = get_check_sheet_for_user_or_404(request.user, pk)
    secretary = _holds_any(request.user, SECRETARIES, sheet.branch)
    # The scorer and the committee's people read the self-report; only the branch writes it.
    readers = check_scorer_roles(sheet.branch) | COMMITTEE_MANAGERS
    if request.method == "POST" or not _holds_any(request.user, readers, sheet.branch):
        require_role(request.user, SECRETARIES, sheet.branch)
    items = check_items(sheet.round.standard_id)
    form = CheckSelfReportForm(request.POST or None, items=items, texts=sheet_self_reports(sheet))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                save_self_report(sheet=sheet, actor=request.user, texts=form.texts())
                for item in items:
                    for uploaded in request.FILES.getlist(self_report_file_field(item)):
                        add_self_report_file(
                            sheet=sheet, actor=request.user, item_id=item.pk, uploaded_file=uploaded
                        )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The self-report is saved."))
                return redirect("checks:sheet_self_report", sheet.pk)
        status = 400
    editable = (
        secretary
        and sheet.round.self_reports
        and sheet.round.status == CheckRoundStatus.OPEN
        and sheet.status in SCORABLE
    )
    context = {**_sheet_context(sheet, items), "form": form, "editable": editable}
    context["rows"] = [
        (item, form[self_report_field(item)], self_report_file_field(item), context["files"].get(item.pk, []))
        for item in items
    ]
    return render(request, "checks/sheet_self_report.html", context, status=status)


@login_required
@require_POST
@workflow_action
def sheet_return(request: HttpRequest, pk: int) -> HttpResponse:
    """The committee's approver or staff send submitted scores back, with the reason."""
    sheet = get_check_sheet_for_user_or_404(request.user, pk)
    require_role(request.user, COMMITTEE_MANAGERS, sheet.round.committee)
    form = CheckSheetReturnForm(request.POST)
    if form.is_valid():
        try:
            return_sheet(sheet=sheet, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return done(
                request,
                _("The scores went back to the parent reviewer."),
                "checks:round_detail",
                sheet.round_id,
            )
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("checks:round_detail", sheet.round_id)


urlpatterns = [
    path("sheets/<int:pk>/score/", sheet_score, name="sheet_score"),
    path("sheets/<int:pk>/self-report/", sheet_self_report, name="sheet_self_report"),
    path("sheets/<int:pk>/return/", sheet_return, name="sheet_return"),
]
