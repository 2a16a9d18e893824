"""Evidence uploaded in place on the self-assessment page, on a phone (390 × 844).

Three files chosen at once on one item are uploaded one by one with their progress and listed
without the page being reloaded (a marker set on ``window`` survives); a refused file is
explained in place with the server's own Chinese message; the score typed before stays in
its box and is saved with the draft, as the "Upload" button does; a file is removed in place
after a confirm. Without JavaScript the button posts the form and the page reloads, as before.
The JSON answers themselves are checked with the test client.

Screenshots: test-output/screenshots/test_three_files_*.png.
"""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import expect

from reviews.models import Evidence, SelfScore
from reviews.uploads import check_upload
from scoring.models import ItemKind
from tests.factories import PASSWORD, make_assessment, make_cycle, standard_items

PHONE = {"width": 390, "height": 844}

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
HTML = b"<!DOCTYPE html><html><head><title>x</title></head><body><p>x</p></body></html>"
SIZE_LIMIT = 4096
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture
def sheet(world, settings, tmp_path):
    """B1's self-assessment in a cycle opened today, nothing saved yet; its first scored item."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_MAX_BYTES = SIZE_LIMIT
    cycle = make_cycle(world.committee, opened_by=world.approver, opened_at=timezone.now())
    assessment = make_assessment(cycle, world.branch)
    item = next(item for item in standard_items(cycle.standard) if item.kind == ItemKind.NORMAL)
    return assessment, item


def refusal_zh(name: str, content: bytes) -> str:
    """The message reviews.uploads gives this file, in Chinese, as the page must show it."""
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        check_upload(SimpleUploadedFile(name, content))
    return refused.value.messages[0]


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_three_files_are_uploaded_in_place_on_a_phone(browser, live_server, world, sheet, screenshot):
    assessment, item = sheet
    context = browser.new_context(viewport=PHONE, locale="zh-CN", reduced_motion="reduce")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    sign_in(page, live_server, world.secretary.username)
    page.goto(live_server.url + reverse("reviews:self_assessment", args=[assessment.pk]))
    page.evaluate("window.uploadMarker = 'no reload'")
    loads = []
    page.on("load", lambda _page: loads.append(1))

    card = page.locator(f"#item-{item.pk}")
    score = card.locator(f"#id_score_{item.pk}")
    score.fill("1.5")
    # With the script the input uploads as soon as files are chosen: no button to press.
    expect(card.locator("[data-upload-button]")).to_have_count(0)
    card.locator(f"#id_evidence_{item.pk}").set_input_files(
        [
            {"name": "支部会议记录.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "学习计划.pdf", "mimeType": "application/pdf", "buffer": PDF + b"%" * 50},
            {"name": "党费台账.pdf", "mimeType": "application/pdf", "buffer": PDF + b"%" * 90},
        ]
    )
    listed = card.locator("[data-evidence-list] .evidence-list li")
    expect(listed).to_have_count(3)
    expect(card.locator(".upload-status .upload-ok")).to_have_count(3)
    for name in ("支部会议记录.pdf", "学习计划.pdf", "党费台账.pdf"):
        expect(card.locator("[data-evidence-list]")).to_contain_text(name)
    assert page.evaluate("window.uploadMarker") == "no reload"
    assert loads == []
    expect(score).to_have_value("1.5")
    assert Evidence.objects.filter(assessment=assessment, item=item).count() == 3
    # The draft was saved with the upload, as the button does.
    assert str(SelfScore.objects.get(assessment=assessment, item=item).score) == "1.5"
    screenshot(page, "1-three-listed")
    card.screenshot(path=str(OUTPUT / "test_three_files_item-1-three-listed.png"))

    # A file of the wrong type and one too large: both refused in place, in the server's words.
    card.locator(f"#id_evidence_{item.pk}").set_input_files(
        [
            {"name": "通知.pdf", "mimeType": "application/pdf", "buffer": HTML},
            {"name": "扫描件.pdf", "mimeType": "application/pdf", "buffer": PDF + b"%" * SIZE_LIMIT},
        ]
    )
    refused = card.locator(".upload-status .upload-refused")
    expect(refused).to_have_count(2)
    expect(refused.nth(0)).to_contain_text(refusal_zh("通知.pdf", HTML))
    expect(refused.nth(1)).to_contain_text(refusal_zh("扫描件.pdf", PDF + b"%" * SIZE_LIMIT))
    expect(listed).to_have_count(3)
    expect(score).to_have_value("1.5")
    assert Evidence.objects.filter(assessment=assessment, item=item).count() == 3
    screenshot(page, "2-refused")
    card.screenshot(path=str(OUTPUT / "test_three_files_item-2-refused.png"))

    # Removing a file asks first, then happens in place.
    page.once("dialog", lambda dialog: dialog.dismiss())
    listed.nth(0).locator("[data-remove-evidence]").click()
    expect(listed).to_have_count(3)
    page.once("dialog", lambda dialog: dialog.accept())
    listed.nth(0).locator("[data-remove-evidence]").click()
    expect(listed).to_have_count(2)
    expect(card.locator(".upload-status .upload-removed")).to_contain_text("支部会议记录.pdf")
    assert Evidence.objects.filter(assessment=assessment, item=item).count() == 2
    assert page.evaluate("window.uploadMarker") == "no reload"
    assert loads == []
    screenshot(page, "3-removed")
    card.screenshot(path=str(OUTPUT / "test_three_files_item-3-removed.png"))
    # Opened again, the sheet shows what was saved with the uploads, and nothing to restore.
    page.reload()
    expect(page.locator(f"#id_score_{item.pk}")).to_have_value("1.5")
    expect(page.locator("#restore-notice")).to_be_hidden()
    expect(page.locator(f"#item-{item.pk} .evidence-list li")).to_have_count(2)
    assert errors == []
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_upload_button_posts_and_reloads(browser, live_server, world, sheet):
    assessment, item = sheet
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, world.secretary.username)
    url = live_server.url + reverse("reviews:self_assessment", args=[assessment.pk])
    page.goto(url)
    card = page.locator(f"#item-{item.pk}")
    card.locator(f"#id_score_{item.pk}").fill("2")
    card.locator(f"#id_evidence_{item.pk}").set_input_files(
        [
            {"name": "一.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "二.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ]
    )
    card.locator("[data-upload-button]").click()
    # Without the script the signed "saved" token stays in the address (it only clears a copy
    # the script would have kept).
    expect(page).to_have_url(re.compile(rf"^{re.escape(url)}\?saved=[^#]+#item-{item.pk}$"))
    expect(card.locator(".evidence-list li")).to_have_count(2)
    expect(card.locator(f"#id_score_{item.pk}")).to_have_value("2.0")
    context.close()


# --- The JSON answers (test client) ---------------------------------------------------------


def upload_json(client, assessment, item, *files, **fields):
    return client.post(
        reverse("reviews:evidence_upload", args=[assessment.pk]),
        {"item": item.pk, f"evidence_{item.pk}": list(files), **fields},
        headers={"accept": "application/json"},
    )


@pytest.mark.django_db
def test_the_upload_answers_json_with_the_new_list_and_saves_the_draft(client, world, sheet):
    assessment, item = sheet
    client.force_login(world.secretary)
    response = upload_json(
        client, assessment, item, SimpleUploadedFile("记录.pdf", PDF), **{f"score_{item.pk}": "1"}
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["uploaded"] == ["记录.pdf"]
    assert answer["errors"] == []
    assert answer["draftErrors"] is False
    assert "记录.pdf" in answer["listHtml"]
    assert "data-remove-evidence" in answer["listHtml"]
    assert str(SelfScore.objects.get(assessment=assessment, item=item).score) == "1.0"


@pytest.mark.django_db
def test_a_refused_upload_answers_400_with_the_reason_and_keeps_the_list(client, world, sheet):
    assessment, item = sheet
    client.force_login(world.secretary)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    response = upload_json(client, assessment, item, SimpleUploadedFile("通知.pdf", HTML))
    assert response.status_code == 400
    answer = response.json()
    assert answer["uploaded"] == []
    assert answer["errors"] == [refusal_zh("通知.pdf", HTML)]
    assert not Evidence.objects.filter(assessment=assessment).exists()

    response = upload_json(client, assessment, item)  # nothing chosen
    assert response.status_code == 400
    assert len(response.json()["errors"]) == 1


@pytest.mark.django_db
def test_the_json_upload_is_refused_to_others_as_the_form_post_is(client, world, sheet):
    assessment, item = sheet
    client.force_login(world.sibling_secretary)  # another branch: outside the scope
    assert upload_json(client, assessment, item, SimpleUploadedFile("a.pdf", PDF)).status_code == 404
    client.force_login(world.parent_reviewer)  # in scope, not the branch secretary
    assert upload_json(client, assessment, item, SimpleUploadedFile("a.pdf", PDF)).status_code == 403
    assert not Evidence.objects.filter(assessment=assessment).exists()


@pytest.mark.django_db
def test_removing_a_file_answers_json_with_the_remaining_list(client, world, sheet):
    assessment, item = sheet
    client.force_login(world.secretary)
    upload_json(
        client, assessment, item, SimpleUploadedFile("一.pdf", PDF), SimpleUploadedFile("二.pdf", PDF)
    )
    first = Evidence.objects.get(assessment=assessment, original_name="一.pdf")
    response = client.post(
        reverse("reviews:evidence_delete", args=[first.pk]), headers={"accept": "application/json"}
    )
    assert response.status_code == 200
    answer = json.loads(response.content)
    assert "一.pdf" in answer["message"]
    assert "二.pdf" in answer["listHtml"] and "一.pdf" not in answer["listHtml"]
    assert list(Evidence.objects.filter(assessment=assessment).values_list("original_name", flat=True)) == [
        "二.pdf"
    ]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_after_a_save_typing_more_survives_a_reload(browser, live_server, world, sheet):
    """The save's redirect clears the browser's copy once; its token leaves the address at
    once, so what is typed afterwards and not saved comes back after a reload."""
    assessment, item = sheet
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, world.secretary.username)
    url = live_server.url + reverse("reviews:self_assessment", args=[assessment.pk])
    page.goto(url)
    page.locator(f"#id_score_{item.pk}").fill("1.5")
    page.locator("#self-assessment-form .summary-bar button[value=save]").click()
    expect(page.locator(".alert-success")).to_contain_text("草稿已保存")
    expect(page).to_have_url(url)  # the token was dropped from the address
    assert SelfScore.objects.get(assessment=assessment, item=item).score == Decimal("1.5")

    page.locator(f"#id_score_{item.pk}").fill("0.5")  # typed, not saved
    page.reload()
    expect(page.locator("#restore-notice")).to_be_visible()
    expect(page.locator(f"#id_score_{item.pk}")).to_have_value("0.5")
    context.close()
