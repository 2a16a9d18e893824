"""Supervision visits (督导): the list with its filters and export, recording one, its page, its photos,
and a finding followed up as a rectification task."""

from csp.decorators import csp
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from branches.models import User
from branches.selectors import get_organization_for_user_or_404
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.views.common import add_service_errors, done, page_of, query_without_page

from ..forms.visits import OpenTaskForm, VisitFilterForm, VisitForm
from ..models import VisitAction
from ..selectors import (
    branches_to_visit_for,
    get_visit_for_user_or_404,
    get_visit_photo_for_user_or_404,
    is_member_anywhere,
    member_committees,
    visit_list_for,
)
from ..services.common import committee_members, committee_of_branch
from ..services.visits import may_open_task, open_task_from_finding, record_visit
from .common import stream_file


def _members_of(user) -> "User.objects":
    """The people who can be named as having gone: members of the user's committees (any, for the filter)."""
    committees = member_committees(user)
    if not committees:
        return User.objects.none()
    members = committee_members(committees[0])
    for committee in committees[1:]:
        members = members | committee_members(committee)
    return members.distinct()


def _visits_of_page(request):
    """The visits of the list (its filters too), the filter form and the branch named by ``?branch=``."""
    branch = None
    if request.GET.get("branch"):
        branch = get_organization_for_user_or_404(request.user, request.GET["branch"])
    members = _members_of(request.user)
    filters = VisitFilterForm(request.GET or None, members=members)
    data = filters.cleaned_data if filters.is_valid() else {}
    visits = visit_list_for(
        request.user,
        year=data.get("year"),
        quarter=data.get("quarter"),
        member=data.get("member"),
        branch=branch,
    )
    return visits, filters, branch


@login_required
@require_GET
def visit_list(request: HttpRequest) -> HttpResponse:
    visits, filters, branch = _visits_of_page(request)
    context = {
        "page": page_of(request, visits),
        "query": query_without_page(request),
        "filters": filters,
        "branch": branch,
        "can_record": is_member_anywhere(request.user),
    }
    return render(request, "supervision/visit_list.html", context)


