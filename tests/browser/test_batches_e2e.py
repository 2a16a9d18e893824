"""Two public notice batches in one cycle, then the explicit close, in a real browser.

The demo's current cycle has branches in every stage: 市教育局's are scored (four decided and
under public notice as batch 1, with an objection lodged online; two more decided), 市财政局's
forwarded and three being scored, 市发改委's drafts, submissions and a return, the rest not
started. shenpi resolves the objection and certifies batch 1 after its window while the others
are still in draft and in scoring; nobody's to-do vanishes; the
others go on, are decided and form batch 2, certified on its own window; the cycle stays open
for what is still in flight until shenpi closes it on the confirmation page.

Every step leaves a screenshot in test-output/screenshots/batches/NN-step.png.
"""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import expect

from branches.demo import load_demo as load_demo_tree
from branches.models import Organization, User
from reviews.demo import CURRENT_CYCLE
from reviews.demo import load_demo as load_demo_cycles
from reviews.models import Assessment, AssessmentStatus, Cycle, CycleStatus, Objection
from reviews.services.decision import decide_assessment, resolve_objection
from tests.browser.helpers import DemoBrowser, screenshot_taker
from tests.factories import standard_items, submit_sheet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = AssessmentStatus


@pytest.fixture
def shot(request):
    return screenshot_taker(request.config.rootpath, "batches")


class Browser(DemoBrowser):
    def to_dos(self) -> dict[str, str]:
        """The home page's counts, per role section: the to-dos a user sees."""
        page = self.page
        self.page.goto(f"{self.base}/")
        found = {}
        for section, selector in [
            ("parent", "section[aria-labelledby=sec-parent] p.mb-2"),
            ("reviewer", "section[aria-labelledby=sec-reviewer] .card-body > p"),
            ("assign", "section[aria-labelledby=sec-committee] .to-assign"),
        ]:
            located = page.locator(selector)
            if located.count():
                found[section] = re.sub(r"\s+", " ", located.first.inner_text()).strip()
        return found


