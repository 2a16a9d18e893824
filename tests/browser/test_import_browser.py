"""The Excel import in a real browser: a bad row stops it, the corrected file goes through.

Staff of the committee upload a file with a row under an unknown parent: the preview shows
that row first with its error and the confirm button is disabled. They upload the corrected
file, confirm, and the result page shows the new person's one-time password once.

A committee moving in: the demo's staff member downloads the template, uploads a generated
file of 8 party committees, 830 branches and 1,000 people, reads the paginated preview,
confirms, follows the job to its end and finds the organizations in the tree; the same file
again changes nothing; a file with bad rows is refused row by row and imports nothing.
Screenshots go to test-output/screenshots/<test>-<step>.png (desktop and a 390×844 phone).
"""

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import expect

from branches.demo import COMMITTEE_CODE
from branches.demo import load_demo as load_demo_tree
from branches.models import AuditEntry, Organization, OrgKind, RoleAssignment, User
from branches.spreadsheets import Sheet, write_workbook
from directory.imports.samples import write_generated_committee
from directory.imports.workbook import ORG_HEADERS, PEOPLE_HEADERS
from reports.models import JobRun, JobStatus
from tests.browser.helpers import DemoBrowser
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


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def both_screens(page, screenshot, step: str) -> None:
    """A screenshot on the desktop, then the same page on a phone."""
    screenshot(page, f"{step}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, f"{step}-phone")
    page.set_viewport_size(DESKTOP)


def counts(page, card: int) -> dict[str, int]:
    """The preview's counts of one sheet (0: organizations, 1: people)."""
    box = page.locator("#import-counts .card").nth(card)
    return {
        name: int(box.locator(f"[data-count={name}]").inner_text())
        for name in ("created", "updated", "unchanged", "errors")
    }


def test_a_committee_of_830_branches_moves_in_through_the_site(
    browser, live_server, private_media, tmp_path, screenshot
):
    load_demo_tree()
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    committee_file = tmp_path / "组织人员.xlsx"
    write_generated_committee(
        committee_file, prefix="Q", branches=830, party_committees=8, people=1000, committee=COMMITTEE_CODE
    )
    context = browser.new_context(
        viewport=DESKTOP, locale="zh-CN", reduced_motion="reduce", accept_downloads=True
    )
    demo = DemoBrowser(context.new_page(), live_server)
    page = demo.page
    page.set_default_timeout(20_000)
    demo.sign_in("dangwu")

    # The import is reached from the organization tree; the template downloads.
    demo.goto("directory:org_tree")
    page.locator("#org-import").click()
    expect(page).to_have_url(demo.url("directory:import"))
    with page.expect_download() as download:
        page.locator("#import-template").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    download.value.save_as(tmp_path / download.value.suggested_filename)
    template = load_workbook(tmp_path / download.value.suggested_filename, read_only=True)
    assert template.sheetnames[:2] == ["组织", "人员"]
    assert next(template["组织"].iter_rows(values_only=True)) == ORG_HEADERS

    # The preview: counts of both sheets, every row new, a hundred rows a page.
    orgs_before, people_before = Organization.objects.count(), User.objects.count()
    page.locator("input[type=file][name=file]").set_input_files(str(committee_file))
    page.locator("#import-upload").click()
    expect(page.locator("#import-counts")).to_be_visible()
    assert counts(page, 0) == {"created": 838, "updated": 0, "unchanged": 0, "errors": 0}
    assert counts(page, 1) == {"created": 1008, "updated": 0, "unchanged": 0, "errors": 0}
    rows = page.locator("#import-rows tbody tr")
    expect(rows).to_have_count(100)
    expect(page.locator("#import-rows tbody tr[data-action=create]")).to_have_count(100)
    expect(rows.first).to_contain_text("新建")
    expect(page.locator(".pagination")).to_contain_text("共 19 页")
    expect(page.locator("#import-confirm")).to_be_enabled()
    both_screens(page, screenshot, "1-preview")
    preview_url = page.url
    page.locator(".pagination a.page-link").last.click()  # 下一页
    expect(page.locator(".pagination")).to_contain_text("第 2 页")
    expect(page.locator("#import-rows tbody tr[data-action=create]")).to_have_count(100)
    page.goto(f"{preview_url.split('?')[0]}?page=19")
    expect(page.locator("#import-rows tbody tr")).to_have_count(1846 - 18 * 100)
    assert Organization.objects.count() == orgs_before  # nothing written by a preview

    # Confirm: the job runs, its page follows it to the end.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#import-confirm").click()
    expect(page.locator("#import-summary")).to_be_visible(timeout=120_000)
    run = JobRun.objects.get(task_name="directory.tasks.import_organizations_and_people")
    assert run.status == JobStatus.SUCCEEDED
    assert run.progress_done == run.progress_total == 838 + 1008
    expect(page.locator("#import-passwords tbody tr")).to_have_count(1000)
    both_screens(page, screenshot, "2-done")

    subtree = Organization.objects.filter(path__startswith=committee.path)
    assert Organization.objects.count() == orgs_before + 838
    assert subtree.filter(code__startswith="QZB", kind=OrgKind.BRANCH).count() == 830
    assert User.objects.count() == people_before + 1000
    assert RoleAssignment.objects.filter(user__username__startswith="quser").count() == 1008
    # The tree shows them: every non-branch organization a node, the new party committees among them.
    demo.goto("directory:org_tree")
    expect(page.locator(".org-node").first).to_be_visible()
    assert page.locator(".org-node").count() == Organization.objects.exclude(kind=OrgKind.BRANCH).count()
    expect(page.locator(".org-node", has_text="Q第8机关党委")).to_be_visible()
    page.locator(".org-node a", has_text="Q第1机关党委").click()
    expect(page.locator(".branch-table tbody tr").first).to_be_visible()
    first_party_committee = Organization.objects.get(code="QDW001")
    assert page.locator("main").inner_text().count("党支部") >= 1
    assert (
        Organization.objects.filter(parent=first_party_committee).count() == 830 // 8 + 1
    )  # 104 (6 of 8 get 104)
    screenshot(page, "3-party-committee")

    # The same file again: every row unchanged, nothing to confirm, nothing written.
    audit_rows = AuditEntry.objects.count()
    demo.goto("directory:import")
    page.locator("input[type=file][name=file]").set_input_files(str(committee_file))
    page.locator("#import-upload").click()
    assert counts(page, 0) == {"created": 0, "updated": 0, "unchanged": 838, "errors": 0}
    assert counts(page, 1) == {"created": 0, "updated": 0, "unchanged": 1008, "errors": 0}
    expect(page.locator("#import-rows tbody tr[data-action=unchanged]")).to_have_count(100)
    expect(page.locator("#import-rows tbody tr").first).to_contain_text("无变化")
    expect(page.locator("main")).to_contain_text("无需修改")
    expect(page.locator("#import-confirm")).to_be_disabled()
    both_screens(page, screenshot, "4-same-file-again")
    assert AuditEntry.objects.count() == audit_rows

    # A file with bad rows: each shown first with its reason in Chinese; nothing can be imported.
    bad_file = tmp_path / "有错误的行.xlsx"
    write_workbook(
        [
            Sheet(
                "组织",
                list(ORG_HEADERS),
                [
                    ["QX001", "新建第一党支部", "党支部", "QDW001", "", 1],
                    ["QX002", "未知上级党支部", "党支部", "NOPE99", "", 2],
                    ["QX003", "重复编码党支部甲", "党支部", "QDW002", "", 3],
                    ["QX003", "重复编码党支部乙", "党支部", "QDW002", "", 4],
                ],
            ),
            Sheet(
                "人员",
                list(PEOPLE_HEADERS),
                [
                    ["qxin001", "新同志", "", "", "书记", "QX001"],
                    ["quser000001", "Q同志1", "", "", "支部书记", "QZB000001"],  # already holds it
                    ["dangwu", "孙丽", "", "", "支部书记", "QZB000002"],  # herself
                ],
            ),
        ],
        bad_file,
    )
    before = (Organization.objects.count(), User.objects.count(), RoleAssignment.objects.count())
    audit_rows = AuditEntry.objects.count()
    demo.goto("directory:import")
    page.locator("input[type=file][name=file]").set_input_files(str(bad_file))
    page.locator("#import-upload").click()
    expect(page.locator("#import-blocked")).to_be_visible()
    expect(page.locator("#import-confirm")).to_be_disabled()
    errors = page.locator("#import-rows tbody tr[data-action=error]")
    expect(errors).to_have_count(5)
    expected = {
        ("组织", "3"): "未知的上级组织编码“NOPE99”",
        ("组织", "4"): "编码“QX003”在多行中出现",
        ("组织", "5"): "编码“QX003”在多行中出现",
        ("人员", "2"): "未知的角色“书记”",
        ("人员", "4"): "任何人都不能给自己授予角色",
    }
    for (sheet, number), message in expected.items():
        row = page.locator(f"#import-rows tbody tr[data-sheet='{sheet}'][data-row='{number}']")
        expect(row).to_have_attribute("data-action", "error")
        expect(row.locator(".import-errors")).to_contain_text(message)
    # Errors come first; a role already held is not an error (importing again must change nothing).
    expect(page.locator("#import-rows tbody tr").nth(4)).to_have_attribute("data-action", "error")
    held = page.locator("#import-rows tbody tr[data-sheet='人员'][data-row='3']")
    expect(held).to_have_attribute("data-action", "unchanged")
    expect(held).to_contain_text("已担任该角色")
    assert counts(page, 0)["errors"] == 3 and counts(page, 1)["errors"] == 2
    both_screens(page, screenshot, "5-bad-rows")
    assert (Organization.objects.count(), User.objects.count(), RoleAssignment.objects.count()) == before
    assert AuditEntry.objects.count() == audit_rows
    assert not Organization.objects.filter(code__startswith="QX").exists()
    context.close()
