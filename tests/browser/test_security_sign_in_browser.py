"""In a real browser: the line about the previous sign-in, the idle timeout, the address limit."""

import re
import time

import pytest
from playwright.sync_api import expect

from branches.demo import DEMO_FAILED_ADDRESS, DEMO_PASSWORD, DEMO_PREVIOUS_ADDRESS, load_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.locator("main form button[type=submit]").click()


def test_after_signing_in_the_demo_secretary_sees_the_previous_sign_in_and_the_failures(
    page, live_server, screenshot
):
    load_demo()
    sign_in(page, live_server, "shuji", DEMO_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    line = page.locator("main .alert", has_text="您上次登录")
    expect(line).to_contain_text(f"地址 {DEMO_PREVIOUS_ADDRESS}")
    expect(line).to_contain_text("此后以您的用户名登录失败 2 次")
    assert DEMO_FAILED_ADDRESS not in line.inner_text()  # the count, not who tried
    screenshot(page, "1-home-with-previous-sign-in")

    # Signed in again (a new browser session): the previous sign-in is the one just made, with no
    # failures since.
    page.context.clear_cookies()
    sign_in(page, live_server, "shuji", DEMO_PASSWORD)
    line = page.locator("main .alert", has_text="您上次登录")
    expect(line).to_contain_text("地址 127.0.0.1")
    expect(line).not_to_contain_text("失败")
    screenshot(page, "2-home-after-the-second-sign-in")


def test_an_idle_session_ends_with_a_message_on_the_sign_in_page(page, live_server, settings, screenshot):
    settings.SESSION_IDLE_TIMEOUT = 2
    load_demo()
    sign_in(page, live_server, "shuji", DEMO_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")

    time.sleep(3.5)
    page.reload()

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.locator("main")).to_contain_text("无操作，已自动退出，请重新登录")
    screenshot(page, "1-signed-out-after-idling")

    page.get_by_label("用户名").fill("shuji")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/")


def test_many_names_from_one_address_meet_the_address_limit(page, live_server, settings, screenshot):
    settings.SIGN_IN_ADDRESS_LIMIT = 3
    load_demo()
    for number in range(3):
        sign_in(page, live_server, f"guess{number}", "wrong")
    sign_in(page, live_server, "shuji", DEMO_PASSWORD)

    expect(page.locator("main .address-refused")).to_contain_text("登录已暂停")
    expect(page.locator("main .address-refused")).to_contain_text("没有任何账号被锁定")
    screenshot(page, "1-address-paused")
