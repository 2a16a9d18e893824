"""Smoke tests in a real browser: sign in, a wrong password, sign out, the home page on a phone."""

import re

import pytest
from playwright.sync_api import expect

from branches.roles import Role
from branches.services.organizations import assign_role
from tests.factories import PASSWORD
from tests.test_shell import DJANGO_WRONG_PASSWORD_ZH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME_HEADING_ZH = "我的工作"

PHONE = {"width": 390, "height": 844}


def sign_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    # Field labels come from Django's own zh_Hans catalogue.
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.locator("main form button[type=submit]").click()


def test_user_signs_in_through_the_login_page_and_sees_the_home_page(page, live_server, world, screenshot):
    page.goto(f"{live_server.url}/")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    screenshot(page, "1-login-page")

    page.get_by_label("用户名").fill("zhangwei")
    page.get_by_label("密码").fill(PASSWORD)
    screenshot(page, "2-filled-in")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("nav")).to_contain_text("张伟")
    expect(page.locator("main")).to_contain_text("教育局第一党支部")
    expect(page.locator("main h1")).to_have_text(HOME_HEADING_ZH)
    screenshot(page, "3-home-page")


def test_wrong_password_shows_the_error_on_the_login_page(page, live_server, world, screenshot):
    sign_in(page, live_server, "zhangwei", "not the password")

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("main .alert-danger")).to_contain_text(DJANGO_WRONG_PASSWORD_ZH)
    expect(page.get_by_label("用户名")).to_have_value("zhangwei")
    screenshot(page, "1-error-shown")


def test_user_signs_out_from_the_user_menu(page, live_server, world, screenshot):
    sign_in(page, live_server, "zhangwei", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")

    page.locator("#nav-user").click()
    screenshot(page, "1-user-menu-open")
    page.locator("nav form[action='/accounts/logout/'] button").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    screenshot(page, "2-signed-out")


def test_home_page_fits_a_phone_with_the_navbar_collapsed(page, live_server, world, screenshot):
    assign_role(user=world.secretary, role=Role.PARENT_REVIEWER, organization=world.party_committee)
    assign_role(user=world.secretary, role=Role.STAFF, organization=world.committee)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "zhangwei", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")

    toggler = page.locator("nav .navbar-toggler")
    expect(toggler).to_be_visible()
    expect(page.locator("#main-nav")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.locator("main .role-card")).to_have_count(3)
    screenshot(page, "1-collapsed")

    toggler.click()
    expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
    expect(page.locator("#main-nav")).to_contain_text("张伟")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "2-menu-open")


def test_sixth_sign_in_after_five_wrong_passwords_shows_the_lockout_page(
    page, live_server, world, screenshot, settings
):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        sign_in(page, live_server, "zhangwei", "not the password")

    response_codes = []
    page.on("response", lambda response: response_codes.append(response.status))
    sign_in(page, live_server, "zhangwei", PASSWORD)

    expect(page.locator("main .alert-danger .bi-lock-fill")).to_be_visible()
    assert 429 in response_codes
    screenshot(page, "1-locked-out")


# Each demo role, and what its home page must show in Chinese (a section heading of its own).
DEMO_ROLE_HOMES = [
    ("shuji", "支部书记", "我的党支部"),
    ("chushen", "初审人", "初审"),
    ("kaohe1", "考核组成员", "考核打分"),
    ("shenpi", "工委审批人", "概况"),
    ("dangwu", "党务工作者", "概况"),
]


@pytest.mark.parametrize(("username", "role_label", "section"), DEMO_ROLE_HOMES)
def test_each_demo_role_signs_in_and_sees_its_home_page_in_chinese(
    page, live_server, screenshot, username, role_label, section
):
    from branches.demo import DEMO_PASSWORD, load_demo

    load_demo()
    sign_in(page, live_server, username, DEMO_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("main h1")).to_have_text(HOME_HEADING_ZH)
    expect(page.locator("main")).to_contain_text(role_label)
    expect(page.locator("main h2", has_text=section).first).to_be_visible()
    screenshot(page, f"demo-home-{username}")
