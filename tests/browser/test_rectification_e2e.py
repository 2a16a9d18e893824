"""A rectification task in a real browser, with the demo users.

赵志强 (shenpi, approver) lowers the star of 办公室党支部 through the branch page's form → the task
is opened for its secretary 王红梅 (shuji) and linked from the branch page's timeline → shuji
reports with evidence (on a phone) → 李建国 (chushen, parent reviewer) sends it back with the
reason → shuji reports again → chushen accepts. The task page and the branch page show each step.

Screenshots (desktop 1280 and phone 390×844) go to /tmp/shots/rect/.
"""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from branches.demo import COMMITTEE_CODE, load_demo
from branches.models import Organization, User
from rectification.models import RectificationEvent, RectificationTask, SourceKind, TaskStatus
from reviews.models import AssessmentStatus
from tests.browser.helpers import DemoBrowser
from tests.factories import make_assessment, make_certificate, make_cycle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BRANCH = "BJ-FGW-01"
SHOTS = Path("/tmp/shots/rect")  # noqa: S108 - where the session looks at them
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _world():
    load_demo()
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    branch = Organization.objects.get(code=BRANCH)
    cycle = make_cycle(committee, opened_by=User.objects.get(username="shenpi"), name="往届星级认定")
    make_certificate(
        make_assessment(cycle, branch, status=AssessmentStatus.CERTIFIED, stars=4),
        stars=4,
        issued_at=timezone.now() - datetime.timedelta(days=200),
        valid_until=timezone.localdate() + datetime.timedelta(days=500),
    )
    # An earlier task of the branch, past its deadline: red on the lists and the home pages.
    late = manual_task(branch, title="党费收缴台账整改")
    RectificationTask.objects.filter(pk=late.pk).update(
        deadline=timezone.localdate() - datetime.timedelta(days=3)
    )
    return branch


def manual_task(branch, *, title):
    from rectification.services import open_task

    return open_task(
        committee=Organization.objects.get(code=COMMITTEE_CODE),
        branch=branch,
        title=title,
        requirement="按月收缴党费并登记台账。",
        owner=User.objects.get(username="shuji"),
        deadline=timezone.localdate() + datetime.timedelta(days=10),
        source_kind=SourceKind.MANUAL,
        actor=User.objects.get(username="chushen"),
    )


def _report(ui, page, task, text: str, tmp_path, file_name: str, form_shot: str = "") -> None:
    page.goto(ui.url("rectification:task_detail", task.pk))
    page.locator(f"a[href='{ui.url('rectification:task_report', task.pk).removeprefix(ui.base)}']").click()
    page.locator("textarea[name=text]").fill(text)
    evidence = tmp_path / file_name
    evidence.write_bytes(PDF)
    page.locator("input[name=files]").set_input_files(str(evidence))
    if form_shot:
        shot(page, form_shot)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(ui.url("rectification:task_detail", task.pk))


