"""In a real browser (live server, DEBUG off): the 404 and 403 pages are Chinese, in the layout, with a way home."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.test_login_smoke import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_secretary_meets_the_chinese_404_and_403_pages_and_finds_the_way_home(
    page, live_server, world, screenshot, settings
):
    assert settings.DEBUG is False
    sign_in(page, live_server, world.secretary.username, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")

    # A branch of the other committee: outside the secretary's scope, so "not found".
    response = page.goto(live_server.url + reverse("reviews:branch_detail", args=[world.other_branch.pk]))
    assert response.status == 404
    expect(page).to_have_title(re.compile("页面不存在"))
    card = page.locator(".error-page")
    expect(card.locator("h1")).to_have_text("页面不存在")
    expect(card).to_contain_text("不在您所属组织的范围内")
    expect(page.get_by_text(world.other_branch.name)).to_have_count(0)
    navigation = page.locator("nav.navbar-party")
    expect(navigation.get_by_role("link", name="我的工作")).to_be_visible()
    expect(navigation).to_contain_text(world.secretary.display_name)
    screenshot(page, "1-not-found")

    # The secretary's own branch, but lowering its star is the approver's: "not allowed".
    detail = live_server.url + reverse("reviews:branch_detail", args=[world.branch.pk])
    page.goto(detail)
    response = page.goto(
        live_server.url + reverse("reviews:branch_downgrade", args=[world.branch.pk]), referer=detail
    )
    assert response.status == 403
    expect(card.locator("h1")).to_have_text("无权访问")
    expect(page.locator("#error-reason")).to_have_text("您的角色无权执行此操作。")
    expect(navigation.get_by_role("link", name="我的工作")).to_be_visible()
    screenshot(page, "2-forbidden")

    # Back to the page before, then home: both links work.
    page.locator("#error-back").click()
    expect(page).to_have_url(detail)
    page.go_back()
    page.get_by_role("link", name="返回我的工作").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("main h1")).to_have_text("我的工作")


def test_the_404_page_fits_a_phone(page, live_server, world, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, world.secretary.username, PASSWORD)
    page.goto(f"{live_server.url}/no-such-page/")
    expect(page.locator(".error-page h1")).to_have_text("页面不存在")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_role("link", name="返回我的工作")).to_be_visible()
    screenshot(page, "phone")


@pytest.mark.urls("tests.test_error_pages")
def test_a_crash_shows_the_chinese_500_page_with_the_sites_look(page, live_server, screenshot):
    response = page.goto(f"{live_server.url}/test-crash/")
    assert response.status == 500
    expect(page.locator(".error-page h1")).to_have_text("服务器出错了")
    expect(page.locator("nav.navbar-party")).to_be_visible()
    # The site's stylesheet is loaded: the navigation bar is party red.
    colour = page.locator("nav.navbar-party").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(200, 16, 46)"
    screenshot(page, "server-error")
    page.get_by_role("link", name="返回我的工作").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
