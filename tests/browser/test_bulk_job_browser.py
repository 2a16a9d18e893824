"""In Chromium: a large automatic assignment runs as a background job and its page ends done.

The approver presses "Assign automatically" on the team overview of a cycle with more forwarded
assessments than ``BULK_JOB_THRESHOLD``; without a broker the job runs in-process, so the
progress page opens on the finished job: full bar, the outcome, a link back to the overview.
"""

import pytest
from playwright.sync_api import expect

from branches.roles import Role
from reports.models import JobRun, JobStatus
from reviews.models import AssessmentStatus, ReviewerAssignment
from tests.factories import PASSWORD, make_sized_committee, make_user, open_default_cycle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_large_assignment_shows_its_job_done_and_links_back(page, live_server, settings, screenshot):
    settings.BULK_JOB_THRESHOLD = 3
    sized = make_sized_committee("浏览", 5)
    approver = make_user("bulk-approver", "周审批", roles=((Role.COMMITTEE_APPROVER, sized.committee),))
    for i in range(3):
        make_user(f"bulk-reviewer-{i}", f"评审{i}", roles=((Role.ASSESSMENT_REVIEWER, sized.committee),))
    cycle = open_default_cycle(sized.committee, approver)
    cycle.assessments.update(status=AssessmentStatus.FORWARDED)  # test set-up only

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(approver.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.goto(f"{live_server.url}/team/cycles/{cycle.pk}/")
    screenshot(page, "overview")
    page.get_by_role("button", name="自动分配").click()

    expect(page.locator("#bulk-done")).to_be_visible()
    expect(page.locator(".progress-bar.pct-w-100")).to_be_visible()
    screenshot(page, "done")
    run = JobRun.objects.get(task_name="reports.tasks.auto_assign_task")
    assert run.status == JobStatus.SUCCEEDED and run.progress_percent == 100
    assert ReviewerAssignment.objects.filter(assessment__cycle=cycle).count() == 15

    page.locator("#bulk-back").click()
    expect(page).to_have_url(f"{live_server.url}/team/cycles/{cycle.pk}/")
