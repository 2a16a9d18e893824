"""On a 390 × 844 phone, a reviewer filters the scoring list by cycle and downloads it as Excel.

The demo's kaohe1 has work in the past and the current cycle: the list opens on the current
(open) one, "all cycles" brings the past one back, and "导出 Excel" downloads exactly the rows
the filter lists. Screenshots: test-output/screenshots/export_download/.
"""

import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from branches.demo import load_demo as load_demo_tree
from branches.models import User
from reviews.demo import CURRENT_CYCLE, PAST_CYCLE
from reviews.demo import load_demo as load_demo_cycles
from reviews.selectors import reviewer_assignments
from tests.browser.helpers import DemoBrowser, screenshot_taker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shot(request):
    return screenshot_taker(request.config.rootpath, "export_download")


def downloaded_rows(page) -> list[tuple]:
    with page.expect_download() as info:
        page.locator("a.export-xlsx").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    return list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))


def test_a_reviewer_filters_the_assignments_by_cycle_and_exports_them(
    page, live_server, settings, tmp_path, shot
):
    settings.MEDIA_ROOT = tmp_path / "media"
    load_demo_tree()
    load_demo_cycles()
    reviewer = User.objects.get(username="kaohe1")
    mine = reviewer_assignments(reviewer)
    current = mine.filter(assessment__cycle__name=CURRENT_CYCLE).count()
    assert current and mine.filter(assessment__cycle__name=PAST_CYCLE).exists()
    page.set_viewport_size(PHONE)
    ui = DemoBrowser(page, live_server)
    ui.sign_in("kaohe1")
    ui.goto("reviews:my_assignments")

    chooser = page.get_by_label("认定周期")
    expect(chooser.locator("option:checked")).to_have_text(CURRENT_CYCLE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "current-cycle")
    rows = downloaded_rows(page)
    assert len(rows) == current and {row[3] for row in rows} == {CURRENT_CYCLE}

    chooser.select_option(value="all")
    expect(page).to_have_url(ui.url("reviews:my_assignments") + "?cycle=all")
    shot(page, "all-cycles")
    rows = downloaded_rows(page)
    assert len(rows) == mine.count() and {row[3] for row in rows} == {CURRENT_CYCLE, PAST_CYCLE}
