"""The audit trail of administration: read-only, filtered, paginated, exported.

Rows are kept at least 180 days (等保 2.0 asks six months): nothing in the product deletes
them, and ``AuditEntry`` refuses an update or a delete.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from branches.audit import AuditAction
from branches.kept import kept_page
from branches.models import BranchStage, OrgKind
from branches.roles import Role
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.views.common import page_of, query_without_page

from ..forms.audit import AUDIT_TARGET_TYPES, AuditFilterForm
from ..selectors import audit_listed, may_read_audit

EXPORT_ROWS_CHUNK = 1000
TARGET_TYPE_LABELS = dict(AUDIT_TARGET_TYPES)
ACTION_LABELS = dict(AuditAction.choices)


def _require_audit_reader(user) -> None:
    if not may_read_audit(user):
        raise PermissionDenied(_("The audit trail is for the staff of a working committee."))


def _entries(request):
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    entries = audit_listed(
        request.user,
        target_type=data.get("target_type", ""),
        action=data.get("action", ""),
        actor=data.get("actor", ""),
        since=data.get("since"),
        until=data.get("until"),
    )
    return form, entries


def field_labels() -> dict[str, str]:
    return {
        "name": _("Name"),
        "code": _("Code"),
        "kind": _("Kind"),
        "parent": _("Parent organization"),
        "stage": _("Stage"),
        "sort_order": _("Order"),
        "is_active": _("Active"),
        "username": _("User name"),
        "real_name": _("Real name"),
        "phone": _("Phone"),
        "email": _("E-mail"),
        "role": _("Role"),
        "organization": _("Organization"),
        "must_change_password": _("Must change password"),
        "status": _("Status"),
    }


# Stored values shown by their label (a kind, a stage, a role).
VALUE_CHOICES = {"kind": OrgKind, "stage": BranchStage, "role": Role}


def change_rows(entry) -> list[tuple[str, str, str]]:
    """``(field, from, to)`` of one row, as text ("—" for nothing)."""
    labels = field_labels()

    def text(value, name=""):
        if value is None or value == "":
            return "—"
        choices = VALUE_CHOICES.get(name)
        if choices is not None and value in choices.values:
            return str(choices(value).label)
        if value is True:
            return _("Yes")
        if value is False:
            return _("No")
        return str(value)

    changes = entry.changes if isinstance(entry.changes, dict) else {}
    rows = []
    for name, pair in changes.items():
        old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        rows.append((labels.get(name, name), text(old, name), text(new, name)))
    return rows


@login_required
@kept_page
@require_GET
def audit(request):
    _require_audit_reader(request.user)
    form, entries = _entries(request)
    page = page_of(request, entries, 50)
    rows = [
        (
            entry,
            ACTION_LABELS.get(entry.action, entry.action),
            TARGET_TYPE_LABELS.get(entry.target_type, entry.target_type),
            change_rows(entry),
        )
        for entry in page
    ]
    return render(
        request,
        "directory/audit.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query_without_page(request),
        },
    )


@login_required
@require_GET
def audit_export(request):
    _require_audit_reader(request.user)
    _form, entries = _entries(request)
    header = [
        _("At"),
        _("By"),
        _("Working committee"),
        _("Action"),
        _("Object type"),
        _("Object"),
        _("Changes"),
        _("Note"),
    ]

    def rows():
        for entry in entries.iterator(chunk_size=EXPORT_ROWS_CHUNK):
            changes = "; ".join(f"{name}: {old} → {new}" for name, old, new in change_rows(entry))
            yield [
                entry.at,
                entry.actor.display_name if entry.actor_id else _("System"),
                entry.committee.name if entry.committee_id else "",
                str(ACTION_LABELS.get(entry.action, entry.action)),
                str(TARGET_TYPE_LABELS.get(entry.target_type, entry.target_type)),
                entry.target_label,
                changes,
                entry.note,
            ]

    title = _("Audit trail")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows())])


urlpatterns = [
    path("audit/", audit, name="audit"),
    path("audit/export/", audit_export, name="audit_export"),
]