def test_a_downgrade_opens_a_task_reported_sent_back_and_accepted(page, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    branch = _world()
    ui = DemoBrowser(page, live_server)
    page.set_viewport_size(DESKTOP)

    # --- 1. The approver lowers the star on the branch page ----------------------------------------
    ui.sign_in("shenpi")
    ui.goto("reviews:branch_detail", branch.pk)
    page.locator(f"a[href='{ui.url('reviews:branch_downgrade', branch.pk).removeprefix(ui.base)}']").click()
    page.locator("select[name=to_stars]").select_option("3")
    page.locator("input[name=violation]").fill("违反组织生活制度")
    page.locator("textarea[name=reason]").fill("连续两个月未召开支委会。")
    page.locator("input[name=confirm]").check()
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(ui.url("reviews:branch_detail", branch.pk))
    task = RectificationTask.objects.get(branch=branch, source_kind=SourceKind.DOWNGRADE)
    assert (task.source_kind, task.status, task.owner.username) == (
        SourceKind.DOWNGRADE,
        TaskStatus.OPEN,
        "shuji",
    )
    expect(page.locator(".alert-info")).to_contain_text(task.title)
    task_link = page.locator(f"#branch-timeline a[href='/rectification/{task.pk}/']")
    expect(task_link.first).to_be_visible()
    shot(page, "01-downgrade-opens-the-task-desktop")

    # --- 2. The secretary sees it on the home page and reports with evidence, on a phone ----------------
    page.set_viewport_size(PHONE)
    ui.sign_in("shuji")
    expect(page.locator("#sec-rectification")).to_be_visible()
    shot(page, "02-home-secretary-phone")
    page.locator(
        "section[aria-labelledby=sec-rectification] a.rect-overdue, section[aria-labelledby=sec-rectification] a.btn"
    ).last.click()
    page.goto(ui.url("rectification:task_detail", task.pk))
    shot(page, "03-task-open-phone")
    _report(
        ui, page, task, "已召开支委会，制定了整改方案。", tmp_path, "整改方案.pdf", "03b-report-form-phone"
    )
    expect(page.locator(".rect-report")).to_contain_text("整改方案")
    expect(page.locator("a.rect-file")).to_contain_text("整改方案.pdf")
    shot(page, "04-reported-phone")

    # --- 3. The parent reviewer sends it back -----------------------------------------------------------
    page.set_viewport_size(DESKTOP)
    ui.sign_in("chushen")
    ui.goto("rectification:task_send_back", task.pk)
    page.locator("textarea[name=reason]").fill("只有方案，请补充落实情况和会议记录。")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(ui.url("rectification:task_detail", task.pk))
    expect(page.locator(".task-event[data-action=send_back]")).to_contain_text("请补充落实情况")
    shot(page, "05-sent-back-desktop")

    # --- 4. The secretary reports again ------------------------------------------------------------------
    ui.sign_in("shuji")
    _report(ui, page, task, "已补充两次支委会会议记录。", tmp_path, "会议记录.pdf")

    # --- 5. The parent reviewer accepts, after confirming -------------------------------------------------
    ui.sign_in("chushen")
    ui.goto("rectification:task_detail", task.pk)
    page.locator(f"a[href='/rectification/{task.pk}/accept/']").click()
    page.locator("main form button[type=submit]").click()  # not confirmed: refused, nothing lost
    expect(page.locator("input[name=confirm]")).to_be_visible()
    page.locator("input[name=confirm]").check()
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(ui.url("rectification:task_detail", task.pk))
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    steps = ["open", "report", "send_back", "report", "accept"]
    assert (
        list(
            RectificationEvent.objects.filter(task=task).order_by("at", "pk").values_list("action", flat=True)
        )
        == steps
    )
    expect(page.locator(".task-event")).to_have_count(len(steps))
    for action in steps:
        expect(page.locator(f".task-event[data-action={action}]").first).to_be_visible()
    shot(page, "06-accepted-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "07-accepted-phone")

    # --- 6. The branch page's timeline shows each step, linked to the task ----------------------------------
    page.set_viewport_size(DESKTOP)
    ui.goto("reviews:branch_detail", branch.pk)
    entries = page.locator("#branch-timeline li[data-kind=rectification]")
    expect(entries).to_have_count(len(steps) + 1)  # and the earlier task's opening
    expect(page.locator(f"#branch-timeline a[href='/rectification/{task.pk}/']")).to_have_count(len(steps))
    shot(page, "08-branch-timeline-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "09-branch-timeline-phone")
    ui.goto("rectification:task_list")
    expect(page.locator("a.rect-task.rect-overdue")).to_have_count(1)
    shot(page, "10-task-list-phone")
    page.set_viewport_size(DESKTOP)
    page.goto(ui.url("rectification:task_list") + "?state=all")
    expect(page.locator("a.rect-task")).to_have_count(2)
    shot(page, "11-task-list-all-desktop")
    ui.goto("home")
    expect(page.locator("section[aria-labelledby=sec-rectification] .rect-home-overdue")).to_be_visible()
    shot(page, "12-home-parent-reviewer-desktop")
