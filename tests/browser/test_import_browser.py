"""The Excel import in a real browser: a bad row stops it, the corrected file goes through.

Staff of the committee upload a file with a row under an unknown parent: the preview shows
that row first with its error and the confirm button is disabled. They upload the corrected
file, confirm, and the result page shows the new person's one-time password once.
Screenshots go to test-output/screenshots/<test>-<step>.png.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from branches.models import Organization, User
from branches.spreadsheets import Sheet, write_workbook
from directory.imports.workbook import ORG_HEADERS, PEOPLE_HEADERS
from tests.browser.test_login_smoke import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PEOPLE = [["wangxin", "王新", "13700000000", "wangxin@example.cn", "支部书记", "W1"]]


def import_file(path, organizations):
    write_workbook(
        [Sheet("组织", list(ORG_HEADERS), organizations), Sheet("人员", list(PEOPLE_HEADERS), PEOPLE)], path
    )
    return str(path)


def test_staff_import_a_file_after_correcting_its_bad_row(
    page, live_server, world, private_media, tmp_path, screenshot
):
    bad = import_file(
        tmp_path / "bad.xlsx",
        [
            ["W1", "新建第一党支部", "党支部", "P9", "", 1],
            ["W2", "新建第二党支部", "党支部", "P1", "特色", 2],
        ],
    )
    good = import_file(
        tmp_path / "good.xlsx",
        [
            ["W1", "新建第一党支部", "党支部", "P1", "", 1],
            ["W2", "新建第二党支部", "党支部", "P1", "特色", 2],
        ],
    )
    sign_in(page, live_server, "wudangwu", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")

    page.goto(live_server.url + reverse("directory:org_tree"))
    page.locator("#org-import").click()
    expect(page).to_have_url(live_server.url + reverse("directory:import"))
    expect(page.locator("#import-template")).to_be_visible()
    screenshot(page, "1-upload-page")

    page.locator("input[type=file][name=file]").set_input_files(bad)
    page.locator("#import-upload").click()
    first = page.locator("#import-rows tbody tr").first
    expect(first).to_have_attribute("data-action", "error")
    expect(first).to_have_attribute("data-row", "2")
    expect(first.locator(".import-errors")).to_contain_text("P9")
    expect(page.locator("#import-confirm")).to_be_disabled()
    expect(page.locator("#import-blocked")).to_be_visible()
    screenshot(page, "2-preview-with-error")
    assert not Organization.objects.filter(code__in=["W1", "W2"]).exists()

    page.get_by_role(
        "link", name=page.locator("main .card a.btn-outline-secondary").inner_text().strip()
    ).click()
    page.locator("input[type=file][name=file]").set_input_files(good)
    page.locator("#import-upload").click()
    expect(page.locator("#import-rows tbody tr[data-action=error]")).to_have_count(0)
    expect(page.locator("#import-rows tbody tr[data-action=create]")).to_have_count(3)
    expect(page.locator("#import-confirm")).to_be_enabled()
    screenshot(page, "3-preview-clean")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#import-confirm").click()
    expect(page.locator("#import-summary")).to_be_visible()
    passwords = page.locator("#import-passwords tbody tr")
    expect(passwords).to_have_count(1)
    expect(passwords.first).to_contain_text("wangxin")
    password = passwords.first.locator("code").inner_text()
    screenshot(page, "4-result-with-password")
    assert User.objects.get(username="wangxin").check_password(password)
    assert Organization.objects.get(code="W2").parent == world.party_committee

    page.reload()
    expect(page.locator("#import-passwords")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(password)
    screenshot(page, "5-result-again")


def test_a_running_import_shows_its_progress_then_its_result(
    page, live_server, world, private_media, tmp_path, screenshot
):
    from reports.models import JobRun, JobStatus

    good = import_file(tmp_path / "good.xlsx", [["W1", "新建第一党支部", "党支部", "P1", "", 1]])
    sign_in(page, live_server, "wudangwu", PASSWORD)
    page.goto(live_server.url + reverse("directory:import"))
    page.locator("input[type=file][name=file]").set_input_files(good)
    page.locator("#import-upload").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#import-confirm").click()
    expect(page.locator("#import-summary")).to_be_visible()
    result_url = page.url

    # As a worker would leave it halfway through a large file.
    JobRun.objects.update(status=JobStatus.RUNNING, progress_done=4200, progress_total=9800)
    page.goto(result_url)
    expect(page.locator("#import-progress")).to_contain_text("4200")
    screenshot(page, "1-progress")
    JobRun.objects.update(status=JobStatus.SUCCEEDED, progress_done=9800)
    expect(page.locator("#import-summary")).to_be_visible(timeout=10_000)  # the page refreshed itself
    screenshot(page, "2-done")
