"""Stage applications (基础 → 特色 → 示范): the lists, the branch's application, the committee's decision."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from branches.roles import APPROVERS, SECRETARIES
from branches.selectors import has_role_on, require_role
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.views.common import add_service_errors, done, page_of, query_without_page, workflow_action

from ..forms.stages import StageApplicationForm, StageDecisionForm, StageFilterForm, StageWithdrawForm
from ..models import ApplicationStatus
from ..selectors import (
    application_list_for,
    branches_to_apply_for,
    get_application_file_for_user_or_404,
    get_application_for_user_or_404,
)
from ..services.stages import decide_stage_application, submit_stage_application, withdraw_stage_application
from .common import stream_file


def _applications_of_page(request):
    filters = StageFilterForm(request.GET or None)
    status = filters.cleaned_data.get("status", "") if filters.is_valid() else ""
    return application_list_for(request.user, status=status), filters


@login_required
@require_GET
def stage_list(request: HttpRequest) -> HttpResponse:
    """The applications the user may read: pending first (the committee's work), then the newest."""
    applications, filters = _applications_of_page(request)
    context = {
        "page": page_of(request, applications),
        "query": query_without_page(request),
        "filters": filters,
        "can_apply": branches_to_apply_for(request.user).exists(),
    }
    return render(request, "supervision/stage_list.html", context)


@login_required
@require_GET
def stage_list_export(request: HttpRequest):
    applications, _filters = _applications_of_page(request)
    header = [
        _("Submitted at"),
        _("Branch"),
        _("Parent organization"),
        _("From"),
        _("To"),
        _("Name of the highlight or brand"),
        _("Description"),
        _("Status"),
        _("Decided by"),
        _("Decided at"),
        _("Reason"),
    ]
    rows = (
        [
            row.submitted_at,
            row.branch.name,
            row.branch.parent.name if row.branch.parent_id else "",
            row.get_from_stage_display(),
            row.get_to_stage_display(),
            row.name,
            row.description,
            row.get_status_display(),
            str(row.decided_by) if row.decided_by_id else "",
            row.decided_at,
            row.decision_reason,
        ]
        for row in applications.iterator(chunk_size=2000)
    )
    title = _("Stage applications")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


@login_required
@require_http_methods(["GET", "POST"])
def stage_apply(request: HttpRequest) -> HttpResponse:
    """The branch's secretary applies to move up one stage."""
    branches = branches_to_apply_for(request.user).order_by("sort_order", "code")
    if not branches.exists():
        raise PermissionDenied(_("Only the secretary of a branch below the model stage applies."))
    initial = {}
    chosen = (request.GET.get("branch") or "").strip()
    if chosen.isdigit() and len(chosen) < 12 and branches.filter(pk=chosen).exists():
        initial["branch"] = int(chosen)
    elif branches.count() == 1:
        initial["branch"] = branches.first().pk
    form = StageApplicationForm(
        request.POST or None, request.FILES or None, branches=branches, initial=initial
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                application = submit_stage_application(
                    branch=data["branch"],
                    actor=request.user,
                    name=data["name"],
                    description=data["description"],
                    files=data["files"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(
                    request,
                    _("The application is submitted to the committee."),
                    "supervision:stage_detail",
                    application.pk,
                )
        status = 400
    return render(request, "supervision/stage_form.html", {"form": form}, status=status)


@login_required
@require_GET
def stage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user_or_404(request.user, pk)
    submitted = application.status == ApplicationStatus.SUBMITTED
    context = {
        "application": application,
        "files": application.files.all(),
        "events": application.events.select_related("actor"),
        "may_decide": submitted and has_role_on(request.user, "committee_approver", application.committee),
        "may_withdraw": submitted and has_role_on(request.user, "branch_secretary", application.branch),
    }
    return render(request, "supervision/stage_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def stage_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The committee's approver approves (the branch moves up) or rejects, with a reason."""
    application = get_application_for_user_or_404(request.user, pk)
    require_role(request.user, APPROVERS, application.committee)
    form = StageDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                decide_stage_application(
                    application=application,
                    actor=request.user,
                    approve=data["decision"] == "approve",
                    reason=data["reason"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(
                    request, _("The decision is recorded."), "supervision:stage_detail", application.pk
                )
        status = 400
    return render(
        request, "supervision/stage_decide.html", {"application": application, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def stage_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then withdraw the branch's application."""
    application = get_application_for_user_or_404(request.user, pk)
    require_role(request.user, SECRETARIES, application.branch)
    form = StageWithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        withdraw_stage_application(application=application, actor=request.user)
        return done(request, _("The application is withdrawn."), "supervision:stage_detail", application.pk)
    return render(request, "supervision/stage_withdraw.html", {"application": application, "form": form})


@login_required
@require_GET
def stage_file(request: HttpRequest, pk: int):
    """An evidence file of an application, for anyone who may read it; as a download."""
    return stream_file(get_application_file_for_user_or_404(request.user, pk))


urlpatterns = [
    path("stages/", stage_list, name="stage_list"),
    path("stages/export/", stage_list_export, name="stage_list_export"),
    path("stages/apply/", stage_apply, name="stage_apply"),
    path("stages/<int:pk>/", stage_detail, name="stage_detail"),
    path("stages/<int:pk>/decide/", stage_decide, name="stage_decide"),
    path("stages/<int:pk>/withdraw/", stage_withdraw, name="stage_withdraw"),
    path("stage-files/<int:pk>/", stage_file, name="stage_file"),
]
