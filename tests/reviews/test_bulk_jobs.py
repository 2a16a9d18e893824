"""Large cycle-wide operations run as recorded background jobs with a progress page.

Above ``BULK_JOB_THRESHOLD`` assessments, the automatic assignment, publishing and certifying
send their task on commit (in-process here: no broker) and redirect to the job's progress
page, which ends done with a link back; the run is a ``JobRun`` whose progress reaches 100 %.
Pressing the button again runs the job again, which changes nothing.
"""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from branches.roles import Role
from reports.models import JobRun, JobStatus
from reports.tasks import auto_assign_task
from reviews.models import (
    AssessmentEvent,
    AssessmentStatus,
    Certificate,
    NoticeBatch,
    ReviewerAssignment,
)
from tests.factories import make_sized_committee, make_user, open_default_cycle

pytestmark = pytest.mark.django_db

BRANCHES = 6
PUBLISHED_AT = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def committee(settings):
    settings.BULK_JOB_THRESHOLD = 4
    sized = make_sized_committee("J", BRANCHES)
    approver = make_user("j-approver", roles=((Role.COMMITTEE_APPROVER, sized.committee),))
    for i in range(3):
        make_user(f"j-reviewer-{i}", roles=((Role.ASSESSMENT_REVIEWER, sized.committee),))
    cycle = open_default_cycle(sized.committee, approver)
    return {"committee": sized.committee, "approver": approver, "cycle": cycle}


