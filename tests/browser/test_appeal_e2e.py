"""An appeal (复核申请) in a real browser, with the demo users.

The branch's result is taken to the public notice through the services: kaohe1 alone scored
it, taking 10 points off items 1.1 and 1.2 (90 points, four stars). Then, in the browser:
shuji's appeal after the window is refused with the reason → shuji appeals in time, contesting
1.1 and 1.2 with a file → shenpi accepts and chooses two re-reviewers (kaohe1, who scored it,
is excluded) → kaohe2 and kaohe3 re-score blind → shenpi changes the star to five → shuji sees
the outcome on the home page and on the assessment page.

Every step leaves a screenshot in test-output/screenshots/appeal/NN-step.png.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from playwright.sync_api import expect

from branches.demo import COMMITTEE_CODE, load_demo
from branches.models import Organization, User
from reviews.demo import DEMO_PDF
from reviews.models import Appeal, AppealEvent, AppealStatus, Assessment, AssessmentStatus
from reviews.selectors import appeal_deadline
from reviews.services.decision import decide_assessment, publicize_cycle
from tests.browser.helpers import DemoBrowser, screenshot_taker
from tests.factories import forward_and_assign, open_default_cycle, standard_items, submit_sheet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BRANCH_CODE = "BJ-FGW-01"  # shuji's branch
CONTESTED = ("1.1", "1.2")
REASON = "1.1、1.2 两项的会议记录已在自评时上传，考核组未予采信，特申请复核。"


@pytest.fixture
def shot(request):
    return screenshot_taker(request.config.rootpath, "appeal")


def zh(message: str, **params) -> str:
    """A message as the Chinese pages show it (the English source until it is translated)."""
    with translation.override("zh-hans"):
        return gettext(message) % params if params else gettext(message)


def published_result() -> Assessment:
    """BJ-FGW-01 through the services: full self-marks, scored by kaohe1 alone at 90, four stars."""
    users = {user.username: user for user in User.objects.all()}
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    cycle = open_default_cycle(committee, users["shenpi"], name="2025—2026年度星级认定（复核演示）")
    items = standard_items(cycle.standard)
    assessment = cycle.assessments.get(branch__code=BRANCH_CODE)
    forward_and_assign(
        assessment,
        secretary=users["shuji"],
        parent=users["chushen"],
        approver=users["shenpi"],
        reviewers=[users["kaohe1"]],
        items=items,
    )
    submit_sheet(
        assessment, users["kaohe1"], items, {code: (Decimal(5), "未见会议记录。") for code in CONTESTED}
    )
    assessment.refresh_from_db()
    decide_assessment(assessment=assessment, actor=users["shenpi"], stars=assessment.proposed_stars)
    publicize_cycle(cycle=cycle, actor=users["shenpi"])
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.PUBLICIZED and assessment.decided_stars == 4
    return assessment


def test_a_branch_appeals_during_its_notice_and_two_new_reviewers_change_its_star(
    page, live_server, settings, tmp_path, shot
):
    settings.MEDIA_ROOT = tmp_path / "media"
    load_demo()
    assessment = published_result()
    by_code = {item.code: item for item in standard_items(assessment.cycle.standard)}
    ui = DemoBrowser(page, live_server)
    page.on("dialog", lambda dialog: dialog.accept())  # every confirmation is answered yes

    # --- 1. after the window the appeal is refused, saying when it ended -------------------------
    deadline = appeal_deadline(assessment)
    with time_machine.travel(deadline + datetime.timedelta(hours=1), tick=True):
        ui.sign_in("shuji")
        expect(
            page.locator(f"a[href='{reverse('reviews:appeal_apply', args=[assessment.pk])}']")
        ).to_have_count(0)
        response = page.goto(ui.url("reviews:appeal_apply", assessment.pk))
        assert response.status == 409
        with translation.override("zh-hans"):
            end = date_format(timezone.localtime(deadline), "DATETIME_FORMAT")
        message = zh("The appeal period ended on %(end)s; the result can no longer be appealed.", end=end)
        expect(page.locator("main .alert-warning")).to_contain_text(message)
        shot(page, "refused-after-the-window")
    assert not Appeal.objects.exists()

    # --- 2. shuji appeals in time from the home page ---------------------------------------------
    ui.sign_in("shuji")
    page.locator(f"a[href='{reverse('reviews:appeal_apply', args=[assessment.pk])}']").first.click()
    expect(page).to_have_url(ui.url("reviews:appeal_apply", assessment.pk))
    shot(page, "appeal-form")
    page.locator("textarea[name=reason]").fill(REASON)
    for code in CONTESTED:
        page.locator(f"input[name=items][value='{by_code[code].pk}']").check()
    page.locator("input[name=files]").set_input_files(
        [{"name": "会议记录.pdf", "mimeType": "application/pdf", "buffer": DEMO_PDF}]
    )
    page.locator("#appeal-form button[type=submit]").click()
    appeal = Appeal.objects.get(assessment=assessment)
    expect(page).to_have_url(ui.url("reviews:appeal_detail", appeal.pk))
    expect(page.locator("main .appeal-status")).to_have_attribute("data-status", AppealStatus.SUBMITTED)
    expect(page.locator("main")).to_contain_text("会议记录.pdf")
    shot(page, "appeal-submitted")

    # --- 3. shenpi accepts and chooses two re-reviewers; kaohe1 is excluded ------------------------
    ui.sign_in("shenpi")
    expect(page.locator("section[aria-labelledby=sec-appeals] .appeals-to-act")).to_contain_text("1")
    page.locator("section[aria-labelledby=sec-appeals] a.btn").click()
    expect(page).to_have_url(ui.url("reviews:appeal_list"))
    page.locator(f"#appeal-list a[href='{reverse('reviews:appeal_detail', args=[appeal.pk])}']").click()
    page.locator(f"a[href='{reverse('reviews:appeal_review', args=[appeal.pk])}']").click()
    page.locator("input[name=decision][value=accept]").check()
    page.locator("textarea[name=reason]").fill("申请理由充分，同意复核。")
    expect(page.locator("input[name=reviewers_wanted]")).to_have_value("2")
    shot(page, "accept")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(ui.url("reviews:appeal_assign", appeal.pk))
    expect(page.locator("#excluded")).to_contain_text("张伟")  # kaohe1 scored the result
    expect(page.locator("#excluded")).to_contain_text(zh("Scored this result before."))
    kaohe = {name: User.objects.get(username=name) for name in ("kaohe1", "kaohe2", "kaohe3")}
    expect(page.locator(f"input[name=reviewers][value='{kaohe['kaohe1'].pk}']")).to_have_count(0)
    for name in ("kaohe2", "kaohe3"):
        page.locator(f"input[name=reviewers][value='{kaohe[name].pk}']").check()
    shot(page, "re-reviewers")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(ui.url("reviews:appeal_detail", appeal.pk))
    expect(page.locator("main .appeal-status")).to_have_attribute("data-status", AppealStatus.RESCORING)

    # --- 4. kaohe2 and kaohe3 re-score, blind until each has submitted ----------------------------
    for name in ("kaohe2", "kaohe3"):
        ui.sign_in(name)
        expect(page.locator("section[aria-labelledby=sec-appeals] .appeals-to-score")).to_be_visible()
        ui.goto("reviews:appeal_score", appeal.pk)
        expect(page.locator("#appeal-summary")).to_have_count(0)  # nobody's re-scores before one's own
        for code in CONTESTED:
            item = by_code[code]
            page.locator(f"input[name=score_{item.pk}]").fill("5")
            page.locator(f"textarea[name=comment_{item.pk}]").fill("会议记录齐全，应得满分。")
        shot(page, f"{name}-sheet")
        page.locator("button[name=action][value=submit]").click()
        expect(page.locator("main .alert-success")).to_be_visible()
        expect(page.locator("#appeal-summary")).to_be_visible()
    expect(page.locator("#rescore-total")).to_have_text("100.0")
    shot(page, "re-scored")

    # --- 5. shenpi changes the star level -----------------------------------------------------------
    ui.sign_in("shenpi")
    ui.goto("reviews:appeal_decide", appeal.pk)
    expect(page.locator("select[name=stars]")).to_have_value("5")  # what the re-score gives
    page.locator("textarea[name=reason]").fill("经复核，1.1、1.2 两项材料齐全，改定为五星。")
    shot(page, "decide")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(ui.url("reviews:appeal_detail", appeal.pk))
    expect(page.locator("main .appeal-status")).to_have_attribute("data-status", AppealStatus.CHANGED)
    assessment.refresh_from_db()
    assert assessment.decided_stars == 5 and assessment.status == AssessmentStatus.PUBLICIZED
    assert list(AppealEvent.objects.filter(appeal=appeal).values_list("action", flat=True)) == [
        "apply",
        "accept",
        "assign",
        "complete_rescoring",
        "change",
    ]

    # --- 6. shuji sees the outcome at home and on the assessment page -----------------------------
    ui.sign_in("shuji")
    state = page.locator("section[aria-labelledby=sec-branch] .appeal-state")
    expect(state).to_have_attribute("data-status", AppealStatus.CHANGED)
    expect(state).to_contain_text("5")
    shot(page, "secretary-home")
    ui.goto("reviews:assessment_detail", assessment.pk)
    expect(page.locator("main .appeal-state")).to_have_attribute("data-status", AppealStatus.CHANGED)
    page.locator("main .appeal-state a").click()
    expect(page.locator("#appeal-outcome")).to_contain_text("经复核")
    expect(page.locator("#appeal-summary")).to_be_visible()  # the re-scores, without names
    expect(page.locator("#appeal-summary")).not_to_contain_text("刘洋")
    shot(page, "secretary-outcome")
