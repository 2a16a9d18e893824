"""The progress page of a committee's large cycle-wide operation run as a background job.

Started from the committee's pages (``reviews.jobs``: opening a cycle, automatic assignment,
publishing a notice batch, certifying one); the page refreshes itself while the job runs, then says what
it did (or why nothing changed) and links back to where the operation was started. Only the
session that started the job knows its token: anyone else, or an unknown token, gets 404.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from reviews.jobs import BULK_JOBS_SESSION_KEY, BULK_TASKS

from ..models import JobRun, JobStatus

REFRESH_SECONDS = 2
OPERATION_LABELS = {
    "auto_assign": gettext_lazy("Automatic reviewer assignment"),
    "publicize": gettext_lazy("Publishing the public notice"),
    "certify": gettext_lazy("Certifying a notice batch"),
    "open_cycle": gettext_lazy("Opening a cycle"),
}
OPERATION_OF_TASK = {name: operation for operation, name in BULK_TASKS.items()}


def _back(operation: str, arguments: dict, outcome: dict) -> tuple[str, str]:
    """Where the operation leads back to, and the link's label."""
    cycle_id = arguments.get("cycle_id") or outcome.get("cycle_id")
    if operation == "open_cycle":
        if cycle_id:
            return reverse("reviews:cycle_detail", args=[cycle_id]), gettext_lazy("Go to the cycle")
        return reverse("reviews:cycle_list"), gettext_lazy("Back to the cycles")
    if operation == "auto_assign":
        return reverse("reviews:team_overview", args=[cycle_id]), gettext_lazy("Back to the assignments")
    if operation == "publicize":
        return reverse("reviews:cycle_publicity", args=[cycle_id]), gettext_lazy("Back to the public notice")
    return reverse("reviews:cycle_detail", args=[cycle_id]), gettext_lazy("Back to the cycle")


def bulk_run(user, token: str) -> JobRun | None:
    """The latest run of the job started by ``user`` with ``token`` (none: not started yet)."""
    return (
        JobRun.objects.filter(
            task_name__in=list(BULK_TASKS.values()), arguments__token=token, arguments__actor_id=user.pk
        )
        .order_by("-started_at", "-pk")
        .first()
    )


@login_required
@require_GET
def bulk_job(request, token):
    if token not in request.session.get(BULK_JOBS_SESSION_KEY, []):
        raise Http404
    run = bulk_run(request.user, token)
    running = run is None or run.status == JobStatus.RUNNING
    operation = OPERATION_OF_TASK.get(run.task_name) if run is not None else None
    back_url = back_label = None
    if run is not None:
        back_url, back_label = _back(operation, run.arguments, run.outcome)
    response = render(
        request,
        "reports/jobs/bulk_job.html",
        {
            "run": run,
            "running": running,
            "failed": run is not None and run.status == JobStatus.FAILED,
            "outcome": run.outcome if run is not None else {},
            "label": OPERATION_LABELS.get(operation, gettext_lazy("Background job")),
            "back_url": back_url,
            "back_label": back_label,
            "refresh_seconds": REFRESH_SECONDS,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("jobs/bulk/<str:token>/", bulk_job, name="bulk_job"),
]
