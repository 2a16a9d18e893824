"""Party-affairs staff preview, publish and download a quarterly bulletin in a real browser."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from branches.demo import COMMITTEE_NAME, DEMO_PASSWORD
from branches.demo import load_demo as load_organizations
from branches.models import Organization
from reports.models import Bulletin, BulletinStatus
from reports.services.bulletins import generate_bulletin
from reviews.demo import load_demo as load_cycles
from tests.browser.test_login_smoke import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_preview_publish_and_download_a_bulletin(page, live_server, settings, tmp_path, screenshot):
    settings.MEDIA_ROOT = tmp_path
    load_organizations()
    load_cycles()
    committee = Organization.objects.get(name=COMMITTEE_NAME)
    bulletin = generate_bulletin(committee_id=committee.pk, year=2026, quarter=3)
    assert bulletin.status == BulletinStatus.DRAFT
    five_star = bulletin.data["totals"]["counts"][0]

    sign_in(page, live_server, "dangwu", DEMO_PASSWORD)
    page.locator("#nav-committee").click()  # the committee's menu
    page.get_by_role("link", name="季度通报").first.click()
    expect(page).to_have_url(f"{live_server.url}{reverse('reports:bulletin_list')}")
    screenshot(page, "1-list")

    page.get_by_role("link", name="2026年第3季度").click()
    expect(page).to_have_url(f"{live_server.url}{reverse('reports:bulletin_detail', args=[bulletin.pk])}")
    main = page.locator("main")
    expect(main).to_contain_text(COMMITTEE_NAME)
    expect(main).to_contain_text("党支部星级管理情况季度通报")
    expect(main.locator("svg").first).to_be_visible()  # the distribution chart, as in the PDF
    screenshot(page, "2-preview")

    page.locator("#confirm-publish").check()
    page.get_by_role("button", name="发布通报").click()
    expect(page.locator(".alert-success")).to_contain_text("通报已发布")
    expect(page.locator("#confirm-publish")).to_have_count(0)
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.PUBLISHED
    screenshot(page, "3-published")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载 PDF").click()
    target = tmp_path / "downloaded.pdf"
    download_info.value.save_as(target)
    text = "".join(p.extract_text() for p in PdfReader(target).pages)
    assert COMMITTEE_NAME in text
    assert str(five_star) in text
    assert Bulletin.objects.filter(committee=committee).count() == 1
