"""The directory in a real browser: staff create a person, grant a role and hand over the one-time
password; the person signs in and must choose their own. The organization tree on a phone.

Screenshots: test-output/screenshots/test_directory_*.png.
"""

import re

import pytest
from playwright.sync_api import expect

from branches.demo import load_demo as load_organizations
from branches.models import AuditEntry, Organization, RoleAssignment, User
from branches.roles import Role
from tests.browser.helpers import DemoBrowser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
NEW_PASSWORD = "Zhixin-Dangjian-2026"  # the password the new person chooses

WIDER_THAN = """(width) => Array.from(document.querySelectorAll("body *")).filter((element) => {
  for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
    const overflow = getComputedStyle(node).overflowX;
    if (overflow === "auto" || overflow === "scroll") { return false; }
  }
  const box = element.getBoundingClientRect();
  return box.width > 0 && box.right > width + 0.5;
}).map((element) => element.tagName.toLowerCase() + "." + element.className)"""


def test_directory_staff_create_a_person_who_must_change_the_one_time_password(
    browser, live_server, screenshot
):
    load_organizations()
    branch = Organization.objects.filter(kind="branch", is_active=True).order_by("code").first()
    context = browser.new_context(viewport=PHONE, locale="zh-CN", reduced_motion="reduce")
    demo = DemoBrowser(context.new_page(), live_server)
    page = demo.page
    demo.sign_in("dangwu")

    demo.goto("directory:person_create")
    page.locator("input[name=username]").fill("xinshuji")
    page.locator("input[name=real_name]").fill("周新")
    page.locator("input[name=phone]").fill("13900001111")
    page.locator("main form button[type=submit]").click()
    person = User.objects.get(username="xinshuji")
    expect(page).to_have_url(re.compile(rf"/directory/people/{person.pk}/$"))
    one_time = page.locator("#one-time-password").inner_text().strip()
    assert person.check_password(one_time)
    screenshot(page, "one-time-password")
    # Shown once: the next visit of the page no longer has it.
    page.reload()
    expect(page.locator("#one-time-password")).to_have_count(0)

    page.get_by_role("link", name=re.compile("Grant a role|分配角色")).click()
    page.locator("select[name=role]").select_option(Role.BRANCH_SECRETARY)
    page.locator("select[name=organization]").select_option(str(branch.pk))
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".person-roles")).to_contain_text(branch.name)
    assert RoleAssignment.objects.filter(
        user=person, role=Role.BRANCH_SECRETARY, organization=branch
    ).exists()
    assert AuditEntry.objects.filter(actor__username="dangwu", target_id=str(person.pk)).count() == 2

    # The person signs in with the one-time password and is sent to choose their own.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("xinshuji")
    page.get_by_label("密码").fill(one_time)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/password/")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/password/")
    screenshot(page, "forced-change")
    page.locator("input[name=old_password]").fill(one_time)
    page.locator("input[name=new_password1]").fill(NEW_PASSWORD)
    page.locator("input[name=new_password2]").fill(NEW_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/password/done/")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/")
    assert not User.objects.get(pk=person.pk).must_change_password
    context.close()


def test_directory_the_organization_tree_on_a_phone(browser, live_server, screenshot):
    load_organizations()
    context = browser.new_context(viewport=PHONE, locale="zh-CN", reduced_motion="reduce")
    demo = DemoBrowser(context.new_page(), live_server)
    page = demo.page
    demo.sign_in("dangwu")
    demo.goto("directory:org_tree")
    expect(page.locator(".org-node").first).to_be_visible()
    assert page.locator(".org-node").count() == Organization.objects.exclude(kind="branch").count()
    assert page.evaluate(WIDER_THAN, PHONE["width"]) == []
    screenshot(page, "org-tree")

    parent = Organization.objects.filter(kind="party_committee").order_by("sort_order", "code").first()
    page.locator(".org-node a", has_text=parent.name).click()
    expect(page.locator(".branch-table tbody tr").first).to_be_visible()
    assert page.evaluate(WIDER_THAN, PHONE["width"]) == []
    screenshot(page, "org-branches")

    demo.goto("directory:person_list")
    expect(page.locator(".person-row").first).to_be_visible()
    assert page.evaluate(WIDER_THAN, PHONE["width"]) == []
    screenshot(page, "people")

    demo.goto("directory:audit")
    expect(page.locator(".audit-rows .list-group-item").first).to_be_visible()
    assert page.evaluate(WIDER_THAN, PHONE["width"]) == []
    screenshot(page, "audit")
    context.close()


def test_directory_the_staff_navbar_search_at_1280_and_1440_pixels(browser, live_server, screenshot):
    """Staff have the most menus: at 1280 px the bar shows a search icon (the box had a few pixels
    left), from 1400 px the box, wide enough for a name; the brand's star is never cropped."""
    load_organizations()
    for width, box in ((1280, False), (1440, True)):
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
        demo = DemoBrowser(context.new_page(), live_server)
        page = demo.page
        demo.sign_in("dangwu")
        demo.goto("home")
        assert page.locator("#nav-search").is_visible() is box
        assert page.locator("#nav-search-link").is_visible() is not box
        star = page.locator(".navbar-brand .bi-star-fill").bounding_box()
        brand = page.locator(".navbar-brand").bounding_box()
        assert star["width"] >= 14 and brand["x"] + brand["width"] >= star["x"] + star["width"]
        assert page.evaluate(WIDER_THAN, width) == []
        screenshot(page, f"navbar-{width}")
        if box:
            assert page.locator("#nav-search").bounding_box()["width"] >= 120
            page.locator("#nav-search").fill("第一党支部")
            page.locator("#nav-search").press("Enter")
        else:
            page.locator("#nav-search-link").click()
            expect(page.locator("#search-q")).to_be_focused()
            page.locator("#search-q").fill("第一党支部")
            page.locator("#search-q").press("Enter")
        expect(page.locator(".search-results .list-group-item").first).to_contain_text("第一党支部")
        context.close()


def test_directory_the_staff_navbar_in_english_at_1440_pixels(browser, live_server, screenshot):
    """English labels are longer: at 1440 px the staff's bar keeps the brand's star, shows the
    search as an icon and the language buttons on one line, and nothing leaves the screen."""
    load_organizations()
    context = browser.new_context(viewport={"width": 1440, "height": 800}, locale="zh-CN")
    demo = DemoBrowser(context.new_page(), live_server)
    page = demo.page
    demo.sign_in("dangwu")
    demo.goto("directory:person_list")
    page.locator(".navbar-party button[value='en']").click()  # the bar's own language switch
    expect(page.locator("html")).to_have_attribute("lang", "en")
    star = page.locator(".navbar-brand .bi-star-fill").bounding_box()
    assert star is not None and star["width"] >= 14 and star["x"] >= 0
    assert page.locator("#nav-search-link").is_visible() and not page.locator("#nav-search").is_visible()
    buttons = page.locator(".navbar-party .btn-group .btn")
    assert buttons.count() == 2
    assert buttons.nth(0).bounding_box()["height"] < 40  # one line, not one character a line
    user = page.locator("#nav-user").bounding_box()
    assert user["x"] + user["width"] <= 1440
    assert page.evaluate(WIDER_THAN, 1440) == []
    screenshot(page, "navbar-1440-en")
    context.close()