@login_required
@require_GET
def visit_list_export(request: HttpRequest):
    """The visits of the list page (its filters too) in Excel."""
    visits, _filters, branch = _visits_of_page(request)
    header = [
        _("Date of the visit"),
        _("Quarter"),
        _("Branch"),
        _("Parent organization"),
        _("Committee members who went"),
        _("Others who went"),
        _("What was checked"),
        _("Findings"),
        _("Photos"),
        _("Recorded by"),
    ]
    rows = (
        [
            visit.visited_on,
            f"{visit.year}Q{visit.quarter}",
            visit.branch.name,
            visit.branch.parent.name if visit.branch.parent_id else "",
            "、".join(member.display_name for member in visit.members.all()),
            visit.others,
            visit.checked,
            visit.findings,
            visit.photo_count,
            str(visit.recorded_by),
        ]
        # prefetch_related needs chunks: 2,000 visits and their members per round trip.
        for visit in visits.iterator(chunk_size=2000)
    )
    title = _("Supervision visits")
    label = f"{branch.name}-{title}" if branch else title
    return xlsx_response(dated_filename(label), [Sheet(title, header, rows)])


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest) -> HttpResponse:
    """Record a visit; ``?branch=`` (from the home page or the branch page) preselects the branch."""
    if not is_member_anywhere(request.user):
        raise PermissionDenied(
            _("Only the committee's approvers, staff and assessment-team reviewers record visits.")
        )
    branches = (
        branches_to_visit_for(request.user)
        .select_related("parent")
        .order_by("order_key")  # under the parent, both by ORG_ORDER (branch_order)
    )
    chosen = (request.POST.get("branch") or request.GET.get("branch") or "").strip()
    initial = {"members": [request.user.pk]}
    members = _members_of(request.user)
    if chosen.isdigit() and len(chosen) < 12:
        branch = branches.filter(pk=chosen).first()
        if branch is not None:
            initial["branch"] = branch.pk
            members = committee_members(committee_of_branch(branch))
    form = VisitForm(
        request.POST or None, request.FILES or None, branches=branches, members=members, initial=initial
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                visit = record_visit(
                    branch=data["branch"],
                    actor=request.user,
                    visited_on=data["visited_on"],
                    members=list(data["members"]),
                    others=data["others"],
                    checked=data["checked"],
                    findings=data["findings"],
                    photos=data["photos"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(request, _("The visit is recorded."), "supervision:visit_detail", visit.pk)
        status = 400
    return render(request, "supervision/visit_form.html", {"form": form}, status=status)


def _tasks_of(visit):
    """The rectification tasks opened from the visit's findings."""
    from django.contrib.contenttypes.models import ContentType

    from rectification.models import RectificationTask

    tasks = list(
        RectificationTask.objects.filter(
            source_type=ContentType.objects.get_for_model(visit), source_id=visit.pk
        ).select_related("owner")
    )
    for task in tasks:
        try:
            task.url = reverse("rectification:task_detail", args=[task.pk])
        except NoReverseMatch:  # the task pages of rectification are still to come
            task.url = ""
    return tasks


@login_required
@require_GET
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_visit_for_user_or_404(request.user, pk)
    context = {
        "visit": visit,
        "members": visit.members.all(),
        "photos": visit.photos.all(),
        "events": visit.events.select_related("actor"),
        "tasks": _tasks_of(visit),
        "may_open_task": bool(visit.findings) and may_open_task(request.user, visit),
        "task_opened": VisitAction.TASK_OPENED,
    }
    return render(request, "supervision/visit_detail.html", context)


# Opened on its own, a photo is shown in the browser's own image page, which styles itself inline:
# a policy of its own that lets it, and allows nothing else (no script, no other source).
PHOTO_POLICY = {
    "default-src": ["'none'"],
    "img-src": ["'self'"],
    "style-src": ["'unsafe-inline'"],
    "frame-ancestors": ["'none'"],
}


@login_required
@require_GET
@csp(PHOTO_POLICY)
def visit_photo(request: HttpRequest, pk: int):
    """A photo of a visit, for anyone who may read the visit; shown in the page (checked JPEG or PNG)."""
    return stream_file(get_visit_photo_for_user_or_404(request.user, pk), inline=True)


@login_required
@require_http_methods(["GET", "POST"])
def visit_open_task(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a rectification task from the visit's findings, in one step."""
    from rectification.services.tasks import default_owner, owner_choices

    visit = get_visit_for_user_or_404(request.user, pk)
    if not may_open_task(request.user, visit):
        raise PermissionDenied(
            _("Only who went or recorded the visit, or the committee, may open a task from it.")
        )
    owner = default_owner(visit.branch)
    initial = {
        "title": _("Rectify the findings of the supervision visit of %(date)s") % {"date": visit.visited_on},
        "requirement": visit.findings,
        "owner": owner.pk if owner else None,
    }
    form = OpenTaskForm(request.POST or None, owners=owner_choices(visit.branch), initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                open_task_from_finding(visit=visit, actor=request.user, **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(
                    request, _("The rectification task is opened."), "supervision:visit_detail", visit.pk
                )
        status = 400
    return render(request, "supervision/visit_open_task.html", {"visit": visit, "form": form}, status=status)


urlpatterns = [
    path("visits/", visit_list, name="visit_list"),
    path("visits/export/", visit_list_export, name="visit_list_export"),
    path("visits/new/", visit_new, name="visit_new"),
    path("visits/<int:pk>/", visit_detail, name="visit_detail"),
    path("visits/<int:pk>/task/", visit_open_task, name="visit_open_task"),
    path("photos/<int:pk>/", visit_photo, name="visit_photo"),
]