def statuses(cycle) -> dict[str, int]:
    counts = {}
    for status in cycle.assessments.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_two_batches_in_one_cycle_then_the_explicit_close(page, live_server, settings, tmp_path, shot):
    settings.MEDIA_ROOT = tmp_path / "media"
    load_demo_tree()
    load_demo_cycles()
    cycle = Cycle.objects.get(name=CURRENT_CYCLE)
    items = standard_items(cycle.standard)
    reviewers = list(User.objects.filter(username__in=["kaohe1", "kaohe2", "kaohe3"]).order_by("username"))
    approver = User.objects.get(username="shenpi")
    # The demo has published four decided results as batch 1 (one with an objection lodged
    # online); two more are decided and wait for the next batch.
    first = cycle.notice_batches.get(number=1)
    first_decided = set(first.assessments.values_list("pk", flat=True))
    assert len(first_decided) == 4
    waiting = set(cycle.assessments.filter(status=S.DECIDED).values_list("pk", flat=True))
    assert len(waiting) == 2
    before = statuses(cycle)
    assert before[S.DRAFT] and before[S.SCORING] and before[S.SUBMITTED] and before[S.NOT_STARTED]
    ui = Browser(page, live_server)

    # --- the to-dos before anything is published ----------------------------------------------
    ui.sign_in("chushen")
    parent_before = ui.to_dos()
    assert "2" in parent_before["parent"]
    ui.sign_in("kaohe1")
    reviewer_before = ui.to_dos()
    assert "3" in reviewer_before["reviewer"]
    ui.sign_in("shenpi")
    approver_before = ui.to_dos()
    # The forwarded branches without reviewers lead to the assignment page.
    assert "3 份待分配考核组" in approver_before["assign"]
    shot(page, "approver-home")

    # --- 1. batch 1 under notice: shenpi sees the objection lodged online and resolves it -----
    ui.goto("reviews:cycle_detail", cycle.pk)
    expect(
        page.locator(f"a[href='{reverse('reviews:team_overview', args=[cycle.pk])}?show=unassigned']")
    ).to_be_visible()
    ui.goto("reviews:cycle_publicity", cycle.pk)
    expect(page.locator("main .list-group-item .bi-star-fill").first).to_be_visible()
    shot(page, "batch-1-under-notice")
    objection = Objection.objects.get(assessment__notice_batch=first)
    assert objection.lodged_by.username == "shuji"
    resolve_objection(
        objection=objection, actor=approver, resolution="经核实，记录补记情况已说明，不影响认定。"
    )

    # --- 2. batch 1's window ends; shenpi certifies it while others are in draft and scoring ---
    with time_machine.travel(first.ends_at + datetime.timedelta(minutes=5), tick=True):
        ui.sign_in("shenpi")
        ui.goto("reviews:cycle_detail", cycle.pk)
        row = page.locator("table.notice-batches tr[data-batch='1']")
        shot(page, "batch-1-due")
        row.locator(f"a[href='{reverse('reviews:batch_certify', args=[cycle.pk, 1])}']").click()
        confirm = page.get_by_role("button", name="确认认定")
        expect(confirm).to_be_enabled()
        confirm.click()
        expect(page).to_have_url(ui.url("reviews:cycle_detail", cycle.pk))
        expect(page.locator("main .alert-success")).to_be_visible()
        expect(row.locator(".badge.text-bg-success")).to_be_visible()
        shot(page, "batch-1-certified")

        cycle.refresh_from_db()
        assert cycle.status == CycleStatus.OPEN
        now = statuses(cycle)
        assert now[S.CERTIFIED] == 4
        assert now[S.DRAFT] == before[S.DRAFT] and now[S.SCORING] == before[S.SCORING]

        # --- nobody's to-do vanished ------------------------------------------------------------
        ui.sign_in("chushen")
        assert ui.to_dos() == parent_before
        ui.sign_in("kaohe1")
        assert ui.to_dos() == reviewer_before
        shot(page, "reviewer-home-after-batch-1")
        ui.sign_in("shenpi")
        assert ui.to_dos()["assign"] == approver_before["assign"]
        # The secretary of a branch not started still fills in the self-assessment.
        ui.sign_in("shuji")
        mine = page.locator("section[aria-labelledby=sec-branch] .card", has_text=CURRENT_CYCLE)
        expect(mine.get_by_role("link", name="填写自评")).to_be_visible()

    # --- 3. the others go on: the team finishes scoring, shenpi decides -----------------------
    for assessment in cycle.assessments.filter(status=S.SCORING):
        for reviewer in reviewers:
            submit_sheet(assessment, reviewer, items)
    second_pks = set(waiting)
    for assessment in cycle.assessments.filter(status=S.SCORED).order_by("pk"):
        decide_assessment(assessment=assessment, actor=approver, stars=assessment.proposed_stars)
        second_pks.add(assessment.pk)
    assert len(second_pks) == 4 + 3  # the rest of 市教育局, and 市财政局's three scored ones

    # --- 4. batch 2 is published and certified on its own window ------------------------------
    second_start = first.ends_at + datetime.timedelta(days=1)
    with time_machine.travel(second_start, tick=True):
        ui.sign_in("shenpi")
        ui.goto("reviews:cycle_publicize", cycle.pk)
        page.get_by_role("button", name="确认发布公示").click()
        expect(page).to_have_url(ui.url("reviews:cycle_publicity", cycle.pk) + "?batch=2")
        expect(page.locator(".notice-batch-tabs .nav-link")).to_have_count(2)
        shot(page, "batch-2-under-notice")
        second = cycle.notice_batches.get(number=2)
        assert set(second.assessments.values_list("pk", flat=True)) == second_pks
        # Still running: the cycle page offers no certification of batch 2.
        ui.goto("reviews:cycle_detail", cycle.pk)
        expect(
            page.locator(f"a[href='{reverse('reviews:batch_certify', args=[cycle.pk, 2])}']")
        ).to_have_count(0)

    with time_machine.travel(second.ends_at + datetime.timedelta(minutes=5), tick=True):
        ui.sign_in("shenpi")
        ui.goto("reviews:cycle_detail", cycle.pk)
        page.locator(f"a[href='{reverse('reviews:batch_certify', args=[cycle.pk, 2])}']").click()
        page.get_by_role("button", name="确认认定").click()
        expect(page).to_have_url(ui.url("reviews:cycle_detail", cycle.pk))
        expect(page.locator("table.notice-batches .badge.text-bg-success")).to_have_count(2)
        shot(page, "batch-2-certified")

        cycle.refresh_from_db()
        assert cycle.status == CycleStatus.OPEN  # drafts, submissions and forwarded ones remain
        assert statuses(cycle)[S.CERTIFIED] == 4 + 7

        # --- 5. shenpi closes the cycle on the confirmation page --------------------------------
        in_flight = cycle.assessments.exclude(status=S.CERTIFIED).count()
        page.locator(f"a[href='{reverse('reviews:cycle_close', args=[cycle.pk])}']").click()
        expect(page).to_have_url(ui.url("reviews:cycle_close", cycle.pk))
        table = page.locator("table.close-in-flight")
        expect(table).to_contain_text("草稿")
        expect(table).to_contain_text("未开始")
        shot(page, "close-confirm")
        page.locator("#close-confirm").check()
        page.locator("main form button[type=submit]").click()
        expect(page).to_have_url(ui.url("reviews:cycle_detail", cycle.pk))
        expect(page.locator("main .alert-success")).to_be_visible()
        shot(page, "closed")

    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.CLOSED
    assert statuses(cycle) == {S.CERTIFIED: 11, S.NOT_TAKING_PART: in_flight}
    assert cycle.events.order_by("pk").last().action == "close"
    assert Assessment.objects.filter(cycle=cycle, notice_batch__isnull=False).count() == 11
    assert Organization.objects.filter(assessments__cycle=cycle).count() == 11 + in_flight
