"""A supervision visit recorded on a phone (390 × 844) with a photo, and a task opened from its finding.

The team reviewer's home page lists the liaison branch without a visit this quarter; the visit
is recorded from there with a photo; the visit's page shows the photo and opens a rectification
task in one step, prefilled with the findings and the branch secretary; afterwards the branch
has left the home page's list. Then the approver reads the visit list and the visit at desktop size.

Screenshots: test-output/screenshots/supervision/.
"""

import base64
import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from rectification.models import RectificationTask, SourceKind
from supervision.models import SupervisionVisit
from supervision.services.liaisons import assign_liaisons
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
SHOTS = [Path(__file__).resolve().parents[2] / "test-output" / "screenshots" / "supervision"]


def shot(page, name: str) -> None:
    for folder in SHOTS:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def sign_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/")


def test_a_visit_with_a_photo_on_a_phone_opens_a_task_from_its_finding(
    browser, live_server, world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    reviewer = world.reviewers[0]
    assign_liaisons(
        committee=world.committee,
        member=reviewer,
        branches=[world.branch, world.sibling_branch],
        actor=world.staff,
    )
    context = browser.new_context(viewport=PHONE, locale="zh-CN", reduced_motion="reduce")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, live_server, reviewer.username)

    unvisited = page.locator(".liaison-unvisited li")
    expect(unvisited).to_have_count(2)
    expect(unvisited.nth(0)).to_contain_text(world.branch.name)
    shot(page, "01-phone-home-two-liaison-branches-to-visit")

    unvisited.nth(0).get_by_role("link", name="记录督导").click()
    expect(page.locator("#id_branch")).to_have_value(str(world.branch.pk))
    expect(page.locator(f"input[name=members][value='{reviewer.pk}']")).to_be_checked()
    page.locator(f"input[name=members][value='{world.approver.pk}']").check()
    page.locator("#id_others").fill("党委组织委员")
    page.locator("#id_checked").fill("查阅“三会一课”记录和党费收缴台账。")
    page.locator("#id_findings").fill("10月支委会缺少会议记录。")
    page.locator("#id_photos").set_input_files([{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
    shot(page, "02-phone-visit-form")
    page.locator(".visit-form button[type=submit]").click()

    visit = SupervisionVisit.objects.get()
    expect(page).to_have_url(live_server.url + reverse("supervision:visit_detail", args=[visit.pk]))
    expect(page.locator(".visit-findings")).to_contain_text("10月支委会缺少会议记录。")
    photo = page.locator("img.visit-photo")
    expect(photo).to_have_count(1)
    # The photo is fetched after the page: wait until it has loaded (or failed) before measuring.
    page.wait_for_function("document.querySelector('img.visit-photo').complete")
    assert page.evaluate("document.querySelector('img.visit-photo').naturalWidth") == 1
    shot(page, "03-phone-visit-page")

    page.get_by_role("link", name="下达整改任务").click()
    expect(page.locator("#id_requirement")).to_have_value("10月支委会缺少会议记录。")
    expect(page.locator("#id_owner")).to_have_value(str(world.secretary.pk))
    page.locator("#id_deadline").fill((datetime.date.today() + datetime.timedelta(days=15)).isoformat())
    shot(page, "04-phone-open-task")
    page.locator(".open-task-form button[type=submit]").click()

    task = RectificationTask.objects.get()
    assert (task.source_kind, task.source, task.owner) == (SourceKind.SUPERVISION, visit, world.secretary)
    expect(page.locator(".visit-tasks li")).to_contain_text(task.title)
    shot(page, "05-phone-visit-with-task")

    page.goto(live_server.url + "/")
    expect(unvisited).to_have_count(1)
    expect(unvisited.nth(0)).to_contain_text(world.sibling_branch.name)
    shot(page, "06-phone-home-one-left")

    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN", reduced_motion="reduce").new_page()
    desk.on("pageerror", lambda error: errors.append(error))
    sign_in(desk, live_server, world.approver.username)
    expect(desk.locator(".supervision-coverage")).to_contain_text("1")
    shot(desk, "07-desktop-approver-home")
    desk.goto(live_server.url + reverse("supervision:visit_list"))
    expect(desk.locator(".visit-row")).to_have_count(1)
    shot(desk, "08-desktop-visit-list")
    desk.locator(".visit-row").click()
    expect(desk.locator(".visit-tasks li")).to_have_count(1)
    shot(desk, "09-desktop-visit-page")
    assert errors == []


def test_liaison_branches_given_and_a_stage_application_decided(
    browser, live_server, world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    errors = []
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", reduced_motion="reduce").new_page()
    phone.on("pageerror", lambda error: errors.append(error))
    sign_in(phone, live_server, world.staff.username)
    phone.goto(live_server.url + reverse("supervision:liaison_assign"))
    phone.locator("#id_member").select_option(str(world.reviewers[1].pk))
    phone.locator(f"input[name=branches][value='{world.branch.pk}']").check()
    phone.locator(f"input[name=branches][value='{world.cousin_branch.pk}']").check()
    shot(phone, "10-phone-give-liaison-branches")
    phone.locator(".liaison-form button[type=submit]").click()
    expect(phone.locator(".liaison-table tbody tr")).to_have_count(2)
    shot(phone, "11-phone-liaison-list")

    sign_in(phone, live_server, world.secretary.username)
    phone.get_by_role("link", name="申请晋阶").first.click()
    phone.locator("#id_name").fill("“红色课堂”特色")
    phone.locator("#id_description").fill("每月开展一次红色课堂，党员轮流授课。")
    phone.locator("#id_files").set_input_files(
        [{"name": "特色材料.png", "mimeType": "image/png", "buffer": PNG}]
    )
    shot(phone, "12-phone-stage-application")
    phone.locator(".stage-form button[type=submit]").click()
    expect(phone.locator(".stage-status")).to_have_text("已提交")
    shot(phone, "13-phone-stage-submitted")

    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN", reduced_motion="reduce").new_page()
    desk.on("pageerror", lambda error: errors.append(error))
    sign_in(desk, live_server, world.approver.username)
    desk.locator(".stage-pending").click()
    expect(desk.locator(".stage-row")).to_have_count(1)
    shot(desk, "14-desktop-stage-list")
    desk.locator(".stage-row").click()
    desk.locator(".decide-stage").click()
    desk.locator("input[name=decision][value=approve]").check()
    desk.locator("#id_reason").fill("特色鲜明，经工委研究同意。")
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.locator(".stage-decide-form button[type=submit]").click()
    expect(desk.locator(".stage-status")).to_have_text("已同意")
    shot(desk, "15-desktop-stage-approved")
    desk.goto(live_server.url + reverse("reviews:branch_detail", args=[world.branch.pk]))
    expect(desk.locator("#branch-timeline")).to_contain_text("特色")
    shot(desk, "16-desktop-branch-timeline")
    assert errors == []