@pytest.fixture
def approver_client(client, committee, english, django_capture_on_commit_callbacks):
    """Signed in as the approver; a job sent on commit runs in-process as the request commits."""
    client.force_login(committee["approver"])
    original = client.request

    def request(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(**kwargs)

    client.request = request
    return client


def runs(task: str):
    return JobRun.objects.filter(task_name=f"reports.tasks.{task}").order_by("pk")


def follow_to_progress(client, response) -> str:
    assert response.status_code == 302
    assert response.url.startswith("/jobs/bulk/")
    page = client.get(response.url)
    assert page.status_code == 200
    return page.content.decode()


def test_a_large_automatic_assignment_runs_as_a_job_that_reaches_100_percent(approver_client, committee):
    cycle = committee["cycle"]
    cycle.assessments.update(status=AssessmentStatus.FORWARDED)  # test set-up only
    url = reverse("reviews:auto_assign", args=[cycle.pk])

    html = follow_to_progress(approver_client, approver_client.post(url))

    run = runs("auto_assign_task").get()
    assert run.status == JobStatus.SUCCEEDED
    assert (run.progress_done, run.progress_total, run.progress_percent) == (BRANCHES, BRANCHES, 100)
    assert (
        run.arguments["cycle_id"] == cycle.pk and run.arguments["committee_id"] == committee["committee"].pk
    )
    assert run.outcome["state"] == "done"
    assert 'id="bulk-done"' in html and run.outcome["message"] in html
    assert reverse("reviews:team_overview", args=[cycle.pk]) in html and 'http-equiv="refresh"' not in html
    assert ReviewerAssignment.objects.filter(assessment__cycle=cycle).count() == 3 * BRANCHES
    assert AssessmentEvent.objects.filter(assessment__cycle=cycle, action="assign").count() == BRANCHES

    # Pressing again: the assessments are no longer forwarded, so the page runs it in the request.
    again = approver_client.post(url)
    assert again.status_code == 302 and again.url == reverse("reviews:team_overview", args=[cycle.pk])
    assert ReviewerAssignment.objects.filter(assessment__cycle=cycle).count() == 3 * BRANCHES
    assert runs("auto_assign_task").count() == 1


def test_the_job_run_again_changes_nothing(committee):
    cycle = committee["cycle"]
    cycle.assessments.update(status=AssessmentStatus.FORWARDED)  # test set-up only
    arguments = {
        "committee_id": committee["committee"].pk,
        "cycle_id": cycle.pk,
        "actor_id": committee["approver"].pk,
    }
    auto_assign_task.delay(token="first", **arguments)
    auto_assign_task.delay(token="second", **arguments)

    first, second = runs("auto_assign_task")
    assert first.outcome["state"] == "done" and first.progress_done == BRANCHES
    assert second.status == JobStatus.SUCCEEDED and second.outcome["state"] == "done"
    assert second.progress_percent == 100
    assert ReviewerAssignment.objects.filter(assessment__cycle=cycle).count() == 3 * BRANCHES
    assert AssessmentEvent.objects.filter(assessment__cycle=cycle, action="assign").count() == BRANCHES


def test_a_small_assignment_stays_in_the_request(approver_client, committee, settings):
    settings.BULK_JOB_THRESHOLD = BRANCHES
    cycle = committee["cycle"]
    cycle.assessments.update(status=AssessmentStatus.FORWARDED)  # test set-up only
    response = approver_client.post(reverse("reviews:auto_assign", args=[cycle.pk]))
    assert response.url == reverse("reviews:team_overview", args=[cycle.pk])
    assert not runs("auto_assign_task").exists()
    assert ReviewerAssignment.objects.filter(assessment__cycle=cycle).count() == 3 * BRANCHES


def test_large_publishing_and_certifying_run_as_jobs_and_refusals_stay_409(approver_client, committee):
    cycle = committee["cycle"]
    # Test set-up only: every assessment decided.
    cycle.assessments.update(status=AssessmentStatus.DECIDED, decided_stars=4, proposed_stars=4)

    with time_machine.travel(PUBLISHED_AT, tick=False):
        html = follow_to_progress(
            approver_client, approver_client.post(reverse("reviews:cycle_publicize", args=[cycle.pk]))
        )
    batch = NoticeBatch.objects.get(cycle=cycle)
    assert 'id="bulk-done"' in html and reverse("reviews:cycle_publicity", args=[cycle.pk]) in html
    assert (
        cycle.assessments.filter(status=AssessmentStatus.PUBLICIZED, notice_batch=batch).count() == BRANCHES
    )
    assert runs("publicize_cycle_task").get().progress_percent == 100

    certify = reverse("reviews:batch_certify", args=[cycle.pk, batch.number])
    with time_machine.travel(PUBLISHED_AT + datetime.timedelta(days=1), tick=False):
        approver_client.force_login(committee["approver"])  # the idle session timed out meanwhile
        during = approver_client.post(certify)
    assert during.status_code == 409  # the notice still runs: refused at once, no job
    assert not runs("certify_batch_task").exists()

    with time_machine.travel(batch.ends_at + datetime.timedelta(hours=1), tick=False):
        approver_client.force_login(committee["approver"])
        html = follow_to_progress(approver_client, approver_client.post(certify))
        twice = approver_client.post(certify)
    assert twice.status_code == 409  # already certified: the second press changes nothing
    run = runs("certify_batch_task").get()
    assert run.status == JobStatus.SUCCEEDED and run.progress_percent == 100
    assert 'id="bulk-done"' in html and reverse("reviews:cycle_detail", args=[cycle.pk]) in html
    assert Certificate.objects.filter(assessment__cycle=cycle).count() == BRANCHES
    assert cycle.assessments.filter(status=AssessmentStatus.CERTIFIED).count() == BRANCHES


def test_the_progress_page_is_404_to_another_user(approver_client, committee):
    cycle = committee["cycle"]
    cycle.assessments.update(status=AssessmentStatus.FORWARDED)  # test set-up only
    response = approver_client.post(reverse("reviews:auto_assign", args=[cycle.pk]))
    other = make_user("j-staff", roles=((Role.STAFF, committee["committee"]),))
    stranger = Client()
    stranger.force_login(other)
    assert stranger.get(response.url).status_code == 404


def test_opening_a_large_committee_s_cycle_runs_as_a_job_and_its_errors_stay_on_the_form(
    approver_client, committee
):
    from reviews.models import Cycle
    from tests.reviews.test_cycles import form_data

    standard = committee["cycle"].standard
    url = reverse("reviews:cycle_open")
    # A rule the service checks (the committee has this name already): the form, no job.
    taken = approver_client.post(
        url, form_data(committee["committee"], standard, name=committee["cycle"].name)
    )
    assert taken.status_code == 200 and not runs("open_cycle_task").exists()

    html = follow_to_progress(
        approver_client,
        approver_client.post(url, form_data(committee["committee"], standard, name="下一年度", cap_5="30")),
    )
    cycle = Cycle.objects.get(committee=committee["committee"], name="下一年度")
    run = runs("open_cycle_task").get()
    assert run.status == JobStatus.SUCCEEDED and run.progress_percent == 100
    assert run.outcome["cycle_id"] == cycle.pk
    assert cycle.assessments.count() == BRANCHES and cycle.star_caps == {"5": 30}
    assert str(cycle.disagreement_fraction) == "0.333" and cycle.opened_by == committee["approver"]
    assert 'id="bulk-done"' in html and reverse("reviews:cycle_detail", args=[cycle.pk]) in html
