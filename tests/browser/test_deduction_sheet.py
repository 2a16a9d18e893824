"""A self-assessment sheet with one deduction item (扣分项), in a real browser.

The secretary types a deduction and sees the running total drop; saving it without a reason is
refused with a clear message and nothing typed is lost; with a reason it saves, and the total
the page shows is the server's. The browser asks for English, so the test reads the source
messages whatever the state of the Chinese catalogue.

Screenshots: test-output/screenshots/test_a_secretary_deducts_points_with_a_reason-*.png.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from reviews.models import SelfScore
from reviews.services.assessment import save_self_assessment, self_result
from scoring.arithmetic import ScoreEntry
from scoring.models import Item, ItemKind
from scoring.selectors import rules_from_standard
from tests.factories import PASSWORD, items_by_code, make_assessment, make_cycle, make_standard_with_deduction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "第二季度两次材料迟报，按细则扣2分。"


@pytest.fixture
def sheet(world):
    """B1's self-assessment under a standard with the deduction item K1: every item at full marks, K1 empty."""
    standard = make_standard_with_deduction(committee=world.committee, actor=world.approver)
    cycle = make_cycle(
        world.committee,
        name="2026年度星级认定",
        standard=standard,
        opened_by=world.approver,
        self_assessment_deadline=datetime.date(2026, 12, 31),
        preliminary_deadline=datetime.date(2027, 1, 15),
        scoring_deadline=datetime.date(2027, 1, 31),
    )
    assessment = make_assessment(cycle, world.branch)
    items = items_by_code(standard)
    save_self_assessment(
        assessment=assessment,
        actor=world.secretary,
        scores={
            item.pk: ScoreEntry(False, "")
            if item.kind == ItemKind.VETO
            else ScoreEntry(str(item.max_score), "")
            for code, item in items.items()
            if code != "K1"
        }
        | {items["B1"].pk: ScoreEntry("1", "获市级先进基层党组织表彰。")},
    )
    return assessment, items


@pytest.fixture
def english_page(browser):
    context = browser.new_context(locale="en-US", reduced_motion="reduce")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    yield page
    assert errors == []
    context.close()


def server_total(assessment) -> str:
    """The total the server gives the saved sheet, as the page prints it."""
    standard = assessment.cycle.standard
    scores = {row.item_id: row.score for row in SelfScore.objects.filter(assessment=assessment)}
    items = Item.objects.filter(dimension__standard=standard)
    return str(self_result(rules_from_standard(standard), items, scores).total)


INVALID = re.compile(r"\bis-invalid\b")


def test_a_secretary_deducts_points_with_a_reason(english_page, live_server, world, sheet, screenshot):
    page = english_page
    assessment, items = sheet
    k1 = items["K1"]
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(world.secretary.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/")

    page.goto(live_server.url + reverse("reviews:self_assessment", args=[assessment.pk]))
    card = page.locator(f"#item-{k1.pk}")
    total = page.locator("#running-total")
    deducted = page.locator("#running-deducted")
    # 20 normal points + 1 bonus, capped at the maximum of 20; nothing deducted yet.
    expect(card).to_contain_text("Deduction, up to −3")
    expect(card.get_by_label("Points deducted")).to_have_value("")
    expect(total).to_have_text("20.0")
    expect(deducted).to_have_text("−0.0")
    screenshot(page, "1-before")

    hint = card.locator(f"#id_explanation_{k1.pk}-reason-hint")
    expect(hint).to_be_hidden()
    card.get_by_label("Points deducted").fill("2")
    expect(total).to_have_text("18.0")
    expect(deducted).to_have_text("−2.0")
    expect(hint).to_be_visible()  # warned before saving that the reason is missing
    card.get_by_label("Reason for the deduction").fill("迟报")
    expect(hint).to_be_hidden()
    card.get_by_label("Reason for the deduction").fill("")
    expect(hint).to_be_visible()
    card.get_by_label("Points deducted").fill("3.5")  # above the item's maximum: refused, counts 0
    expect(card.get_by_label("Points deducted")).to_have_class(INVALID)
    expect(total).to_have_text("20.0")
    card.get_by_label("Points deducted").fill("2")
    expect(total).to_have_text("18.0")
    screenshot(page, "2-typed")

    # Saving without a reason: refused on that item, with the message where the reason goes.
    page.locator(".summary-bar button[name=action][value=save]").click()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(card).to_contain_text("Points deducted need a reason")
    expect(card.get_by_label("Reason for the deduction")).to_have_class(INVALID)
    expect(card.get_by_label("Points deducted")).to_have_value("2")  # nothing typed is lost
    expect(total).to_have_text("18.0")
    assert not SelfScore.objects.filter(assessment=assessment, item=k1).exists()
    screenshot(page, "3-refused")

    card.get_by_label("Reason for the deduction").fill(REASON)
    page.locator(".summary-bar button[name=action][value=save]").click()
    expect(page.locator("main .alert-success")).to_contain_text("The draft was saved.")
    expect(card.get_by_label("Points deducted")).to_have_value("2.0")
    expect(card.get_by_label("Reason for the deduction")).to_have_value(REASON)
    row = SelfScore.objects.get(assessment=assessment, item=k1)
    assert (row.score, row.explanation) == (Decimal("2.0"), REASON)
    expect(total).to_have_text("18.0")
    expect(deducted).to_have_text("−2.0")
    assert page.locator("#running-total").text_content() == server_total(assessment) == "18.0"
    screenshot(page, "4-saved")
