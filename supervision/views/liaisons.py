"""Liaison branches (联系点): the list, giving a member several branches at once, taking one away."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from branches.models import Organization, OrgKind, User
from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import require_role
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.views.common import add_service_errors, done, page_of, query_without_page

from ..forms.liaisons import LiaisonAssignForm, LiaisonFilterForm, LiaisonRemoveForm
from ..selectors import get_liaison_for_user_or_404, liaison_list_for, managed_committees
from ..services.common import committee_members
from ..services.liaisons import assign_liaisons, remove_liaison


def _liaisons_of_page(request):
    liaisons = liaison_list_for(request.user)
    member = (request.GET.get("member") or "").strip()
    chosen = None
    if member.isdigit() and len(member) < 12:
        chosen = User.objects.filter(pk=member).first()
        liaisons = liaisons.filter(member_id=member)
    return liaisons, chosen


@login_required
@require_GET
def liaison_list(request: HttpRequest) -> HttpResponse:
    """The liaison branches of the committees the user manages, and the user's own."""
    liaisons, member = _liaisons_of_page(request)
    context = {
        "page": page_of(request, liaisons),
        "query": query_without_page(request),
        "member": member,
        "can_manage": request.user.is_superuser or managed_committees(request.user).exists(),
    }
    return render(request, "supervision/liaison_list.html", context)


@login_required
@require_GET
def liaison_list_export(request: HttpRequest):
    liaisons, _member = _liaisons_of_page(request)
    header = [
        _("Working committee"),
        _("Committee member"),
        _("Branch"),
        _("Parent organization"),
        _("Assigned at"),
    ]
    rows = (
        [
            row.committee.name,
            row.member.display_name,
            row.branch.name,
            row.branch.parent.name if row.branch.parent_id else "",
            row.assigned_at,
        ]
        for row in liaisons.iterator(chunk_size=2000)
    )
    return xlsx_response(dated_filename(_("Liaison branches")), [Sheet(_("Liaison branches"), header, rows)])


def _chosen(request, name: str, queryset):
    value = (request.POST.get(name) or request.GET.get(name) or "").strip()
    if value.isdigit() and len(value) < 12:
        return queryset.filter(pk=value).first()
    return None


@login_required
@require_http_methods(["GET", "POST"])
def liaison_assign(request: HttpRequest) -> HttpResponse:
    """Pick a member, then tick several branches (``?parent=`` narrows the list of branches)."""
    committees = managed_committees(request.user).order_by("sort_order", "code")
    if not committees.exists():
        raise PermissionDenied(_("Only the committee's approver or staff give liaison branches."))
    committee = _chosen(request, "committee", committees) or committees.first()
    parents = Organization.objects.filter(
        path__startswith=committee.path, kind__in=[OrgKind.PARTY_COMMITTEE, OrgKind.GENERAL_BRANCH]
    ).order_by("path")
    filter_form = LiaisonFilterForm(request.GET or None, parents=parents)
    parent = filter_form.cleaned_data.get("parent") if filter_form.is_valid() else None
    branches = (
        Organization.objects.filter(
            path__startswith=(parent or committee).path, kind=OrgKind.BRANCH, is_active=True
        )
        .select_related("parent")
        .order_by("order_key")  # under the parent, both by ORG_ORDER (branch_order)
    )
    members = committee_members(committee)
    initial = {"committee": committee.pk}
    member = _chosen(request, "member", members)
    if member is not None:
        initial["member"] = member.pk
    form = LiaisonAssignForm(
        request.POST or None, committees=committees, members=members, branches=branches, initial=initial
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                new = assign_liaisons(
                    committee=data["committee"],
                    member=data["member"],
                    branches=list(data["branches"]),
                    actor=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                message = _("%(count)d liaison branches given to %(member)s.") % {
                    "count": len(new),
                    "member": data["member"].display_name,
                }
                return done(
                    request, message, f"{reverse('supervision:liaison_list')}?member={data['member'].pk}"
                )
        status = 400
    taken = set()
    if member is not None:
        taken = set(member.liaison_assignments.values_list("branch_id", flat=True))
    context = {
        "form": form,
        "filter_form": filter_form,
        "committee": committee,
        "member": member,
        "taken": taken,
    }
    return render(request, "supervision/liaison_assign.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def liaison_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then take the liaison branch from its member."""
    assignment = get_liaison_for_user_or_404(request.user, pk)
    require_role(request.user, COMMITTEE_MANAGERS, assignment.committee)
    form = LiaisonRemoveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        remove_liaison(assignment=assignment, actor=request.user)
        message = _("%(branch)s is no longer a liaison branch of %(member)s.") % {
            "branch": assignment.branch.name,
            "member": assignment.member.display_name,
        }
        return done(request, message, f"{reverse('supervision:liaison_list')}?member={assignment.member_id}")
    return render(request, "supervision/liaison_remove.html", {"assignment": assignment, "form": form})


urlpatterns = [
    path("liaisons/", liaison_list, name="liaison_list"),
    path("liaisons/export/", liaison_list_export, name="liaison_list_export"),
    path("liaisons/assign/", liaison_assign, name="liaison_assign"),
    path("liaisons/<int:pk>/remove/", liaison_remove, name="liaison_remove"),
]
