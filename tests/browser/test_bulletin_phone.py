"""The quarterly bulletin's web page on a phone (390 × 844).

Nothing is wider than the screen (the tables scroll sideways inside their own wrappers), no
number in a table breaks across lines ("30./6%"), and the two charts are shown as their HTML
twins in a legible font size; on a desktop the SVG charts are shown as in the PDF.

Screenshots: test-output/screenshots/test_the_bulletin_reads_on_a_phone-*.png.
"""

import pytest
from playwright.sync_api import expect

from branches.demo import COMMITTEE_NAME
from branches.demo import load_demo as load_organizations
from branches.models import Organization
from reports.services.bulletins import generate_bulletin
from reviews.demo import load_demo as load_cycles
from tests.browser.helpers import DemoBrowser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

# Elements that stick out of the screen without a scrolling wrapper between them and the page.
OVERFLOWING = """(width) => {
  const scrolls = (element) => {
    for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
      const overflow = getComputedStyle(node).overflowX;
      if ((overflow === "auto" || overflow === "scroll") && node.getBoundingClientRect().right <= width + 0.5) {
        return true;
      }
    }
    return false;
  };
  return Array.from(document.querySelectorAll("body *"))
    .filter((element) => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5) && !scrolls(element);
    })
    .map((element) => element.tagName.toLowerCase() + "." + element.className);
}"""

# Numeric cells whose text takes more than one line: boxes of their text that do not overlap
# vertically (a smaller "tied" label on the same line sits a little lower, but overlaps).
WRAPPED_NUMBERS = """() => Array.from(document.querySelectorAll(".bulletin td.num")).filter((cell) => {
  const rects = [];
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    rects.push(...Array.from(range.getClientRects()).filter((rect) => rect.width > 0));
  }
  rects.sort((a, b) => a.top - b.top);
  let lines = 0, bottom = -Infinity;
  for (const rect of rects) {
    if (rect.top >= bottom - 1) { lines += 1; }
    bottom = Math.max(bottom, rect.bottom);
  }
  return lines > 1;
}).map((cell) => cell.textContent.trim())"""


@pytest.fixture
def bulletin(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    load_organizations()
    load_cycles()
    committee = Organization.objects.get(name=COMMITTEE_NAME)
    return generate_bulletin(committee_id=committee.pk, year=2026, quarter=3)


def test_the_bulletin_reads_on_a_phone(browser, live_server, bulletin, screenshot):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", reduced_motion="reduce")
    demo = DemoBrowser(context.new_page(), live_server)
    page = demo.page
    demo.sign_in("dangwu")
    demo.goto("reports:bulletin_detail", bulletin.pk)
    expect(page.locator("main")).to_contain_text(COMMITTEE_NAME)

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(OVERFLOWING, PHONE["width"]) == []
    numbers = page.locator(".bulletin td.num")
    assert numbers.count() > 20
    assert page.evaluate(WRAPPED_NUMBERS) == []
    # The tables are wider than the phone, so they scroll inside their wrappers.
    wrappers = page.locator(".bulletin .table-responsive")
    assert wrappers.count() >= 5
    assert page.evaluate(
        "Array.from(document.querySelectorAll('.bulletin .table-responsive'))"
        ".some((w) => w.scrollWidth > w.clientWidth)"
    )

    # The charts: their phone twins, one line per bar, in the page's font size.
    expect(page.locator(".bulletin svg.chart").first).to_be_hidden()
    charts = page.locator(".bulletin .phone-chart")
    expect(charts).to_have_count(2)
    expect(charts.nth(0)).to_be_visible()
    star_levels = len(bulletin.data["star_levels"]) + 1 + ("revoked" in bulletin.data["totals"])
    expect(charts.nth(0).locator(".phone-chart-row")).to_have_count(star_levels)
    expect(charts.nth(1).locator(".phone-chart-row")).to_have_count(len(bulletin.data["trend"]))
    expect(charts.nth(1)).to_contain_text(f"{bulletin.data['trend'][-1]['five_star_percent']}%")
    sizes = page.evaluate(
        "Array.from(document.querySelectorAll('.phone-chart-label, .phone-chart-value'))"
        ".map((e) => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert sizes and min(sizes) >= 12
    bars = page.evaluate(
        "Array.from(document.querySelectorAll('.phone-chart-track')).map((e) => e.getBoundingClientRect().width)"
    )
    assert min(bars) > 150  # the bars get most of the screen's width
    path = screenshot(page, "1-phone")
    # The first screenful around the trend chart, as the reader sees it.
    charts.nth(1).scroll_into_view_if_needed()
    page.screenshot(path=str(path.with_name(path.name.replace("1-phone", "2-trend"))))
    context.close()


def test_on_a_desktop_the_bulletin_shows_the_svg_charts(browser, live_server, bulletin):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", reduced_motion="reduce")
    demo = DemoBrowser(context.new_page(), live_server)
    demo.sign_in("dangwu")
    demo.goto("reports:bulletin_detail", bulletin.pk)
    page = demo.page
    expect(page.locator(".bulletin svg.chart")).to_have_count(2)
    expect(page.locator(".bulletin svg.chart").first).to_be_visible()
    expect(page.locator(".bulletin svg.chart").nth(1)).to_be_visible()
    expect(page.locator(".bulletin .phone-chart").first).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    assert page.evaluate(WRAPPED_NUMBERS) == []
    context.close()
