"""WCAG 2.2 "focus not obscured": the self-assessment's sticky total bar never covers the focus.

The keyboard walks the whole page with Tab, on a desktop (1280 × 800) and on a phone
(390 × 844); at every stop the focused element's box must not overlap the sticky bar's box
(the bar's own buttons excepted), and the element must be on the screen at all. Every
focused form field shows the strong focus ring (at least 3:1 against white and the page).
"""

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_assessment, make_cycle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
MAX_STOPS = 400
FIELD_RING = "rgba(10, 88, 202, 0.85) 0px 0px 0px 3.2px"  # app.css --field-focus-ring

# Where the focus is, where the bar is, and whether they overlap, in the viewport's pixels.
FOCUS_STATE = """() => {
  const focused = document.activeElement;
  const bar = document.querySelector(".summary-bar");
  if (!focused || focused === document.body || !bar) {
    return null;
  }
  const a = focused.getBoundingClientRect();
  const b = bar.getBoundingClientRect();
  const overlaps = a.top < b.bottom && a.bottom > b.top && a.left < b.right && a.right > b.left;
  const label = focused.id || focused.name || focused.getAttribute("aria-label")
    || (focused.textContent || "").trim().slice(0, 40) || focused.tagName;
  return {
    label: focused.tagName.toLowerCase() + " " + label,
    inBar: bar.contains(focused),
    overlaps: overlaps,
    onScreen: a.bottom > 0 && a.top < window.innerHeight,
    field: focused.matches(".form-control, .form-select, .form-check-input"),
    ring: getComputedStyle(focused).boxShadow,
    top: Math.round(a.top), bottom: Math.round(a.bottom), barTop: Math.round(b.top),
  };
}"""


@pytest.fixture
def sheet(world):
    cycle = make_cycle(world.committee, opened_by=world.approver, opened_at=timezone.now())
    return make_assessment(cycle, world.branch)


@pytest.mark.parametrize("size", SIZES)
def test_tabbing_through_the_self_assessment_never_lands_under_the_sticky_bar(
    browser, live_server, world, sheet, size
):
    context = browser.new_context(viewport=SIZES[size], locale="zh-CN", reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(world.secretary.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/")
    page.goto(live_server.url + reverse("reviews:self_assessment", args=[sheet.pk]))
    expect(page.locator(".summary-bar")).to_be_visible()

    stops, obscured, off_screen, first, rings = 0, [], [], None, set()
    for _ in range(MAX_STOPS):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE)
        if state is None or state["label"] == first:
            break  # past the page's last stop, or round to the first one again
        first = first or state["label"]
        stops += 1
        if not state["inBar"] and state["overlaps"]:
            obscured.append(state)
        if not state["onScreen"]:
            off_screen.append(state)
        if state["field"]:
            rings.add(state["ring"])
    # The sheet's fields are all there: the default standard has dozens of items.
    assert stops > 40, stops
    assert obscured == [], f"{len(obscured)} of {stops} Tab stops under the sticky bar: {obscured}"
    assert off_screen == [], off_screen
    # Every focused field wears the strong ring of static/css/app.css, not Bootstrap's faint one.
    assert rings == {FIELD_RING}, rings
    context.close()
