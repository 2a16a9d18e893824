"""One quarter of checks in a real browser, with the demo users.

李建国 (chushen, parent reviewer of the 发改委 party committee) records a monthly check of
BJ-FGW-02 on a phone-sized screen → the scheduled job opens the quarter's round (on a real
worker against Redis on PostgreSQL, as in CI; in-process on SQLite) → the secretaries of
BJ-FGW-01 and BJ-FGW-02 self-report → chushen scores both in the browser, BJ-FGW-02 (five stars in force) far below its star band → the
other branches are scored through the services → 孙丽 (dangwu, staff) publishes and sees the
ranking with the star in force (on a phone too), and exports it → she generates the quarter's
bulletin from the bulletin list and finds the check's ranking on its page, in its PDF's text and in
its Excel sheet → 赵志强 (shenpi, approver) finds the downgrade proposal on the home page and opens it.

Every step leaves a screenshot in test-output/screenshots/checks-quarter/NN-step.png.
"""

import datetime
import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from branches.demo import COMMITTEE_CODE, DEMO_PASSWORD, load_demo
from branches.models import Organization, User
from branches.roles import Role
from branches.services.organizations import assign_role
from checks.demo import _reviewers
from checks.models import CheckEntry, CheckRound, CheckSheet, CheckSheetStatus, DowngradeProposal
from checks.selectors import check_items, check_standard_for
from reports.models import Bulletin, BulletinStatus, JobStatus
from reviews.models import AssessmentStatus
from tests.browser.helpers import DemoBrowser, screenshot_taker
from tests.checks.helpers import score_sheet
from tests.factories import make_assessment, make_certificate, make_cycle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HIGH, LOW = "BJ-FGW-01", "BJ-FGW-02"


@pytest.fixture
def shot(request):
    return screenshot_taker(request.config.rootpath, "checks-quarter")


def _world():
    load_demo()
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    low = Organization.objects.get(code=LOW)
    secretary = User.objects.create_user("shuji2", password=DEMO_PASSWORD, real_name="钱明")
    assign_role(user=secretary, role=Role.BRANCH_SECRETARY, organization=low)
    cycle = make_cycle(committee, opened_by=User.objects.get(username="shenpi"), name="往届星级认定")
    make_certificate(
        make_assessment(cycle, low, status=AssessmentStatus.CERTIFIED, stars=5),
        stars=5,
        issued_at=timezone.now() - datetime.timedelta(days=200),
        valid_until=timezone.localdate() + datetime.timedelta(days=500),
    )
    return committee, low


def _open_the_round_as_beat_does(settings, tmp_path) -> None:
    """Beat's message for the first day of a quarter, run by a real worker on PostgreSQL and Redis
    (CI always); on a laptop's SQLite, the same task in-process."""
    from reports.tasks import open_check_round_task, open_quarter_check_rounds

    if connection.vendor != "postgresql" and os.environ.get("CI", "").lower() != "true":
        open_quarter_check_rounds.apply(throw=True)
        return
    from tests.reports.test_celery_worker import broker_url, finished_runs, skip_or_fail, wait_for, workers_on

    if connection.vendor != "postgresql":
        skip_or_fail("the worker needs PostgreSQL: set DATABASE_URL=postgres://…")
    url = broker_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        skip_or_fail(f"Redis at {url} is unreachable ({exc})")
    client.flushdb()
    with workers_on(url, settings, tmp_path) as start:
        worker = start()
        open_quarter_check_rounds.delay()
        runs = wait_for(finished_runs(open_check_round_task.name, 1), "the round job", log=worker.log)
    client.flushdb()
    client.close()
    assert [run.status for run in runs] == [JobStatus.SUCCEEDED], [run.error for run in runs]


def _fill_scores(page, items, total: Decimal) -> None:
    missing = Decimal("100") - total
    for item in items:
        off = min(item.max_score, missing)
        missing -= off
        page.locator(f"input[name=score_{item.pk}]").fill(str(item.max_score - off))


