"""Monthly checks (月检查): the list, the quick entry (a phone-sized form), one check, its files."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from branches.kept import kept_page
from branches.models import Organization
from branches.selectors import get_organization_for_user_or_404
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.views.common import add_service_errors, done, page_of, query_without_page
from scoring.models import Item
from scoring.services.defaults import ensure_default_check_standard

from ..forms.entries import CheckEntryForm
from ..selectors import (
    branches_to_check_for,
    check_entry_list_for,
    check_standard_for,
    get_check_entry_for_user_or_404,
    get_check_file_for_user_or_404,
)
from ..services.entries import record_check_entry


def _entry_branch(request):
    """The branch ``?branch=`` narrows the monthly checks to, or None; out of reach → 404."""
    if request.GET.get("branch"):
        return get_organization_for_user_or_404(request.user, request.GET["branch"])
    return None


@login_required
@kept_page
@require_GET
def entry_list(request: HttpRequest) -> HttpResponse:
    """The monthly checks the user may read, newest first; ``?branch=`` narrows to one branch."""
    branch = _entry_branch(request)
    entries = check_entry_list_for(request.user, branch).prefetch_related("files")
    can_record = request.user.is_superuser or branches_to_check_for(request.user).exists()
    context = {
        "page": page_of(request, entries),
        "query": query_without_page(request),
        "branch": branch,
        "can_record": can_record,
    }
    return render(request, "checks/entry_list.html", context)


@login_required
@require_GET
def entry_list_export(request: HttpRequest):
    """The monthly checks of the list page (its ``?branch=`` too) in Excel."""
    branch = _entry_branch(request)
    header = [
        _("Date of the check"),
        _("Branch"),
        _("Parent organization"),
        _("Findings"),
        _("Violation"),
        _("Recorded by"),
    ]
    rows = (
        [
            entry.checked_on,
            entry.branch.name,
            entry.branch.parent.name if entry.branch.parent_id else "",
            entry.findings,
            (entry.violation_note or _("yes")) if entry.violation else "",
            str(entry.recorded_by),
        ]
        for entry in check_entry_list_for(request.user, branch).iterator(chunk_size=2000)
    )
    title = _("Monthly checks")
    label = f"{branch.name}-{title}" if branch else title
    return xlsx_response(dated_filename(label), [Sheet(title, header, rows)])


def _items_for(branches):
    """The items of the committees' routine-check standards the branches are checked against."""
    first = branches.first()
    if first is None:
        return Item.objects.none()
    committee = Organization.objects.get(pk=first.ancestor_ids[0])
    standard = check_standard_for(committee)
    if standard is None:  # before the committee's first quarterly check
        ensure_default_check_standard()
        standard = check_standard_for(committee)
    return (
        Item.objects.filter(dimension__standard=standard)
        .select_related("dimension__standard")
        .order_by("dimension__order", "order", "code")
    )


@login_required
@require_http_methods(["GET", "POST"])
def entry_new(request: HttpRequest) -> HttpResponse:
    """Record a monthly check; ``?branch=`` comes from the branch page and preselects it."""
    branches = branches_to_check_for(request.user)
    if not branches.exists():
        raise PermissionDenied(_("Only a parent organization's reviewer records monthly checks."))
    # A branch out of reach is simply not among the choices: the form refuses it.
    chosen = (request.POST.get("branch") or request.GET.get("branch") or "").strip()
    initial, item_branches = {}, branches
    if chosen.isdigit() and len(chosen) < 12 and branches.filter(pk=chosen).exists():
        initial["branch"] = int(chosen)
        item_branches = branches.filter(pk=chosen)
    form = CheckEntryForm(
        request.POST or None,
        request.FILES or None,
        branches=branches,
        items=_items_for(item_branches),
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = record_check_entry(
                    branch=data["branch"],
                    actor=request.user,
                    checked_on=data["checked_on"],
                    items=list(data["items"]),
                    findings=data["findings"],
                    violation=data["violation"],
                    violation_note=data["violation_note"],
                    files=data["files"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(request, _("The monthly check is recorded."), "checks:entry_detail", entry.pk)
        status = 400
    return render(request, "checks/entry_form.html", {"form": form}, status=status)


@login_required
@require_GET
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_check_entry_for_user_or_404(request.user, pk)
    items = entry.items.select_related("dimension").order_by("dimension__order", "order")
    return render(
        request, "checks/entry_detail.html", {"entry": entry, "items": items, "files": entry.files.all()}
    )


@login_required
@require_GET
def check_file(request: HttpRequest, pk: int) -> FileResponse:
    """A file of a monthly check or a self-report, for anyone who may read its branch; as a download."""
    row = get_check_file_for_user_or_404(request.user, pk)
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
    path("monthly/", entry_list, name="entry_list"),
    path("monthly/export/", entry_list_export, name="entry_list_export"),
    path("monthly/new/", entry_new, name="entry_new"),
    path("monthly/<int:pk>/", entry_detail, name="entry_detail"),
    path("files/<int:pk>/", check_file, name="check_file"),
]
