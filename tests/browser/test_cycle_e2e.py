"""One branch through the whole star-rating cycle in a real browser, with the demo users.

shenpi opens a cycle → shuji fills in the self-assessment with evidence and submits →
chushen returns it → shuji corrects and resubmits → chushen forwards → shenpi assigns the
assessment team automatically → kaohe1–3 score blind, kaohe3 far below the others on one
item (a flagged disagreement) → shenpi decides and publishes the public notice → the notice
ends (time_machine) → shenpi certifies → shuji sees the new star on the home page and the
certification on the branch's timeline.

Every step leaves a screenshot in test-output/screenshots/cycle/NN-step.png.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import expect

from branches.demo import DEMO_PASSWORD, load_demo
from branches.models import Organization, OrgKind, User
from reviews.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    Cycle,
    CycleStatus,
    Evidence,
    ReviewerAssignment,
    StarEvent,
    StarEventKind,
)
from scoring.models import Item, Standard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BRANCH_CODE = "BJ-FGW-01"  # 办公室党支部 under 市发展和改革委员会机关党委; shuji is its secretary
BRANCH_NAME = "办公室党支部"
CYCLE_NAME = "2025—2026年度星级认定"

# The self-assessment: full marks except these (item code → score); 1.4 is corrected after
# the return. Total 98.5, then 99.5: five stars either way.
SELF_DEDUCTIONS = {"1.4": "4", "3.2": "4.5"}
SELF_CORRECTED = ("1.4", "5")
DECLARED_STARS = 5

RETURN_REASON = "1.4 经费落实：经费台账只附了上半年，请补充全年台账并核实自评分。"
RECOMMENDATION = "该支部“三会一课”落实到位，台账齐全，同意申报五星级，推荐工委考核。"

# Reviewers' deductions (item code → (score, comment)); kaohe3's 2 of 5 on item 2.2 against
# the others' 5 is a spread of 3 > 5 × 0.333: the one disagreement of the sheet.
KAOHE1_COMMENT = "工作总结未按时报送，扣0.5分。"
REVIEWER_DEDUCTIONS = {
    "kaohe1": {"3.2": ("4.5", KAOHE1_COMMENT)},
    "kaohe2": {"3.2": ("4.5", "年度计划缺少量化目标。")},
    "kaohe3": {"2.2": ("2", "主题党日活动记录缺三个月，照片与记录不符。")},
}
FLAGGED_ITEM = "2.2"
DECIDED_STARS = 5


def tiny_pdf(title: str) -> bytes:
    """A valid one-page PDF (header, objects, cross-reference table, trailer)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << >> >>",
    ]
    stream = f"% {title}\n".encode("ascii", "replace")
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def shot(request):
    """Save a full-page screenshot as test-output/screenshots/cycle/NN-step.png."""
    folder = request.config.rootpath / "test-output" / "screenshots" / "cycle"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    counter = iter(range(1, 100))

    def take(page, step: str, *, focus=None):
        """The whole page, or with ``focus`` (a locator) the window scrolled to show it."""
        path = folder / f"{next(counter):02d}-{step}.png"
        if focus is not None:
            focus.scroll_into_view_if_needed()
        page.screenshot(path=str(path), full_page=focus is None)
        return path

    return take


