"""Notices and certificate verification in a real browser.

A branch secretary follows the badge in the navigation to the quarterly notice and reads it;
someone who is not signed in checks a certificate's code on the public verification page.
Screenshots go to test-output/screenshots/<test>-<step>.png.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from reports.models import Notice
from reports.services.notices import send_quarterly_notices
from reviews.models import Certificate
from tests.browser.test_login_smoke import sign_in
from tests.factories import (
    CYCLE_NAME,
    PASSWORD,
    certify,
    default_standard,
    open_default_cycle,
    standard_items,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def badge_count(page) -> str:
    # The badge reads "2" plus a visually hidden word for screen readers.
    return page.locator("#nav-unread-count").inner_text().split()[0]


def test_a_secretary_follows_the_badge_to_the_quarterly_notice_and_reads_it(
    page, live_server, world, screenshot
):
    secretary = world.secretary
    cycle = open_default_cycle(world.committee, world.approver, name=CYCLE_NAME)
    for quarter in (1, 2):
        send_quarterly_notices(committee_id=world.committee.pk, year=2025, quarter=quarter)
    assert Notice.objects.filter(recipient=secretary).count() == 2
    newest = Notice.objects.filter(recipient=secretary).order_by("-created_at", "-pk").first()

    sign_in(page, live_server, "zhangwei", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("#nav-unread-count")).to_be_visible()
    assert badge_count(page) == "2"
    screenshot(page, "1-badge")

    page.locator("#nav-notices").click()
    expect(page).to_have_url(f"{live_server.url}{reverse('reports:notice_list')}")
    expect(page.locator("#notice-list .notice-unread")).to_have_count(2)
    screenshot(page, "2-list")

    page.locator("#notice-list .notice-row").first.click()
    expect(page).to_have_url(f"{live_server.url}{reverse('reports:notice_detail', args=[newest.pk])}")
    notice = page.locator("#notice")
    expect(notice).to_contain_text("教育局第一党支部")
    expect(notice).to_contain_text(CYCLE_NAME)
    expect(notice).to_contain_text("张伟")
    assert badge_count(page) == "1"
    screenshot(page, "3-detail")

    page.locator("#notice-links a").first.click()
    assessment = cycle.assessments.get(branch=world.branch)
    expect(page).to_have_url(f"{live_server.url}{reverse('reviews:self_assessment', args=[assessment.pk])}")

    page.goto(f"{live_server.url}{reverse('reports:notice_list')}")
    expect(page.locator("#notice-list .notice-unread")).to_have_count(1)
    page.locator("#mark-all-read").click()
    expect(page.locator("#nav-unread-count")).to_have_count(0)
    expect(page.locator("#notice-list .notice-unread")).to_have_count(0)
    screenshot(page, "4-all-read")


def test_a_visitor_checks_a_certificate_code_and_sees_it_valid(
    page, live_server, world, screenshot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    standard = default_standard()
    cycle = open_default_cycle(world.committee, world.approver, standard=standard, name=CYCLE_NAME)
    certify(
        cycle,
        [cycle.assessments.get(branch=world.branch)],
        secretary=world.secretary,
        parent=world.parent_reviewer,
        approver=world.approver,
        reviewers=list(world.reviewers),
        items=standard_items(standard),
    )
    code = Certificate.objects.get(branch=world.branch).verification_code

    page.goto(f"{live_server.url}{reverse('reports:verify')}")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#nav-user")).to_have_count(0)  # nobody is signed in
    page.locator("#verify-code").fill(code.lower())
    screenshot(page, "1-form")
    page.locator("#verify-form button[type=submit]").click()

    expect(page).to_have_url(f"{live_server.url}{reverse('reports:verify_code', args=[code])}")
    result = page.locator("#verify-result")
    expect(result).to_have_attribute("data-state", "valid")
    expect(result).to_contain_text("教育局第一党支部")
    expect(result).to_contain_text("★★★★★")
    expect(result).to_contain_text(code)
    expect(result).not_to_contain_text("张伟")
    screenshot(page, "2-valid")

    page.locator("#verify-code").fill("0000000000000000")
    page.locator("#verify-form button[type=submit]").click()
    expect(page.locator("#verify-result")).to_have_attribute("data-state", "not-found")
    expect(page.locator("#verify-result")).to_contain_text(re.compile("0000000000000000"))
    screenshot(page, "3-not-found")
