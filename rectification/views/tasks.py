"""Rectification tasks (整改任务): the list, one task with its timeline, and each step's form."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods

from branches.errors import WorkflowError
from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import has_role_on
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from checks.selectors import check_scorer_roles
from reviews.uploads import ACCEPT_ATTRIBUTE, allowed_types_text
from reviews.views.common import add_service_errors, done, page_of, query_without_page, workflow_action

from ..forms.tasks import (
    TaskAcceptForm,
    TaskConfirmForm,
    TaskDismissForm,
    TaskOpenForm,
    TaskReportForm,
    TaskSendBackForm,
)
from ..models import SourceKind, TaskStatus
from ..selectors import (
    TaskFilters,
    action_label,
    branches_to_open_for,
    filtered_tasks,
    get_file_for_user_or_404,
    get_task_for_user_or_404,
    may_open_tasks,
    may_oversee,
    may_report,
    require_task_reader,
)
from ..services import tasks as services

STATE_TABS = ("active", TaskStatus.PROPOSED, TaskStatus.OPEN, TaskStatus.REPORTED, TaskStatus.ACCEPTED, "all")


def _tab_label(key: str) -> str:
    if key == "active":
        return pgettext("rectification tasks", "Active")
    if key == "all":
        return pgettext("rectification tasks", "All")
    return TaskStatus(key).label


def _filters(request: HttpRequest) -> TaskFilters:
    state = request.GET.get("state", "active")
    if state not in STATE_TABS and state != TaskStatus.DISMISSED:
        state = "active"
    source = request.GET.get("source", "")
    branch = request.GET.get("branch", "")
    return TaskFilters(
        state=state,
        overdue=request.GET.get("overdue") == "1",
        source=source if source in SourceKind.values else "",
        branch=int(branch) if branch.isdigit() and len(branch) < 12 else None,
    )


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    """The tasks the user reaches: the secretary's branch, the parent reviewer's, the committee's."""
    require_task_reader(request.user)
    filters = _filters(request)
    tasks = filtered_tasks(request.user, filters)
    context = {
        "page": page_of(request, tasks),
        "query": query_without_page(request),
        "filters": filters,
        "tabs": [(key, _tab_label(key)) for key in STATE_TABS],
        "sources": SourceKind.choices,
        "today": timezone.localdate(),
        "can_open": may_open_tasks(request.user),
    }
    return render(request, "rectification/task_list.html", context)


@login_required
@require_GET
def task_list_export(request: HttpRequest):
    """The list's tasks (its filters, every page) in Excel."""
    require_task_reader(request.user)
    today = timezone.localdate()
    header = [
        _("Branch"),
        _("Parent organization"),
        _("Title"),
        _("Source"),
        _("Requirement"),
        _("Person responsible"),
        _("Deadline"),
        _("Status"),
        _("Overdue"),
        _("Created at"),
        _("Closed at"),
    ]
    rows = (
        [
            task.branch.name,
            task.branch.parent.name if task.branch.parent_id else "",
            task.title,
            task.get_source_kind_display(),
            task.requirement,
            str(task.owner) if task.owner_id else "",
            task.deadline,
            task.get_status_display(),
            _("yes") if task.is_overdue(today) else "",
            task.created_at,
            task.closed_at,
        ]
        for task in filtered_tasks(request.user, _filters(request)).iterator(chunk_size=2000)
    )
    title = _("Rectification tasks")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


def _check_sheet_view(user, task) -> str:
    """The page of a quarterly-check sheet this user may open: the scores for its scorers and
    the committee's people, the self-report (with the published scores) for the branch."""
    readers = check_scorer_roles(task.branch) | COMMITTEE_MANAGERS
    if any(has_role_on(user, role, task.branch) for role in readers):
        return "checks:sheet_score"
    return "checks:sheet_self_report"


def _source_link(task, user) -> tuple[str, str]:
    """(label, url) of the task's source, where the source has a page the user may open."""
    from django.urls import NoReverseMatch, reverse

    source = task.source if task.source_type_id else None
    if source is None:
        return "", ""
    url = ""
    if hasattr(source, "get_absolute_url"):
        url = source.get_absolute_url()
    else:
        try:
            name = source._meta.model_name
            if name == "starevent":
                url = reverse("reviews:branch_detail", args=[task.branch_id])
            elif name == "assessment":
                url = reverse("reviews:assessment_detail", args=[source.pk])
            elif name == "objection":
                url = reverse("reviews:assessment_detail", args=[source.assessment_id])
            elif name == "appeal":
                url = reverse("reviews:appeal_detail", args=[source.pk])
            elif name == "checksheet":
                url = reverse(_check_sheet_view(user, task), args=[source.pk])
            elif name == "supervisionvisit":  # an app above this one: named by its URL only
                url = reverse("supervision:visit_detail", args=[source.pk])
        except NoReverseMatch:
            url = ""
    return str(source), url


@login_required
@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_task_for_user_or_404(request.user, pk)
    reports = task.reports.select_related("written_by").prefetch_related("files")
    events = list(task.events.select_related("actor").order_by("at", "pk"))
    for event in events:
        event.label = action_label(event.action)
    source_label, source_url = _source_link(task, request.user)
    oversees = may_oversee(request.user, task)
    context = {
        "task": task,
        "reports": reports,
        "events": events,
        "source_label": source_label,
        "source_url": source_url,
        "can_confirm": oversees and task.status == TaskStatus.PROPOSED,
        "can_decide": oversees and task.status == TaskStatus.REPORTED,
        "can_report": task.status == TaskStatus.OPEN and may_report(request.user, task),
        "overdue": task.is_overdue(),
    }
    return render(request, "rectification/task_detail.html", context)


