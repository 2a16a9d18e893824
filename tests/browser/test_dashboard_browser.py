"""The dashboard (数据看板) in a real browser, at desktop and phone size, and its 大屏 screen.

The world is tests/reports/dashboard/dash_world.py (2026-12-07): the approver follows the
stacked bar of 市教育局机关党委's five-star branches to the list behind it, whose number is the
database's; on a phone the narrow twins of the charts show and the page never scrolls sideways.
Screenshots go to /tmp/shots/dash/ (and test-output/screenshots/).
"""

import tempfile
from pathlib import Path

import pytest
import time_machine
from django.db.models import Count
from django.urls import reverse
from playwright.sync_api import expect

from reviews.models import Certificate, CertificateStatus
from tests.factories import PASSWORD, build_world
from tests.reports.dashboard.dash_world import NOW, TODAY, build_dash_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREEN = {"width": 1920, "height": 1080}
SHOTS = Path(tempfile.gettempdir()) / "shots" / "dash"


@pytest.fixture
def dash():
    return build_dash_world(build_world())


def five_star_in_force(org) -> int:
    return (
        Certificate.objects.filter(
            branch__path__startswith=org.path, status=CertificateStatus.VALID, valid_until__gte=TODAY, stars=5
        )
        .aggregate(n=Count("pk"))
        .get("n")
    )


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/")


def shot(page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_on_a_desktop_a_bar_leads_to_its_branches(browser, live_server, dash, screenshot):
    w = dash.world
    with time_machine.travel(NOW, tick=True):
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        page = context.new_page()
        sign_in(page, live_server, w.approver)
        # From the home page's overview to the dashboard.
        page.locator("a.home-dashboard").first.click()
        expect(page).to_have_url(live_server.url + reverse("reports:dashboard", args=[w.committee.pk]))
        expect(page.locator("#kpi-branches")).to_have_text("4")
        expect(page.locator("#kpi-five-star")).to_have_text("50.0%")
        expect(page.locator("#kpi-rect-open")).to_have_text("2")
        expect(page.locator("#panel-stars .chart-wide svg.chart")).to_be_visible()
        expect(page.locator("#panel-stars .chart-narrow")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
        shot(page, "desktop-dashboard")
        screenshot(page, "desktop")

        # The ★5 segment of 市教育局机关党委's bar.
        segment = page.locator(f'#panel-stars .chart-wide a[href$="?unit={w.party_committee.pk}&stars=5"]')
        expect(segment).to_have_count(1)
        segment.click()
        expect(page).to_have_url(
            live_server.url
            + reverse("reports:dashboard_branches", args=[w.committee.pk])
            + f"?unit={w.party_committee.pk}&stars=5"
        )
        rows = page.locator("#dash-branch-list tbody tr")
        expect(rows).to_have_count(five_star_in_force(w.party_committee))
        expect(rows.first).to_contain_text(w.branch.name)
        expect(page.locator("#dash-branch-total")).to_contain_text(str(five_star_in_force(w.party_committee)))
        shot(page, "desktop-branch-list")

        # The overdue link of the rectification panel: the task list with the overdue filter.
        page.go_back()
        page.locator("#link-rect-overdue").click()
        expect(page).to_have_url(
            live_server.url + reverse("rectification:task_list") + "?state=active&overdue=1"
        )
        expect(page.locator("main")).to_contain_text(w.branch.name)
        shot(page, "desktop-overdue-list")
        context.close()


def test_on_a_phone_the_charts_are_narrow_and_lead_to_their_lists(browser, live_server, dash):
    w = dash.world
    with time_machine.travel(NOW, tick=True):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        page = context.new_page()
        sign_in(page, live_server, w.parent_reviewer)
        page.goto(live_server.url + reverse("reports:dashboard_home"))
        expect(page).to_have_url(live_server.url + reverse("reports:dashboard", args=[w.party_committee.pk]))
        expect(page.locator("#kpi-branches")).to_have_text("2")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        expect(page.locator("#panel-stars .chart-wide")).to_be_hidden()
        narrow = page.locator("#panel-stars .chart-narrow svg.chart")
        expect(narrow).to_be_visible()
        assert narrow.bounding_box()["width"] > 300  # the chart fills the phone's width
        expect(page.locator("#panel-trend .phone-chart")).to_be_visible()
        # The chart's text stays legible: the narrow drawing is hardly scaled down.
        scale = page.evaluate(
            "(() => { const s = document.querySelector('#panel-stars .chart-narrow svg');"
            " return s.getBoundingClientRect().width / s.viewBox.baseVal.width; })()"
        )
        assert scale > 0.85
        shot(page, "phone-dashboard")

        page.locator('#panel-stars .chart-narrow a[href$="stars=4"]').first.click()
        rows = page.locator("#dash-branch-list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(w.sibling_branch.name)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "phone-branch-list")
        context.close()


def test_the_meeting_room_screen_fits_16_to_9(browser, live_server, dash):
    w = dash.world
    with time_machine.travel(NOW, tick=True):
        context = browser.new_context(viewport=SCREEN, locale="zh-CN")
        page = context.new_page()
        sign_in(page, live_server, w.staff)
        page.goto(live_server.url + reverse("reports:dashboard_screen", args=[w.committee.pk]))
        expect(page.locator("body.dash-screen")).to_be_visible()
        assert page.locator('meta[http-equiv="refresh"]').get_attribute("content") == "300"
        assert page.evaluate("document.documentElement.scrollHeight") <= SCREEN["height"]
        assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(11, 26, 46)"
        shot(page, "screen-16x9", full_page=False)
        context.close()
