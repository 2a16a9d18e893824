"""Official documents in Chromium, as the demo's party-affairs staff: from the cycle's page to the
notices of every party committee, then the commendation decision edited, confirmed, issued and
downloaded; the document's page read on a phone. Screenshots: /tmp/shots/docs/."""

import io
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import expect

from branches.demo import COMMITTEE_NAME
from branches.demo import load_demo as load_organizations
from branches.models import Organization, User
from reports.models import DocumentKind, DocumentStatus, OfficialDocument
from reports.services.documents import create_commendation
from reviews.demo import load_demo as load_cycles
from reviews.models import AssessmentStatus, Cycle
from tests.browser.helpers import DemoBrowser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SHOTS = Path("/tmp/shots/docs")  # noqa: S108 - where the session looks at the pages


@pytest.fixture
def past_cycle(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    load_organizations()
    load_cycles()
    committee = Organization.objects.get(name=COMMITTEE_NAME)
    return (
        Cycle.objects.filter(committee=committee, assessments__status=AssessmentStatus.CERTIFIED)
        .order_by("opened_at")
        .distinct()
        .first()
    )


def shot(page, step: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"browser-{step}.png"), full_page=True)


def test_staff_make_edit_confirm_issue_and_download_a_document(browser, live_server, past_cycle):
    context = browser.new_context(
        viewport=DESKTOP, locale="zh-CN", reduced_motion="reduce", accept_downloads=True
    )
    demo = DemoBrowser(context.new_page(), live_server)
    page = demo.page
    demo.sign_in("dangwu")

    # The cycle's page links its documents; the notices are made for every party committee at once.
    demo.goto("reviews:cycle_detail", past_cycle.pk)
    page.locator(f"a[href$='/documents/cycles/{past_cycle.pk}/']").click()
    page.select_option("#id_kind", "results_notice")
    page.locator("#cycle-document-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    notices = OfficialDocument.objects.filter(kind=DocumentKind.RESULTS_NOTICE, cycle=past_cycle)
    assert notices.count() >= 2
    expect(page.locator("main table tbody tr")).to_have_count(notices.count())
    shot(page, "cycle-desktop")

    page.select_option("#id_kind", "commendation")
    page.locator("#cycle-document-form button[type=submit]").click()
    document = OfficialDocument.objects.get(kind=DocumentKind.COMMENDATION, cycle=past_cycle)
    expect(page.locator(".official-paper .official-title")).to_have_text(document.title)
    shot(page, "draft-desktop")

    page.locator(f"a[href$='/documents/{document.pk}/edit/']").click()
    page.fill("#id_lead", "经研究，决定予以通报表彰。")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".official-paper")).to_contain_text("经研究，决定予以通报表彰。")

    page.locator(f"a[href$='/documents/{document.pk}/issue/']").click()
    shot(page, "confirm-desktop")
    page.check("#confirm-issue")
    page.locator("main form button[type=submit]").click()
    document.refresh_from_db()
    assert document.status == DocumentStatus.ISSUED
    expect(page.locator(".document-number")).to_have_text(document.document_number)
    assert document.document_number.endswith("〔" + str(document.year) + "〕1号")
    shot(page, "issued-desktop")

    with page.expect_download() as download:
        page.locator(f"a[href$='/documents/{document.pk}/docx/']").click()
    word = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert document.document_number in [p.text for p in word.paragraphs]
    context.close()


def test_the_document_reads_on_a_phone(browser, live_server, past_cycle):
    document, _created = create_commendation(cycle=past_cycle, actor=User.objects.get(username="dangwu"))
    context = browser.new_context(viewport=PHONE, locale="zh-CN", reduced_motion="reduce")
    demo = DemoBrowser(context.new_page(), live_server)
    page = demo.page
    demo.sign_in("dangwu")
    demo.goto("reports:document_detail", document.pk)
    expect(page.locator(".official-title")).to_have_text(document.title)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"
    shot(page, "draft-phone")
    demo.goto("reports:document_list")
    expect(page.locator("main")).to_contain_text(document.title)
    shot(page, "list-phone")
    context.close()