def _step(request, pk, *, form_class, template, run, message, form_kwargs=None, check=None):
    """A step's page: GET shows the form, a valid POST runs the service and goes back to the task."""
    task = get_task_for_user_or_404(request.user, pk)
    if check is not None:
        check(task)
    kwargs = form_kwargs(task) if form_kwargs else {}
    form = form_class(request.POST or None, request.FILES or None, **kwargs)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run(task, form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(request, message, "rectification:task_detail", task.pk)
        status = 400
    context = {"task": task, "form": form, "accept": ACCEPT_ATTRIBUTE, "allowed_types": allowed_types_text()}
    return render(request, template, context, status=status)


def _overseer(request):
    def check(task):
        if not may_oversee(request.user, task):
            raise PermissionDenied(_("Only the branch's parent organization decides on its rectification."))

    return check


def _in(*statuses):
    def check(task):
        if task.status not in statuses:
            raise WorkflowError(
                _("This task is “%(status)s”; this step is not possible now.")
                % {"status": task.get_status_display()}
            )

    return check


def _both(*checks):
    def check(task):
        for one in checks:
            one(task)

    return check


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def task_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The parent reviewer confirms a proposed task: requirement, person responsible, deadline."""
    return _step(
        request,
        pk,
        form_class=TaskConfirmForm,
        template="rectification/task_confirm.html",
        form_kwargs=lambda task: {
            "owners": services.owner_choices(task.branch),
            "initial": {"requirement": task.requirement, "owner": services.default_owner(task.branch)},
        },
        check=_both(_overseer(request), _in(TaskStatus.PROPOSED)),
        run=lambda task, data: services.confirm_proposed(task=task, actor=request.user, **data),
        message=_("The task is confirmed; the branch has been given it."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def task_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        form_class=TaskDismissForm,
        template="rectification/task_dismiss.html",
        check=_both(_overseer(request), _in(TaskStatus.PROPOSED)),
        run=lambda task, data: services.dismiss(task=task, actor=request.user, reason=data["reason"]),
        message=_("The proposal is dismissed."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def task_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The person responsible or the branch secretary reports progress, with evidence."""

    def check(task):
        if not may_report(request.user, task):
            raise PermissionDenied(_("Only the person responsible or the branch secretary reports progress."))
        _in(TaskStatus.OPEN)(task)

    return _step(
        request,
        pk,
        form_class=TaskReportForm,
        template="rectification/task_report.html",
        check=check,
        run=lambda task, data: services.report_progress(
            task=task, actor=request.user, text=data["text"], files=data["files"]
        ),
        message=_("The progress is reported; the parent organization decides next."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def task_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        form_class=TaskSendBackForm,
        template="rectification/task_send_back.html",
        check=_both(_overseer(request), _in(TaskStatus.REPORTED)),
        run=lambda task, data: services.send_back(
            task=task, actor=request.user, reason=data["reason"], deadline=data["deadline"]
        ),
        message=_("The report is sent back; the branch goes on rectifying."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def task_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        form_class=TaskAcceptForm,
        template="rectification/task_accept.html",
        check=_both(_overseer(request), _in(TaskStatus.REPORTED)),
        run=lambda task, data: services.accept(task=task, actor=request.user, note=data["note"]),
        message=_("The rectification is accepted; the task is closed."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_new(request: HttpRequest) -> HttpResponse:
    """Open a task by hand (parent reviewer, approver, staff); ``?branch=`` preselects the branch."""
    if not may_open_tasks(request.user):
        raise PermissionDenied(_("Only a parent organization's reviewer, the approver or staff open tasks."))
    branches = branches_to_open_for(request.user)
    initial = {}
    chosen = request.GET.get("branch", "")
    if chosen.isdigit() and len(chosen) < 12 and branches.filter(pk=chosen).exists():
        initial["branch"] = int(chosen)
    form = TaskOpenForm(request.POST or None, branches=branches, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            branch = data["branch"]
            try:
                owner = services.default_owner(branch)
                if owner is None:
                    raise ValidationError(
                        {"branch": _("The branch has no secretary to be responsible; assign one first.")}
                    )
                task = services.open_task(
                    committee=services.committee_of(branch),
                    branch=branch,
                    title=data["title"],
                    requirement=data["requirement"],
                    owner=owner,
                    deadline=data["deadline"],
                    source_kind=SourceKind.MANUAL,
                    actor=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(
                    request, _("The rectification task is opened."), "rectification:task_detail", task.pk
                )
        status = 400
    return render(request, "rectification/task_new.html", {"form": form}, status=status)


@login_required
@require_GET
def task_file(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence file of a progress report, for whoever may read the task; as a download."""
    row = get_file_for_user_or_404(request.user, pk)
    try:
        handle = row.file.storage.open(row.file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=row.original_name, content_type=row.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("", task_list, name="task_list"),
    path("export/", task_list_export, name="task_list_export"),
    path("new/", task_new, name="task_new"),
    path("<int:pk>/", task_detail, name="task_detail"),
    path("<int:pk>/confirm/", task_confirm, name="task_confirm"),
    path("<int:pk>/dismiss/", task_dismiss, name="task_dismiss"),
    path("<int:pk>/report/", task_report, name="task_report"),
    path("<int:pk>/send-back/", task_send_back, name="task_send_back"),
    path("<int:pk>/accept/", task_accept, name="task_accept"),
    path("files/<int:pk>/", task_file, name="task_file"),
]

__all__ = ["urlpatterns"]
