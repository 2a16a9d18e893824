"""Background jobs: what ran, what failed and why, and "generate now".

Staff and approvers of a committee see its runs and may start its jobs by hand (superusers
see every run, including the quarterly schedulers). A job is only enqueued once the
transaction commits; the worker does the work and records the run. A role elsewhere in the
site without staff/approver on any committee gets 403; a committee outside the user's scope
answers 404, as one that does not exist.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from branches.kept import kept_page
from branches.models import ORG_ORDER, OrgKind
from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import get_organization_for_user_or_404, require_role
from reviews.views.common import page_of

from ..forms.jobs import BULLETIN, NOTICES, JobStartForm
from ..jobs import enqueue
from ..models import JobStatus
from ..quarters import previous_quarter, quarter_of
from ..selectors import committees_for_jobs, job_runs_visible_to
from ..tasks import (
    check_round_reminders,
    expire_certificates,
    generate_bulletin_task,
    generate_year_bulletin_task,
    open_check_round_task,
    open_quarter_check_rounds,
    quarter_end_jobs,
    quarter_start_jobs,
    send_check_reminders_task,
    send_quarterly_notices_task,
)

# Failed first: the list is where staff come to see what went wrong.
STATUS_FILTERS = [JobStatus.FAILED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
TASK_LABELS = {
    generate_bulletin_task.name: gettext_lazy("Quarterly bulletin"),
    send_quarterly_notices_task.name: gettext_lazy("Quarterly notices"),
    quarter_start_jobs.name: gettext_lazy("Start of quarter: notices of every committee"),
    quarter_end_jobs.name: gettext_lazy("End of quarter: bulletins of every committee"),
    expire_certificates.name: gettext_lazy("Certificate expiry"),
    open_check_round_task.name: gettext_lazy("Quarterly check round of a committee"),
    open_quarter_check_rounds.name: gettext_lazy("Start of quarter: quarterly check rounds"),
    generate_year_bulletin_task.name: gettext_lazy("Year bulletin"),
    send_check_reminders_task.name: gettext_lazy("Reminders of a quarterly check"),
    check_round_reminders.name: gettext_lazy("Daily: reminders of the open quarterly checks"),
    "reports.tasks.send_rectification_reminders_task": gettext_lazy("Reminders of rectification tasks"),
    "reports.tasks.rectification_reminders": gettext_lazy("Daily: reminders of the rectification tasks"),
    "reports.tasks.prune_sign_in_logs": gettext_lazy(
        "Daily: removal of sign-in records past their retention"
    ),
    "reports.tasks.auto_assign_task": gettext_lazy("Automatic reviewer assignment"),
    "reports.tasks.publicize_cycle_task": gettext_lazy("Publishing the public notice"),
    "reports.tasks.certify_batch_task": gettext_lazy("Certifying a notice batch"),
    "reports.tasks.open_cycle_task": gettext_lazy("Opening a cycle"),
    # Defined in the directory app, which comes after this one: named by its registered name.
    "directory.tasks.import_organizations_and_people": gettext_lazy("Import of organizations and people"),
}


def _require_job_role(user) -> list:
    committees = list(committees_for_jobs(user).order_by(*ORG_ORDER))
    if not committees and not user.is_superuser:
        raise PermissionDenied(_("Your role does not allow this action."))
    return committees


def job_runs_listed(request) -> tuple:
    """The runs under the page's ``?status=`` tab, newest first, and the tab: page and export."""
    runs = job_runs_visible_to(request.user)
    status = request.GET.get("status", "")
    if status in STATUS_FILTERS:
        runs = runs.filter(status=status)
    else:
        status = ""
    return runs.order_by("-started_at", "-pk"), status


@login_required
@kept_page
def job_list(request):
    committees = _require_job_role(request.user)
    runs = job_runs_visible_to(request.user)
    counts = runs.aggregate(**{status: Count("pk", filter=Q(status=status)) for status in STATUS_FILTERS})
    runs, status = job_runs_listed(request)
    page = page_of(request, runs)
    for run in page:
        run.label = TASK_LABELS.get(run.task_name, run.task_name)
    year, quarter = previous_quarter(*quarter_of(timezone.localdate()))
    form = JobStartForm(initial={"year": year, "quarter": quarter, "jobs": [BULLETIN]}, committees=committees)
    filters = [
        {"value": value, "label": JobStatus(value).label, "count": counts[value]} for value in STATUS_FILTERS
    ]
    return render(
        request,
        "reports/jobs/job_list.html",
        {
            "page": page,
            "status": status,
            "filters": filters,
            "query": f"status={status}" if status else "",
            "form": form if committees else None,
        },
    )


@login_required
@require_POST
def job_generate(request):
    committees = _require_job_role(request.user)
    form = JobStartForm(request.POST, committees=committees)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("reports:job_list")
    committee = get_organization_for_user_or_404(request.user, form.cleaned_data["committee"])
    if committee.kind != OrgKind.COMMITTEE:
        raise Http404
    require_role(request.user, COMMITTEE_MANAGERS, committee)
    year, quarter = form.cleaned_data["year"], form.cleaned_data["quarter"]
    tasks = {BULLETIN: generate_bulletin_task, NOTICES: send_quarterly_notices_task}
    sent = [enqueue(tasks[job], committee.pk, year, quarter) for job in form.cleaned_data["jobs"]]
    values = {"committee": committee.name, "year": year, "quarter": quarter}
    if all(sent):
        messages.success(
            request,
            _(
                "The jobs for %(committee)s, %(year)s Q%(quarter)s are started; their runs appear "
                "below. A published bulletin is kept as it is."
            )
            % values,
        )
    else:
        messages.error(
            request,
            _("A job for %(committee)s, %(year)s Q%(quarter)s could not be run; see the failed jobs.")
            % values,
        )
    return redirect("reports:job_list")


urlpatterns = [
    path("jobs/", job_list, name="job_list"),
    path("jobs/generate/", job_generate, name="job_generate"),
]