class Browser:
    """The one browser tab the demo users take turns at, each through the login page."""

    def __init__(self, page, live_server):
        self.page = page
        self.base = live_server.url

    def url(self, name: str, *args) -> str:
        return self.base + reverse(name, args=args)

    def goto(self, name: str, *args) -> None:
        self.page.goto(self.url(name, *args))

    def sign_in(self, username: str, real_name: str) -> None:
        page = self.page
        page.context.clear_cookies()  # the previous user is signed out
        page.goto(f"{self.base}/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.locator("main form button[type=submit]").click()
        expect(page).to_have_url(f"{self.base}/")
        expect(page.locator("main h1")).to_have_text("我的工作")
        expect(page.locator("nav")).to_contain_text(real_name)


def fill_self_assessment(page, items, scores: dict[str, str]) -> None:
    for item in items:
        page.locator(f"input[name=score_{item.pk}]").fill(scores[item.code])
        page.locator(f"textarea[name=explanation_{item.pk}]").fill(
            f"{item.title}：已按要求落实，见佐证材料。"
        )


def click_and_confirm(page, button) -> str:
    """Press a button that asks first, answer yes, and return what the browser asked."""
    asked: list[str] = []

    def accept(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    button.click()
    expect(page.locator("main .alert-success")).to_be_visible()
    assert asked, "the action asked for no confirmation"
    return asked[0]


def submit_self_assessment(page) -> list[str]:
    """Press 提交 and accept the browser's confirmation; returns what the dialog asked."""
    asked: list[str] = []

    def accept(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.locator("button[name=action][value=submit]").click()
    expect(page.locator("main .alert-success")).to_contain_text("自评已提交初审")
    expect(page.get_by_test_id("status")).to_have_text("已提交")
    return asked


def score_sheet(page, items, deductions: dict[str, tuple[str, str]]) -> None:
    for item in items:
        score, comment = deductions.get(item.code, (f"{item.max_score:f}", ""))
        page.locator(f"input[name=score_{item.pk}]").fill(score)
        if comment:
            page.locator(f"textarea[name=comment_{item.pk}]").fill(comment)


def test_one_branch_goes_through_the_whole_cycle_with_the_demo_users(
    page, live_server, settings, tmp_path, shot
):
    settings.MEDIA_ROOT = tmp_path / "media"
    load_demo()
    users = {user.username: user for user in User.objects.all()}
    branch = Organization.objects.get(code=BRANCH_CODE)
    assert branch.name == BRANCH_NAME
    standard = Standard.objects.get(name="党支部建设星级管理考核细则", version=1)  # the shipped default
    items = list(
        Item.objects.filter(dimension__standard=standard).order_by("dimension__order", "order", "code")
    )
    assert len(items) == 19
    by_code = {item.code: item for item in items}
    evidence_items = [item for item in items if item.evidence_required]
    assert evidence_items
    ui = Browser(page, live_server)

    # --- 1. shenpi opens the cycle ------------------------------------------------------------
    ui.sign_in("shenpi", "赵志强")
    ui.goto("reviews:cycle_open")
    expect(page.locator("main h1")).to_have_text("开启认定周期")
    expect(page.locator("main")).to_contain_text("滨江市直机关工委")
    today = datetime.date.today()
    page.locator("input[name=name]").fill(CYCLE_NAME)
    expect(page.locator("select[name=standard] option:checked")).to_contain_text(standard.name)
    page.locator("select[name=standard]").select_option(str(standard.pk))
    for field, days in [
        ("self_assessment_deadline", 14),
        ("preliminary_deadline", 21),
        ("scoring_deadline", 35),
    ]:
        page.locator(f"input[name={field}]").fill((today + datetime.timedelta(days=days)).isoformat())
    expect(page.locator("input[name=reviewers_per_branch]")).to_have_value("3")
    page.locator("input[name=cap_4]").fill("50")  # at most half four-star: warned about below
    shot(page, "cycle-open-form")
    page.get_by_role("button", name="开启认定周期").click()

    expect(page.locator("main .alert-success")).to_contain_text(CYCLE_NAME)
    cycle = Cycle.objects.get(name=CYCLE_NAME)
    expect(page).to_have_url(ui.url("reviews:cycle_detail", cycle.pk))
    active_branches = Organization.objects.filter(
        path__startswith=cycle.committee.path, kind=OrgKind.BRANCH, is_active=True
    )
    assert cycle.assessments.count() == active_branches.count() > 1
    assert cycle.standard_id == standard.pk
    assert cycle.reviewers_per_branch == 3
    assessment = Assessment.objects.get(cycle=cycle, branch=branch)
    shot(page, "cycle-opened")

    # --- 2. shuji fills in the self-assessment, with evidence, and submits --------------------
    ui.sign_in("shuji", "王红梅")
    my_cycle = page.locator("section[aria-labelledby=sec-branch] .card", has_text=CYCLE_NAME)
    expect(my_cycle).to_contain_text(BRANCH_NAME)
    expect(my_cycle.locator(".assessment-status")).to_have_text("未开始")
    shot(page, "secretary-home")
    my_cycle.get_by_role("link", name="填写自评").click()
    expect(page).to_have_url(ui.url("reviews:self_assessment", assessment.pk))
    expect(page.locator("main h1")).to_have_text("自评")

    scores = {item.code: f"{item.max_score:f}" for item in items}
    scores.update(SELF_DEDUCTIONS)
    fill_self_assessment(page, items, scores)
    page.locator("select[name=declared_stars]").select_option(str(DECLARED_STARS))
    expect(page.locator("#running-total")).to_have_text("98.5")
    warning = page.locator("[data-declared-warning]")
    expect(warning).to_be_hidden()
    # Declaring more stars than the self-scores give is warned about as the scores change.
    first = page.locator(f"input[name=score_{by_code['1.1'].pk}]")
    first.fill("0")
    expect(page.locator("#running-total")).to_have_text(f"{Decimal('98.5') - by_code['1.1'].max_score:.1f}")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("申报星级为 5 星")
    first.fill(scores["1.1"])
    expect(page.locator("#running-total")).to_have_text("98.5")
    expect(warning).to_be_hidden()
    shot(page, "self-assessment-filled")

    # A file chosen on an item uploads in place (static/js/evidence_upload.js), with the whole
    # form: what was typed is saved with the file, and the page is not reloaded.
    file_names = {
        item.code: f"{item.code}-{item.evidence_hint.split('、')[0]}.pdf" for item in evidence_items
    }
    for item in evidence_items:
        card = page.locator(f"#item-{item.pk}")
        name = file_names[item.code]
        card.locator(f"input[type=file][name=evidence_{item.pk}]").set_input_files(
            {"name": name, "mimeType": "application/pdf", "buffer": tiny_pdf(item.code)}
        )
        expect(page.locator(f"#item-{item.pk} .evidence-list")).to_contain_text(name)
        expect(card.locator(".upload-status .upload-ok")).to_have_count(1)
    assert Evidence.objects.filter(assessment=assessment).count() == len(evidence_items)
    # The typed scores and the declared level survived the uploads (saved with each one).
    expect(page.locator(f"input[name=score_{by_code['3.2'].pk}]")).to_have_value("4.5")
    expect(page.locator("select[name=declared_stars]")).to_have_value(str(DECLARED_STARS))
    expect(page.locator("#running-total")).to_have_text("98.5")
    shot(page, "evidence-uploaded")

    asked = submit_self_assessment(page)
    assert asked and "提交" in asked[0]
    shot(page, "self-assessment-submitted")

    # --- 3. chushen returns it with a reason --------------------------------------------------
    ui.sign_in("chushen", "李建国")
    ui.goto("reviews:preliminary_queue")
    expect(page.locator("main h1")).to_have_text("初审")
    page.locator("main .list-group-item", has_text=BRANCH_NAME).click()
    expect(page).to_have_url(ui.url("reviews:preliminary_review", assessment.pk))
    for file_name in file_names.values():  # the evidence is listed for the reviewer
        expect(page.locator("main").get_by_role("link", name=file_name)).to_be_visible()
    page.locator("textarea[name=reason]").fill(RETURN_REASON)
    shot(page, "preliminary-review")
    assert "退回" in click_and_confirm(page, page.get_by_role("button", name="按此理由退回"))
    expect(page).to_have_url(ui.url("reviews:preliminary_queue"))
    expect(page.locator("main .alert-success")).to_contain_text(BRANCH_NAME)
    expect(page.locator("main .list-group-item", has_text=BRANCH_NAME)).to_have_count(0)
    shot(page, "returned")

    # --- 4. shuji sees the reason, corrects a score and resubmits -----------------------------
    ui.sign_in("shuji", "王红梅")
    my_cycle = page.locator("section[aria-labelledby=sec-branch] .card", has_text=CYCLE_NAME)
    expect(my_cycle.locator(".assessment-status")).to_have_text("已退回")
    expect(my_cycle.locator(".alert-danger")).to_contain_text(RETURN_REASON)
    shot(page, "secretary-home-returned")
    my_cycle.get_by_role("link", name="填写自评").click()
    expect(page.locator("#returned-reason")).to_contain_text(RETURN_REASON)
    expect(page.locator("#returned-reason")).to_contain_text("李建国")
    code, corrected = SELF_CORRECTED
    page.locator(f"input[name=score_{by_code[code].pk}]").fill(corrected)
    page.locator(f"textarea[name=explanation_{by_code[code].pk}]").fill(
        "已补充全年经费台账（1—12月），经费按计划使用。"
    )
    expect(page.locator("#running-total")).to_have_text("99.5")
    shot(page, "self-assessment-corrected")
    submit_self_assessment(page)

    # --- 5. chushen forwards it with a recommendation -----------------------------------------
    ui.sign_in("chushen", "李建国")
    ui.goto("reviews:preliminary_queue")
    page.locator("main .list-group-item", has_text=BRANCH_NAME).click()
    expect(page.locator("main")).to_contain_text("99.5")
    page.locator("textarea[name=recommendation]").fill(RECOMMENDATION)
    assert "工委" in click_and_confirm(page, page.get_by_role("button", name="按此推荐意见上报"))
    expect(page.locator("main .alert-success")).to_contain_text(BRANCH_NAME)
    page.get_by_role("link", name="已初审").click()
    expect(page.locator("main .list-group-item", has_text=BRANCH_NAME)).to_contain_text("已推荐")
    shot(page, "forwarded")

    # --- 6. shenpi assigns the assessment team automatically ----------------------------------
    ui.sign_in("shenpi", "赵志强")
    ui.goto("reviews:team_overview", cycle.pk)
    expect(page.locator("main h1")).to_have_text("考核组")
    page.get_by_role("button", name="自动分配").click()
    expect(page.locator("main .alert-success")).to_contain_text("已为 1 个考核分配考核组成员")
    row = page.locator("main .list-group-item", has_text=BRANCH_NAME)
    for real_name in ("张伟", "刘洋", "陈静"):
        expect(row).to_contain_text(real_name)
    expect(row).to_contain_text("考核打分中")
    shot(page, "reviewers-assigned")
    assert {a.reviewer.username for a in ReviewerAssignment.objects.filter(assessment=assessment)} == {
        "kaohe1",
        "kaohe2",
        "kaohe3",
    }

    # --- 7. kaohe1–3 score, blind to each other; kaohe3's 2.2 is flagged ----------------------
    for username, real_name in (("kaohe1", "张伟"), ("kaohe2", "刘洋"), ("kaohe3", "陈静")):
        ui.sign_in(username, real_name)
        page.locator("section[aria-labelledby=sec-reviewer]").get_by_role("link", name=BRANCH_NAME).click()
        expect(page).to_have_url(ui.url("reviews:score", assessment.pk))
        expect(page.locator("main")).to_contain_text(RECOMMENDATION)
        score_sheet(page, items, REVIEWER_DEDUCTIONS[username])
        if username == "kaohe2":
            # Blind: kaohe1 has submitted, yet nothing of theirs is on kaohe2's sheet.
            assert ReviewerAssignment.objects.get(
                assessment=assessment, reviewer__username="kaohe1"
            ).submitted_at
            main = page.locator("main")
            expect(main).not_to_contain_text(KAOHE1_COMMENT)
            expect(main).not_to_contain_text("张伟")
            expect(main.locator(".item-scores")).to_have_count(0)
            shot(page, "kaohe2-scoring-blind")
        assert "评分" in click_and_confirm(page, page.get_by_role("button", name="提交我的评分"))
        expect(page.locator("main .alert-success")).to_contain_text("评分已提交")
        # Once submitted, the reviewer sees the submitted scores so far, their own included.
        expect(page.locator(f"#item-{by_code['3.2'].pk} .item-scores")).to_contain_text(real_name)
        if username != "kaohe3":
            shot(page, f"{username}-submitted")

    flagged = page.locator(".item-scores.border-danger")
    expect(flagged).to_have_count(1)
    expect(page.locator(f"#item-{by_code[FLAGGED_ITEM].pk} .item-scores")).to_contain_text(
        "考核组成员评分存在分歧（相差 3.0）"
    )
    shot(
        page, "kaohe3-submitted-disagreement-flagged", focus=page.locator(f"#item-{by_code[FLAGGED_ITEM].pk}")
    )
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SCORED
    assert assessment.proposed_stars == DECIDED_STARS

    # --- 8. shenpi sees the flag, decides, and publishes the public notice --------------------
    ui.sign_in("shenpi", "赵志强")
    ui.goto("reviews:team_scores", assessment.pk)
    expect(page.locator(f"#item-{by_code[FLAGGED_ITEM].pk}")).to_contain_text("考核组成员评分存在分歧")
    expect(page.locator(".item-scores.border-danger")).to_have_count(1)
    shot(page, "team-scores-flagged", focus=page.locator(f"#item-{by_code[FLAGGED_ITEM].pk}"))

    ui.goto("reviews:cycle_decisions", cycle.pk)
    row = page.locator(f"#a{assessment.pk}")
    expect(row).to_contain_text(BRANCH_NAME)
    expect(row.locator(f"#stars-{assessment.pk}")).to_have_value(str(DECIDED_STARS))
    # Picking a level that would pass the cycle's cap on its share warns before saving.
    expect(row.locator("[data-cap-live]")).to_be_hidden()
    row.locator(f"#stars-{assessment.pk}").select_option("4")
    expect(row.locator("[data-cap-live]")).to_contain_text("50%")
    row.locator(f"#stars-{assessment.pk}").select_option(str(DECIDED_STARS))
    assert BRANCH_NAME in click_and_confirm(page, row.get_by_role("button", name="审定"))
    expect(page.locator("main .alert-success")).to_contain_text(BRANCH_NAME)
    expect(page.locator(f"#a{assessment.pk}")).to_contain_text("已审定")
    shot(page, "decided")

    page.get_by_role("link", name="发布公示").click()
    expect(page).to_have_url(ui.url("reviews:cycle_publicize", cycle.pk))
    shot(page, "publicize-confirm")
    page.get_by_role("button", name="确认发布公示").click()
    expect(page).to_have_url(ui.url("reviews:cycle_publicity", cycle.pk) + "?batch=1")
    expect(page.locator("main")).to_contain_text(BRANCH_NAME)
    shot(page, "public-notice")
    cycle.refresh_from_db()
    batch = cycle.notice_batches.get()
    assert cycle.status == CycleStatus.OPEN

    # --- 9. the notice ends; shenpi certifies -------------------------------------------------
    with time_machine.travel(batch.ends_at + datetime.timedelta(minutes=5), tick=True):
        ui.sign_in("shenpi", "赵志强")
        ui.goto("reviews:batch_certify", cycle.pk, batch.number)
        confirm = page.get_by_role("button", name="确认认定")
        expect(confirm).to_be_enabled()
        shot(page, "certify-confirm")
        confirm.click()
        expect(page).to_have_url(ui.url("reviews:cycle_detail", cycle.pk))
        expect(page.locator("main .alert-success")).to_be_visible()
        shot(page, "certified")

        # --- 10. shuji sees the new star -----------------------------------------------------
        ui.sign_in("shuji", "王红梅")
        card = page.locator("section[aria-labelledby=sec-branch] .card", has_text=BRANCH_NAME).first
        expect(card.locator(".star-current")).to_have_attribute("data-stars", str(DECIDED_STARS))
        expect(card.locator(".star-current")).to_contain_text("5 星")
        shot(page, "secretary-home-new-star")
        card.get_by_role("link", name=BRANCH_NAME).click()
        expect(page).to_have_url(ui.url("reviews:branch_detail", branch.pk))
        event = page.locator(".timeline-event[data-kind=certification]")
        expect(event).to_have_count(1)
        expect(event).to_contain_text(CYCLE_NAME)
        expect(event).to_contain_text("赵志强")
        shot(page, "branch-timeline")

    # --- the database agrees -------------------------------------------------------------------
    assessment.refresh_from_db()
    cycle.refresh_from_db()
    # The demo's other branches are still in the cycle: it stays open for them.
    assert cycle.status == CycleStatus.OPEN
    assert assessment.status == AssessmentStatus.CERTIFIED
    assert assessment.declared_stars == DECLARED_STARS
    assert assessment.self_total == Decimal("99.5")
    assert assessment.decided_stars == DECIDED_STARS
    certificate = Certificate.objects.get(branch=branch)
    assert certificate.status == CertificateStatus.VALID
    assert certificate.assessment_id == assessment.pk
    assert certificate.stars == certificate.certified_stars == DECIDED_STARS
    assert certificate.valid_until > datetime.date.today()
    star_event = StarEvent.objects.get(branch=branch)
    assert star_event.kind == StarEventKind.CERTIFICATION
    assert (star_event.from_stars, star_event.to_stars) == (None, DECIDED_STARS)
    assert star_event.certificate_id == certificate.pk
    assert star_event.actor == users["shenpi"]
    actions = [
        (event.action, event.actor.username)
        for event in AssessmentEvent.objects.filter(assessment=assessment).select_related("actor")
        if event.action != "start"  # the first draft save, by an upload
    ]
    assert actions == [
        ("submit", "shuji"),
        ("return", "chushen"),
        ("submit", "shuji"),
        ("forward", "chushen"),
        ("assign", "shenpi"),
        ("complete_scoring", "kaohe3"),
        ("decide", "shenpi"),
        ("publicize", "shenpi"),
        ("certify", "shenpi"),
    ]
    assert AssessmentEvent.objects.get(assessment=assessment, action="return").note == RETURN_REASON
    assert AssessmentEvent.objects.get(assessment=assessment, action="forward").note == RECOMMENDATION
