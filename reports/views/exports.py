"""Excel exports of the reports' lists: the user's notices, the bulletins, the background jobs.

Each asks what its page asks before answering and reads the page's own rows (filters and
tab included, every page of them), streamed into a write-only workbook through the one
writer, ``branches.spreadsheets``.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from branches.spreadsheets import Sheet, dated_filename, xlsx_response

from ..quarters import quarter_label
from ..selectors import notices_for
from .bulletins import bulletins_listed, require_bulletin_committees
from .jobs import TASK_LABELS, _require_job_role, job_runs_listed

CHUNK = 500


@login_required
@require_GET
def notice_list_export(request: HttpRequest) -> HttpResponse:
    """The user's own notices, newest first."""
    header = [
        _("Title"),
        _("Kind"),
        _("Working committee"),
        _("Quarter"),
        _("Created at"),
        _("Status"),
        _("Read at"),
    ]
    rows = (
        [
            notice.title,
            notice.get_kind_display(),
            notice.committee.name if notice.committee_id else "",
            quarter_label(notice.year, notice.quarter),
            notice.created_at,
            _("Read") if notice.read_at else _("Unread"),
            notice.read_at,
        ]
        for notice in notices_for(request.user).iterator(chunk_size=CHUNK)
    )
    title = _("Notices")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


@login_required
@require_GET
def bulletin_list_export(request: HttpRequest) -> HttpResponse:
    """The bulletins of the committees the user manages."""
    committees = require_bulletin_committees(request.user)
    header = [_("Quarter"), _("Working committee"), _("Status"), _("Generated"), _("Published"), _("Error")]
    rows = (
        [
            bulletin.label,
            bulletin.committee.name,
            bulletin.get_status_display(),
            bulletin.generated_at,
            bulletin.published_at,
            bulletin.error,
        ]
        for bulletin in bulletins_listed(committees).iterator(chunk_size=CHUNK)
    )
    title = _("Quarterly bulletins")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


@login_required
@require_GET
def job_list_export(request: HttpRequest) -> HttpResponse:
    """The job runs the user may see, under the page's status tab."""
    _require_job_role(request.user)
    runs, _status = job_runs_listed(request)
    header = [
        _("Job"),
        _("Task"),
        _("Status"),
        _("Working committee"),
        _("Year"),
        _("Quarter"),
        _("Attempt"),
        _("Started at"),
        _("Finished at"),
        _("Error"),
    ]

    def rows():
        for run in runs.iterator(chunk_size=CHUNK):
            arguments = run.arguments if isinstance(run.arguments, dict) else {}
            yield [
                str(TASK_LABELS.get(run.task_name, run.task_name)),
                run.task_name,
                run.get_status_display(),
                run.committee_name or _("All committees"),
                _integer(arguments.get("year")),
                _integer(arguments.get("quarter")),
                run.attempt,
                run.started_at,
                run.finished_at,
                run.error,
            ]

    title = _("Background jobs")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows())])


def _integer(value) -> int | None:
    """A job argument as a number when it is one (arguments are JSON written by the scheduler)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


urlpatterns = [
    path("notices/export/", notice_list_export, name="notice_list_export"),
    path("bulletins/export/", bulletin_list_export, name="bulletin_list_export"),
    path("jobs/export/", job_list_export, name="job_list_export"),
]
