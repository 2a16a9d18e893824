"""The Excel import on the site: upload → preview of every row → confirm → result.

Only party-affairs staff of a working committee (and superusers) import, in the trees of
their committees. The uploaded file is kept in the default storage under a random token in a
folder of the uploader's own (``imports/<user id>/<token>.xlsx``), so nobody else can preview
or confirm it; confirming reads it again and plans it afresh against the database as it is
then. Confirming starts the import as a recorded background job (``directory.tasks``; in
process without a broker); the result page shows its progress, refreshing itself, then its
counts or the rows in error. New people's one-time passwords are kept by the job in a workbook
in the uploader's folder (never in the job's record): shown once on the result page, downloadable
once, then deleted, and removed after half an hour in any case.
"""

import io
import re
import secrets
import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from openpyxl import load_workbook

from branches.roles import Role
from branches.selectors import committees_for_role
from branches.spreadsheets import xlsx_response
from reports.jobs import enqueue
from reports.models import JobRun, JobStatus

from ..forms.imports import ImportConfirmForm, ImportUploadForm
from ..imports import (
    IMPORT_MAX_ROWS,
    ImportRefused,
    import_template_sheets,
    one_time_passwords_sheet,
    plan_import_file,
)
from ..imports.apply import OneTimePassword
from ..tasks import (
    IMPORT_UPLOADS_FOLDER,
    import_organizations_and_people,
    import_passwords_name,
    import_upload_name,
)

IMPORT_FOLDER = IMPORT_UPLOADS_FOLDER
IMPORT_REFRESH_SECONDS = 2  # the result page reloads itself this often while the import runs
IMPORT_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
IMPORT_ROWS_PER_PAGE = 100
# How long an uploaded file waits for its confirmation, and the passwords for their download.
IMPORT_FILE_KEEP_SECONDS = 24 * 3600
IMPORT_PASSWORDS_KEEP_SECONDS = 30 * 60
IMPORT_SESSION_KEY = "directory_imports"
IMPORT_SESSION_ENTRIES = 10  # the latest uploads of a session; older ones are forgotten


def require_importer(user) -> None:
    """403 unless the user is party-affairs staff of a working committee, or a superuser."""
    if user.is_superuser or committees_for_role(user, Role.STAFF).exists():
        return
    raise PermissionDenied(
        _("Only party-affairs staff of a working committee import organizations and people.")
    )


def _stored_name(user, token: str) -> str:
    if not IMPORT_TOKEN.match(token or ""):
        raise Http404
    return import_upload_name(user.pk, token)


def _stored_or_404(user, token: str) -> str:
    name = _stored_name(user, token)
    if not default_storage.exists(name):
        raise Http404
    return name


def _forget_old_uploads(user) -> None:
    """Remove this user's uploads that were never confirmed (older than a day)."""
    folder = f"{IMPORT_FOLDER}/{user.pk}"
    try:
        _folders, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    now = timezone.now().timestamp()
    for name in files:
        path = f"{folder}/{name}"
        keep = IMPORT_PASSWORDS_KEEP_SECONDS if name.endswith("-passwords.xlsx") else IMPORT_FILE_KEEP_SECONDS
        try:
            if default_storage.get_modified_time(path).timestamp() < now - keep:
                default_storage.delete(path)
        except (FileNotFoundError, NotImplementedError):
            continue


def _session_imports(request) -> dict:
    """The uploads and results of this session, with passwords past their time dropped."""
    entries = request.session.get(IMPORT_SESSION_KEY, {})
    now = time.time()
    for entry in entries.values():
        if entry.get("passwords") and now - entry.get("done_at", now) > IMPORT_PASSWORDS_KEEP_SECONDS:
            entry["passwords"] = []
            request.session.modified = True
    return entries


def _plan(request, name: str):
    with default_storage.open(name, "rb") as handle:
        return plan_import_file(handle, actor=request.user)