def test_one_quarter_from_the_monthly_check_to_the_downgrade_proposal(
    page, live_server, settings, tmp_path, shot
):
    settings.MEDIA_ROOT = tmp_path / "media"
    committee, low = _world()
    ui = DemoBrowser(page, live_server)
    page.on("dialog", lambda dialog: dialog.accept())  # every confirmation is answered yes

    # --- 1. A monthly check on a phone -------------------------------------------------------------
    page.set_viewport_size({"width": 390, "height": 844})
    ui.sign_in("chushen")
    page.goto(ui.url("checks:entry_new") + f"?branch={low.pk}")
    third_item = check_items(check_standard_for(committee).pk)[10]  # 3.3 三会一课
    page.locator(f"input[name=items][value='{third_item.pk}']").check()
    page.locator("textarea[name=findings]").fill(
        "查阅本月支委会记录：未按时召开支委会，党费收缴台账缺两个月。"
    )
    shot(page, "monthly-check-on-a-phone")
    page.locator("main form button[type=submit]").click()
    entry = CheckEntry.objects.get(branch=low)
    expect(page).to_have_url(ui.url("checks:entry_detail", entry.pk))
    expect(page.locator("main")).to_contain_text("党费收缴台账缺两个月")
    page.set_viewport_size({"width": 1280, "height": 900})

    # --- 2. The scheduled job opens the round -------------------------------------------------------
    _open_the_round_as_beat_does(settings, tmp_path)
    check_round = CheckRound.objects.get(committee=committee)
    assert check_round.opened_by is None
    items = check_items(check_round.standard_id)
    sheets = {code: CheckSheet.objects.get(round=check_round, branch__code=code) for code in (HIGH, LOW)}

    # --- 3. Two secretaries self-report ---------------------------------------------------------------
    for username, code, text in (
        ("shuji", HIGH, "本季度召开支委会3次。"),
        ("shuji2", LOW, "本季度开展主题党日1次。"),
    ):
        ui.sign_in(username)
        ui.goto("checks:sheet_self_report", sheets[code].pk)
        page.locator(f"textarea[name=report_{items[6].pk}]").fill(text)
        page.locator("main form button[type=submit]").click()
        expect(page.locator(f"textarea[name=report_{items[6].pk}]")).to_have_value(text)
    shot(page, "self-report")

    # --- 4. The parent reviewer scores both, beside the quarter's monthly check ---------------------------
    ui.sign_in("chushen")
    for code, total in ((HIGH, Decimal("96")), (LOW, Decimal("70"))):
        ui.goto("checks:sheet_score", sheets[code].pk)
        if code == LOW:
            expect(page.locator("main")).to_contain_text("本季度开展主题党日1次。")
            # The monthly check beside the item it looked at.
            row = page.locator("main table tbody tr", has=page.locator(f"input[name=score_{third_item.pk}]"))
            expect(row).to_contain_text("党费收缴台账缺两个月")
        _fill_scores(page, items, total)
        if code == LOW:
            shot(page, "scoring-far-below")
        page.locator("button[name=action][value=submit]").click()
        expect(page).to_have_url(ui.url("checks:round_detail", check_round.pk))
        sheets[code].refresh_from_db()
        assert (sheets[code].status, sheets[code].total) == (CheckSheetStatus.SUBMITTED, total)

    # The rest of the committee through the services.
    reviewers = {**_reviewers(committee), committee.pk: User.objects.get(username="dangwu")}
    for sheet in check_round.sheets.filter(status=CheckSheetStatus.PENDING).order_by("pk"):
        score_sheet(sheet, reviewers[sheet.group_id], "88")

    # --- 5. Staff publish and see the ranking with the star in force; the export -----------------------------
    ui.sign_in("dangwu")
    ui.goto("checks:round_detail", check_round.pk)
    page.locator("form[action$='/publish/'] button").click()
    expect(page.locator("main table")).to_contain_text(low.name)
    check_round.refresh_from_db()
    assert check_round.is_published
    first_row = page.locator("main table tbody tr").first
    expect(first_row).to_contain_text(Organization.objects.get(code=HIGH).name)
    low_row = page.locator("main table tbody tr", has_text=low.name)
    expect(low_row.locator(".bi-star-fill")).to_have_count(5)
    shot(page, "published-ranking")
    with page.expect_download() as download:
        page.locator("a.export-xlsx").click()
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[1][0] == 1 and rows[1][2] == Organization.objects.get(code=HIGH).name and rows[1][5] == 96
    page.set_viewport_size({"width": 390, "height": 844})
    ui.goto("checks:round_detail", check_round.pk)
    shot(page, "published-ranking-on-a-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # --- 6. The quarter's bulletin: generated now, its ranking on the page, in the PDF and the Excel ---------
    high_name = Organization.objects.get(code=HIGH).name
    ui.goto("reports:bulletin_list")
    page.locator("select[name=quarter]").select_option(f"{check_round.year}-{check_round.quarter}")
    page.locator("main form button[type=submit]").first.click()  # in-process without a broker
    bulletin = Bulletin.objects.get(committee=committee, year=check_round.year, quarter=check_round.quarter)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    page.locator(f"a[href='{reverse('reports:bulletin_detail', args=[bulletin.pk])}']").first.click()
    ranking = page.locator("#bulletin-check-ranking ~ div table, #bulletin-check-ranking ~ table").first
    expect(ranking.locator("tbody tr").first).to_contain_text(high_name)
    expect(ranking.locator("tbody tr").first).to_contain_text("96")
    expect(page.locator("main")).to_contain_text(low.name)
    shot(page, "quarterly-bulletin")
    with page.expect_download() as download:
        page.locator(f"a[href='{reverse('reports:bulletin_pdf', args=[bulletin.pk])}']").click()
    text = "\n".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    text = text.replace(" ", "")
    check_part = text[text.index("季度考核排名") :] if "季度考核排名" in text else text
    assert check_part.index(high_name) < check_part.index(low.name)
    assert f"1{high_name}" in check_part and "96.0" in check_part and "70.0" in check_part
    with page.expect_download() as download:
        page.locator(f"a[href='{reverse('reports:bulletin_xlsx', args=[bulletin.pk])}']").click()
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    with translation.override("zh-hans"):
        check_sheet = workbook[gettext("Check ranking")]
    ranked = [row for row in check_sheet.iter_rows(min_row=3, values_only=True) if isinstance(row[1], int)]
    assert (ranked[0][1], ranked[0][2], ranked[0][4]) == (1, high_name, Decimal("96.0"))
    low_ranked = next(row for row in ranked if row[2] == low.name)
    assert low_ranked[1] == len(ranked) and low_ranked[4] == Decimal("70.0")

    # --- 7. The approver gets the downgrade proposal ---------------------------------------------------------
    proposal = DowngradeProposal.objects.get(branch=low, source="low_score")
    assert low.certificates.get().stars == 5  # nothing changed by itself
    ui.sign_in("shenpi")
    page.locator("a.check-todo-proposals").click()
    expect(page).to_have_url(ui.url("checks:proposal_list"))
    page.locator(f"a[href='{reverse('checks:proposal_decide', args=[proposal.pk])}']").click()
    expect(page.locator("main")).to_contain_text("70")
    shot(page, "downgrade-proposal")


def test_the_year_bulletin_from_the_year_results_page_on_desktop_and_phone(
    page, live_server, settings, tmp_path
):
    """孙丽 (dangwu) generates last year's year bulletin (年度通报) from the year-results page once
    its four checks are published, reads it on a desktop and a phone, publishes it, downloads it."""
    from reports.models import BulletinKind
    from tests.reports.test_year_bulletin import frozen_year

    settings.MEDIA_ROOT = tmp_path / "media"
    shot = screenshot_taker(Path(settings.BASE_DIR), "year-bulletin")
    sized, staff = frozen_year("Y", 12)
    staff.set_password(DEMO_PASSWORD)
    staff.save(update_fields=["password"])
    ui = DemoBrowser(page, live_server)
    ui.sign_in(staff.username)
    page.goto(ui.url("checks:year_results") + "?year=2025")
    expect(page.locator("#year-bulletin")).to_contain_text(sized.committee.name)
    shot(page, "year-results")
    page.locator("#year-bulletin form button[type=submit]").click()  # in-process without a broker
    bulletin = Bulletin.objects.get(kind=BulletinKind.YEAR, committee=sized.committee, year=2025)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    page.goto(ui.url("checks:year_results") + "?year=2025")
    page.locator("#year-bulletin a").first.click()
    expect(page).to_have_url(ui.url("reports:bulletin_detail", bulletin.pk))
    first = bulletin.data["rows"][0]
    expect(page.locator("#year-rows tbody tr").first).to_contain_text(first["branch"])
    expect(page.locator("#year-rows tbody tr").first).to_contain_text(first["mean"])
    expect(page.locator("#year-flags ~ div table, #year-flags ~ table").first).to_contain_text(
        bulletin.data["flags"][0]["branch"]
    )
    shot(page, "year-bulletin-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator(".phone-chart").first).to_be_visible()
    # Nothing wider than the screen but the tables, which scroll in their wrappers.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "year-bulletin-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#confirm-publish").check()
    page.locator("form[action$='/publish/'] button[type=submit]").click()
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.PUBLISHED and bulletin.published_by == staff
    with page.expect_download() as download:
        page.locator(f"a[href='{reverse('reports:bulletin_pdf', args=[bulletin.pk])}']").click()
    text = "\n".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert first["branch"] in text and "2025年度季度考核年度通报" in text.replace(" ", "").replace("\n", "")
    ui.goto("reports:bulletin_list")
    expect(page.locator("main table")).to_contain_text("2025年度")
    shot(page, "bulletin-list")
