"""On a 390 × 844 phone, a branch secretary reads the public notice and lodges an objection.

The demo's current cycle has four results of 市教育局's branches under public notice as batch 1
(with one objection lodged online already). shuji, secretary of a 市发改委 branch, finds "under public notice" on the home
page, opens the notice, objects to one result, and shenpi sees the objection on the
committee's page, marked as lodged online. Screenshots: test-output/screenshots/publicity_phone/.
"""

import pytest
from playwright.sync_api import expect

from branches.demo import load_demo as load_demo_tree
from reviews.demo import CURRENT_CYCLE
from reviews.demo import load_demo as load_demo_cycles
from reviews.models import AssessmentStatus, Cycle, Objection
from tests.browser.helpers import DemoBrowser, screenshot_taker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
OBJECTION = "该支部上半年组织生活会记录不全，建议核实后再认定。"


@pytest.fixture
def shot(request):
    return screenshot_taker(request.config.rootpath, "publicity_phone")


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_secretary_lodges_an_objection_from_the_home_page_on_a_phone(
    page, live_server, settings, tmp_path, shot
):
    settings.MEDIA_ROOT = tmp_path / "media"
    load_demo_tree()
    load_demo_cycles()
    cycle = Cycle.objects.get(name=CURRENT_CYCLE)
    # The demo's batch 1 is under notice, with one objection lodged online already.
    lodged_before = Objection.objects.count()
    published = list(
        cycle.assessments.filter(status=AssessmentStatus.PUBLICIZED)
        .select_related("branch")
        .order_by("-decided_stars", "branch__sort_order", "branch__code")
    )
    assert published
    page.set_viewport_size(PHONE)
    ui = DemoBrowser(page, live_server)

    # --- the secretary's home page says a notice runs, and leads to it -----------------------------
    ui.sign_in("shuji")
    section = page.locator("section[aria-labelledby=sec-publicity]")
    expect(section).to_be_visible()
    expect(section).to_contain_text(CURRENT_CYCLE)
    no_sideways_scroll(page)
    shot(page, "home")
    section.get_by_role("link").click()

    # --- the notice: every result with its branch, parent organization, star and period ------------
    expect(page.locator("h1")).to_have_text("公示")
    results = page.locator("li.notice-result")
    expect(results).to_have_count(len(published))
    target = published[0]
    row = page.locator(f"li.notice-result[data-assessment='{target.pk}']")
    expect(row.locator(".notice-branch")).to_have_text(target.branch.name)
    expect(row.locator(".notice-parent")).to_have_text(target.branch.parent.name)
    expect(page.locator(".how-to-object").first).to_be_visible()
    no_sideways_scroll(page)
    shot(page, "notice")

    # --- the objection: an empty one is refused, nothing typed is lost -----------------------------
    row.locator("a.lodge-objection").click()
    expect(page).to_have_url(ui.url("reviews:objection_lodge", target.pk))
    page.locator("textarea[name=content]").fill("   ")
    page.locator("input[name=contact]").fill("13800001234")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("input[name=contact]")).to_have_value("13800001234")
    assert Objection.objects.count() == lodged_before
    page.locator("textarea[name=content]").fill(OBJECTION)
    no_sideways_scroll(page)
    shot(page, "objection-form")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("h1")).to_have_text("公示")
    shot(page, "lodged")

    objection = Objection.objects.get(content=OBJECTION)
    assert objection.assessment_id == target.pk
    assert objection.lodged_by.username == "shuji"
    assert objection.contact == "13800001234"

    # --- the approver sees it on the committee's page, marked as lodged online ---------------------
    ui.sign_in("shenpi")
    ui.goto("reviews:cycle_publicity", cycle.pk)
    card = page.locator("#objections ~ .card").filter(has_text=OBJECTION)
    expect(card).to_have_count(1)
    expect(card.locator(".objection-lodged-online")).to_be_visible()
    expect(card).to_contain_text("王红梅")
    expect(card).to_contain_text(target.branch.name)
    no_sideways_scroll(page)
    shot(page, "approver-sees-it")