def _preview(request, token: str, plan, *, status: int = 200, refusal: ImportRefused | None = None):
    rows = plan.rows_errors_first()
    page = Paginator(rows, IMPORT_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    entry = _session_imports(request).get(token, {})
    return render(
        request,
        "directory/import_preview.html",
        {
            "token": token,
            "file_name": entry.get("file", ""),
            "plan": plan,
            "page": page,
            "query": "",
            "organization_counts": plan.organization_counts,
            "people_counts": plan.people_counts,
            "error_rows": sum(1 for row in rows if row.errors),
            "refusal": refusal,
            "form": ImportConfirmForm(),
        },
        status=status,
    )


@login_required
def import_upload(request):
    """The upload form with the template to download; a good file goes on to its preview."""
    require_importer(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            _forget_old_uploads(request.user)
            token = secrets.token_urlsafe(24)
            default_storage.save(_stored_name(request.user, token), form.cleaned_data["file"])
            entries = _session_imports(request)
            entries[token] = {"file": form.cleaned_data["file"].name[:200]}
            for old in list(entries)[:-IMPORT_SESSION_ENTRIES]:
                entries.pop(old)
            request.session[IMPORT_SESSION_KEY] = entries
            return redirect("directory:import_preview", token)
        return render(
            request, "directory/import_upload.html", {"form": form, "max_rows": IMPORT_MAX_ROWS}, status=400
        )
    return render(request, "directory/import_upload.html", {"form": form, "max_rows": IMPORT_MAX_ROWS})


@login_required
@require_GET
def import_template(request):
    """The empty template: the two sheets with their headers and an example row, and 说明."""
    require_importer(request.user)
    return xlsx_response(_("organizations-and-people-template"), import_template_sheets())


@login_required
@require_GET
def import_preview(request, token):
    require_importer(request.user)
    name = _stored_or_404(request.user, token)
    return _preview(request, token, _plan(request, name))


@login_required
@require_POST
def import_confirm(request, token):
    """Start the import of the kept file as a background job (planned afresh there), then its result.

    The job is recorded on the job list; without a broker it runs in-process here.
    """
    require_importer(request.user)
    _stored_or_404(request.user, token)
    if _import_run(request.user, token) is not None:  # confirmed twice (a double click)
        return redirect("directory:import_result", token)
    entries = _session_imports(request)
    file_name = entries.get(token, {}).get("file", "")
    entries[token] = {"file": file_name, "queued": True}
    request.session[IMPORT_SESSION_KEY] = entries
    committee = committees_for_role(request.user, Role.STAFF).order_by("pk").first()
    started = enqueue(
        import_organizations_and_people,
        request.user.pk,
        token,
        file_name,
        committee.pk if committee is not None else None,
    )
    if not started and _import_run(request.user, token) is None:
        messages.error(request, _("The import could not be started; try again in a moment."))
        return redirect("directory:import_preview", token)
    return redirect("directory:import_result", token)


def _import_run(user, token: str) -> JobRun | None:
    """The latest run of the import of this user's upload ``token`` (none: never confirmed)."""
    return (
        JobRun.objects.filter(
            task_name=import_organizations_and_people.name,
            arguments__token=token,
            arguments__user_id=user.pk,
        )
        .order_by("-started_at", "-pk")
        .first()
    )


def _passwords_kept(user, token: str) -> str | None:
    """The stored name of the import's one-time passwords, if still kept (half an hour at most)."""
    name = import_passwords_name(user.pk, token)
    try:
        if not default_storage.exists(name):
            return None
        age = timezone.now().timestamp() - default_storage.get_modified_time(name).timestamp()
    except (FileNotFoundError, NotImplementedError):
        return None
    if age > IMPORT_PASSWORDS_KEEP_SECONDS:
        default_storage.delete(name)
        return None
    return name


def _read_passwords(name: str) -> list[list[str]]:
    with default_storage.open(name, "rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    workbook.close()
    return [[str(value or "") for value in row[:3]] for row in rows if row and row[0]]


@login_required
@require_GET
def import_result(request, token):
    """The import's progress while it runs (the page refreshes itself), then what it did.

    The new people's one-time passwords are shown on the first view of the finished import
    only; another user, or a token never confirmed, → 404.
    """
    require_importer(request.user)
    if not IMPORT_TOKEN.match(token or ""):
        raise Http404
    run = _import_run(request.user, token)
    entry = _session_imports(request).get(token, {})
    if run is None and not entry.get("queued"):
        raise Http404
    outcome = run.outcome if run is not None else {}
    running = run is None or run.status == JobStatus.RUNNING
    passwords, downloadable = None, False
    if not running and outcome.get("state") == "done" and outcome.get("passwords"):
        kept = _passwords_kept(request.user, token)
        downloadable = kept is not None
        if kept is not None and not outcome.get("passwords_shown"):
            passwords = _read_passwords(kept)
            JobRun.objects.filter(pk=run.pk).update(outcome={**outcome, "passwords_shown": True})
    response = render(
        request,
        "directory/import_result.html",
        {
            "token": token,
            "file_name": outcome.get("file") or entry.get("file", ""),
            "run": run,
            "running": running,
            "failed": run is not None and run.status == JobStatus.FAILED,
            "outcome": outcome,
            "counts": outcome.get("counts", {}),
            "passwords": passwords,
            "downloadable": downloadable,
            "refresh_seconds": IMPORT_REFRESH_SECONDS,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def import_passwords(request, token):
    """The one-time passwords as a workbook, once; afterwards they are gone from the server."""
    require_importer(request.user)
    if not IMPORT_TOKEN.match(token or "") or _import_run(request.user, token) is None:
        raise Http404
    name = _passwords_kept(request.user, token)
    if name is None:
        raise Http404
    passwords = [OneTimePassword(*values) for values in _read_passwords(name)]
    default_storage.delete(name)
    response = xlsx_response(_("one-time-passwords"), [one_time_passwords_sheet(passwords)])
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("import/", import_upload, name="import"),
    path("import/template.xlsx", import_template, name="import_template"),
    path("import/<str:token>/", import_preview, name="import_preview"),
    path("import/<str:token>/confirm/", import_confirm, name="import_confirm"),
    path("import/<str:token>/result/", import_result, name="import_result"),
    path("import/<str:token>/passwords.xlsx", import_passwords, name="import_passwords"),
]
