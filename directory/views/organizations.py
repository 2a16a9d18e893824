"""The staff's organization pages: the tree with counts, an organization's branches, create / edit / move,
deactivate / reactivate, and the Excel export of the branches."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from branches.kept import kept_page
from branches.models import ORG_ORDER, Organization, OrgKind
from branches.roles import Role
from branches.selectors import (
    get_organization_for_user_or_404,
    is_staff_anywhere,
    require_role,
    role_holders_of,
)
from branches.services.organizations import create_organization, update_organization
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.views.common import add_service_errors, done, page_of, query_without_page, workflow_action
from scoring.templatetags.stars import star_label

from ..forms.organizations import OrganizationForm, OrgSearchForm
from ..selectors import (
    branches_listed,
    organization_tree,
    search_organizations,
    staff_scope,
)
from ..services.organizations import assessments_in_flight, deactivate_organization, reactivate_organization

EXPORT_CHUNK = 500


def require_staff(user) -> None:
    """403 unless the user is party-affairs staff somewhere (or a superuser)."""
    if not is_staff_anywhere(user):
        raise PermissionDenied(_("Only party-affairs staff manage organizations and people."))


def staff_org_or_404(user, pk) -> Organization:
    """An organization in the user's scope (else 404) on which they are staff (else 403)."""
    org = get_organization_for_user_or_404(user, pk)
    require_role(user, [Role.STAFF], org)
    return org


@login_required
@kept_page
@require_GET
def org_tree(request):
    """The tree of the staff member's organizations with branch counts and stars, or a search."""
    require_staff(request.user)
    form = OrgSearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    context = {"form": form, "q": q, "query": query_without_page(request)}
    if q:
        found = search_organizations(staff_scope(request.user), q).select_related("parent")
        context["page"] = page_of(request, found.order_by("kind", *ORG_ORDER))
    else:
        context["nodes"] = organization_tree(request.user)
    context["can_create"] = True
    return render(request, "directory/org_tree.html", context)


@login_required
@require_GET
def org_detail(request, pk):
    """One organization: where it stands, its sub-organizations, and its branches (paginated)."""
    org = staff_org_or_404(request.user, pk)
    form = OrgSearchForm(request.GET or None)
    q, active = (form.cleaned_data["q"], form.cleaned_data["active"]) if form.is_valid() else ("", "")
    ancestors = list(Organization.objects.filter(pk__in=org.ancestor_ids[:-1]).order_by("depth"))
    context = {
        "org": org,
        "ancestors": ancestors,
        "form": form,
        "query": query_without_page(request),
        "in_flight": assessments_in_flight(org).exists(),
    }
    if org.kind == OrgKind.BRANCH:
        context["holders"] = role_holders_of(org)
    else:
        nodes = organization_tree(request.user, org)
        context["top"] = next((node for node in nodes if node.org.pk == org.pk), None)
        context["nodes"] = [node for node in nodes if node.org.pk != org.pk]
        context["page"] = page_of(request, branches_listed(request.user, under=org, q=q, active=active))
    return render(request, "directory/org_detail.html", context)


def _org_form_page(request, *, org=None, parent=None):
    initial = {"parent": parent.pk} if parent is not None else None
    if parent is not None:
        initial["kind"] = OrgKind.BRANCH
    form = OrganizationForm(request.POST or None, user=request.user, instance=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data.get("kind") != OrgKind.COMMITTEE and data.get("parent") is None:
            form.add_error("parent", _("Choose the organization this one belongs to."))
        else:
            try:
                if org is None:
                    if data["kind"] == OrgKind.COMMITTEE and not request.user.is_superuser:
                        raise PermissionDenied
                    if data.get("parent") is not None:
                        require_role(request.user, [Role.STAFF], data["parent"])
                    created = create_organization(actor=request.user, **data)
                    message = _("%(org)s is created.") % {"org": created.name}
                    return done(request, message, "directory:org_detail", created.pk)
                if org.is_committee:
                    data.pop("parent", None)
                    data.pop("kind", None)
                elif data.get("parent") is not None and data["parent"].pk != org.parent_id:
                    # Moving: the user must be staff where it lands, not only where it was.
                    require_role(request.user, [Role.STAFF], data["parent"])
                updated = update_organization(org=org, actor=request.user, **data)
                return done(
                    request, _("%(org)s is saved.") % {"org": updated.name}, "directory:org_detail", org.pk
                )
            except ValidationError as error:
                add_service_errors(form, error)
    return render(
        request,
        "directory/org_form.html",
        {"form": form, "org": org, "parent": parent},
        status=400 if form.errors else 200,
    )


@login_required
def org_create(request):
    require_staff(request.user)
    parent = None
    if request.GET.get("parent"):
        parent = staff_org_or_404(request.user, request.GET["parent"])
        if parent.kind == OrgKind.BRANCH:
            raise Http404
    return _org_form_page(request, parent=parent)


@login_required
def org_edit(request, pk):
    org = staff_org_or_404(request.user, pk)
    return _org_form_page(request, org=org)


@login_required
@require_POST
@workflow_action
def org_deactivate(request, pk):
    org = staff_org_or_404(request.user, pk)
    if org.is_committee and not request.user.is_superuser:
        raise PermissionDenied(_("Only a system administrator deactivates a working committee."))
    note = (request.POST.get("note") or "").strip()[:500]
    deactivate_organization(org=org, actor=request.user, note=note)
    return done(request, _("%(org)s is deactivated.") % {"org": org.name}, "directory:org_detail", org.pk)


@login_required
@require_POST
@workflow_action
def org_reactivate(request, pk):
    org = staff_org_or_404(request.user, pk)
    reactivate_organization(org=org, actor=request.user)
    return done(request, _("%(org)s is active again.") % {"org": org.name}, "directory:org_detail", org.pk)


@login_required
@require_GET
def org_export(request):
    """The branches of the page (the user's scope, or under ``?org=``, with its search) as Excel."""
    require_staff(request.user)
    under = staff_org_or_404(request.user, request.GET["org"]) if request.GET.get("org") else None
    form = OrgSearchForm(request.GET or None)
    q, active = (form.cleaned_data["q"], form.cleaned_data["active"]) if form.is_valid() else ("", "")
    branches = branches_listed(request.user, under=under, q=q, active=active)
    header = [_("Code"), _("Name"), _("Parent organization"), _("Stage"), _("Star in force"), _("Active")]

    def rows():
        for branch in branches.iterator(chunk_size=EXPORT_CHUNK):
            yield [
                branch.code,
                branch.name,
                branch.parent.name if branch.parent_id else "",
                branch.get_stage_display(),
                star_label(branch.star) if branch.star else _("Unrated"),
                _("Yes") if branch.is_active else _("No"),
            ]

    title = _("Branches")
    label = f"{under.name}-{title}" if under is not None else title
    return xlsx_response(dated_filename(label), [Sheet(title, header, rows())])


urlpatterns = [
    path("organizations/", org_tree, name="org_tree"),
    path("organizations/new/", org_create, name="org_create"),
    path("organizations/export/", org_export, name="org_export"),
    path("organizations/<int:pk>/", org_detail, name="org_detail"),
    path("organizations/<int:pk>/edit/", org_edit, name="org_edit"),
    path("organizations/<int:pk>/deactivate/", org_deactivate, name="org_deactivate"),
    path("organizations/<int:pk>/reactivate/", org_reactivate, name="org_reactivate"),
]
