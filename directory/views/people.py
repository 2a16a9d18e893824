"""The staff's people pages: the list with search and filters, an account, its roles; the Excel export.

A one-time password (a new account, a reset) is shown once: the POST keeps it in the session
for the next page, which takes it out as it shows it.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from branches.errors import RoleGrantRefused
from branches.kept import kept_page
from branches.models import RoleAssignment
from branches.selectors import get_person_for_user_or_404
from branches.services import people as people_services
from branches.spreadsheets import Sheet, batched, dated_filename, xlsx_response
from reviews.views.common import add_service_errors, done, page_of, query_without_page

from ..forms.people import PersonFilterForm, PersonForm, RoleGrantForm
from ..selectors import organization_label, people_listed, roles_by_person
from .organizations import require_staff

SHOWN_ONCE_SESSION_KEY = "directory_shown_once"
EXPORT_BATCH = 500


def _keep_password_for_next_page(request, user, password: str) -> None:
    request.session[SHOWN_ONCE_SESSION_KEY] = {"user": user.pk, "password": password}


def _take_password(request, user) -> str | None:
    kept = request.session.get(SHOWN_ONCE_SESSION_KEY)
    if not kept or kept.get("user") != user.pk:
        return None
    del request.session[SHOWN_ONCE_SESSION_KEY]
    return kept.get("password")


def _require_may_manage(actor, person) -> None:
    if not people_services.may_manage_person(actor, person):
        raise PermissionDenied(_("You may not change this person's account."))


def _filtered(request):
    form = PersonFilterForm(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_valid() else {}
    people = people_listed(
        request.user,
        q=data.get("q", ""),
        role=data.get("role", ""),
        organization=data.get("organization"),
        active=data.get("active", ""),
    )
    return form, people


@login_required
@kept_page
@require_GET
def person_list(request):
    require_staff(request.user)
    form, people = _filtered(request)
    page = page_of(request, people)
    roles = roles_by_person(person.pk for person in page)
    rows = [(person, roles.get(person.pk, [])) for person in page]
    return render(
        request,
        "directory/person_list.html",
        {"form": form, "page": page, "rows": rows, "query": query_without_page(request)},
    )


@login_required
@require_GET
def person_export(request):
    """The people of the page (its search and filters), one row per role held, as Excel."""
    require_staff(request.user)
    _form, people = _filtered(request)
    header = [
        _("User name"),
        _("Real name"),
        _("Phone"),
        _("E-mail"),
        _("Account"),
        _("Role"),
        _("Organization"),
        _("Organization code"),
    ]

    def rows():
        for batch in batched(people.iterator(chunk_size=EXPORT_BATCH), EXPORT_BATCH):
            roles = roles_by_person(person.pk for person in batch)
            for person in batch:
                account = _("Active") if person.is_active else _("Deactivated")
                base = [person.username, person.real_name, person.phone, person.email, account]
                held = roles.get(person.pk, [])
                if not held:
                    yield [*base, "", "", ""]
                for assignment in held:
                    yield [
                        *base,
                        assignment.get_role_display(),
                        organization_label(assignment.organization),
                        assignment.organization.code,
                    ]

    title = _("People")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows())])


@login_required
def person_create(request):
    require_staff(request.user)
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person, one_time = people_services.create_person(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if one_time:
                _keep_password_for_next_page(request, person, one_time)
            return done(
                request,
                _("The account %(username)s is created.") % {"username": person.username},
                "directory:person_detail",
                person.pk,
            )
    return render(request, "directory/person_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def person_detail(request, pk):
    person = get_person_for_user_or_404(request.user, pk)
    assignments = list(
        RoleAssignment.objects.filter(user_id=person.pk)
        .select_related("organization__parent")
        .order_by("organization__depth", "organization__code", "role")
    )
    may_manage = people_services.may_manage_person(request.user, person)
    removable = {
        a.pk
        for a in assignments
        if request.user.pk != person.pk and people_services.may_grant(request.user, a.role, a.organization)
    }
    return render(
        request,
        "directory/person_detail.html",
        {
            "person": person,
            "assignments": assignments,
            "removable": removable,
            "may_manage": may_manage,
            "may_grant": request.user.pk != person.pk,
            "one_time_password": _take_password(request, person),
        },
    )


@login_required
def person_edit(request, pk):
    person = get_person_for_user_or_404(request.user, pk)
    _require_may_manage(request.user, person)
    form = PersonForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in people_services.PERSON_EDITABLE_FIELDS}
        try:
            people_services.update_person(actor=request.user, user=person, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return done(request, _("The account is saved."), "directory:person_detail", person.pk)
    return render(
        request,
        "directory/person_form.html",
        {"form": form, "person": person},
        status=400 if form.errors else 200,
    )


def _account_action(request, pk, action):
    person = get_person_for_user_or_404(request.user, pk)
    _require_may_manage(request.user, person)
    try:
        return action(person)
    except RoleGrantRefused as error:
        raise PermissionDenied(error.messages[0]) from None


@login_required
@require_POST
def person_deactivate(request, pk):
    def action(person):
        people_services.set_person_active(actor=request.user, user=person, active=False)
        return done(request, _("The account is deactivated."), "directory:person_detail", person.pk)

    return _account_action(request, pk, action)


@login_required
@require_POST
def person_reactivate(request, pk):
    def action(person):
        people_services.set_person_active(actor=request.user, user=person, active=True)
        return done(request, _("The account is active again."), "directory:person_detail", person.pk)

    return _account_action(request, pk, action)


@login_required
@require_POST
def person_reset_password(request, pk):
    def action(person):
        one_time = people_services.reset_password(actor=request.user, user=person)
        _keep_password_for_next_page(request, person, one_time)
        return redirect("directory:person_detail", person.pk)

    return _account_action(request, pk, action)


@login_required
def role_grant(request, pk):
    person = get_person_for_user_or_404(request.user, pk)
    if person.pk == request.user.pk:
        raise PermissionDenied(_("Nobody may grant or remove a role of their own."))
    require_staff(request.user)
    form = RoleGrantForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            people_services.grant_role(actor=request.user, user=person, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return done(request, _("The role is granted."), "directory:person_detail", person.pk)
    return render(
        request,
        "directory/role_grant.html",
        {"form": form, "person": person},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def role_revoke(request, pk):
    assignment = RoleAssignment.objects.filter(pk=pk).select_related("user", "organization").first()
    if assignment is None:
        raise Http404
    person = get_person_for_user_or_404(request.user, assignment.user_id)
    try:
        people_services.revoke_role(actor=request.user, assignment=assignment)
    except RoleGrantRefused as error:
        raise PermissionDenied(error.messages[0]) from None
    return done(request, _("The role is removed."), "directory:person_detail", person.pk)


urlpatterns = [
    path("people/", person_list, name="person_list"),
    path("people/new/", person_create, name="person_create"),
    path("people/export/", person_export, name="person_export"),
    path("people/<int:pk>/", person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", person_edit, name="person_edit"),
    path("people/<int:pk>/deactivate/", person_deactivate, name="person_deactivate"),
    path("people/<int:pk>/reactivate/", person_reactivate, name="person_reactivate"),
    path("people/<int:pk>/reset-password/", person_reset_password, name="person_reset_password"),
    path("people/<int:pk>/roles/grant/", role_grant, name="role_grant"),
    path("roles/<int:pk>/remove/", role_revoke, name="role_revoke"),
]
