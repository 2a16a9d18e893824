"""The quarterly bulletin: its data, PDF and workbook, idempotent generation and publication.

The world (2026 Q3, today 2026-10-10 in Shanghai) is drawn in tests/reports/bulletin_world.py.
"""

import datetime
import json
import re
import threading
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from pypdf import PdfReader

from branches.errors import WorkflowError
from branches.models import CommitteePolicy
from reports.bulletin import pdf as pdf_renderer
from reports.bulletin.data import bulletin_data
from reports.bulletin.html import bulletin_html
from reports.bulletin.xlsx import bulletin_xlsx
from reports.models import Bulletin, BulletinStatus
from reports.pdf import PdfResult
from reports.quarters import previous_quarter, quarter_of
from reports.services.bulletins import generate_bulletin, publish_bulletin
from reviews.models import (
    Assessment,
)
from tests.factories import make_branch, make_committee
from tests.reports.bulletin_world import NOW, QUARTER, TODAY, YEAR, build_scored_committee
from tests.storage.support import open_stored, read_stored, stored_names

# The two charts' SVG, not the small bars of their phone twins.
CHART_SVG = '<svg xmlns="http://www.w3.org/2000/svg" class="chart"'


@pytest.fixture
def data(bulletin_world) -> dict:
    with translation.override("zh-hans"):
        return bulletin_data(committee=bulletin_world.committee, year=YEAR, quarter=QUARTER, today=TODAY)


@pytest.fixture(autouse=True)
def in_english():
    """Messages in English, whatever the catalogue says; the bulletin itself is rendered in Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def names(rows, key="name") -> list[str]:
    return [row[key] for row in rows]


# --- Quarters --------------------------------------------------------------------------------


def test_quarter_of_and_previous_quarter_cross_the_year():
    assert quarter_of(datetime.date(2026, 1, 1)) == (2026, 1)
    assert quarter_of(datetime.date(2026, 9, 30)) == (2026, 3)
    assert quarter_of(datetime.date(2026, 10, 1)) == (2026, 4)
    assert previous_quarter(2026, 1) == (2025, 4)
    assert previous_quarter(2026, 3) == (2026, 2)
    assert previous_quarter(2026, 3, steps=7) == (2024, 4)


# --- The data --------------------------------------------------------------------------------


def test_star_counts_are_those_in_force_at_the_quarters_end(data):
    assert data["committee"]["name"] == "第一工委"
    assert data["period"] == {
        "start": "2026-07-01",
        "end": "2026-09-30",
        "as_of": "2026-09-30",
        "complete": True,
        "timezone": "Asia/Shanghai",
    }
    totals = data["totals"]
    assert totals["branches"] == 8
    assert totals["counts"] == [2, 2, 1, 0, 0]  # ★5 ★4 ★3 ★2 ★1
    assert (totals["rated"], totals["unrated"], totals["revoked"]) == (5, 2, 1)  # B3 revoked, apart
    assert totals["five_star_percent"] == "25.0"
    assert data["target"] == {
        "five_star_percent": "25.0",
        "target_percent": "80",
        "reached": False,
        "gap": "55",
    }


def test_distribution_per_parent_org_covers_its_subtree_and_adds_up_to_the_totals(data):
    rows = {row["name"]: row for row in data["distribution"]}
    assert len(rows) == 3 and set(list(rows)[:2]) == {"甲党委", "乙党委"}  # the direct branches last
    assert rows["甲党委"]["branches"] == 5  # B5 of the nested general branch included
    assert rows["甲党委"]["counts"] == [2, 1, 1, 0, 0]
    assert (rows["甲党委"]["unrated"], rows["甲党委"]["revoked"]) == (0, 1)
    assert rows["乙党委"]["counts"] == [0, 0, 0, 0, 0] and rows["乙党委"]["unrated"] == 2
    direct = data["distribution"][-1]
    assert direct["branches"] == 1 and direct["counts"] == [0, 1, 0, 0, 0]
    for index in range(5):
        assert sum(row["counts"][index] for row in data["distribution"]) == data["totals"]["counts"][index]


def test_commendation_lists_name_the_five_four_and_three_star_branches_with_their_parent(data):
    lists = {group["stars"]: group["branches"] for group in data["commendations"]}
    assert list(lists) == [5, 4, 3]
    assert {(b["name"], b["parent"]) for b in lists[5]} == {
        ("甲一支部", "甲党委"),
        ("总支一支部", "甲党委下属党总支"),
    }
    assert {(b["name"], b["parent"]) for b in lists[4]} == {
        ("甲二支部", "甲党委"),
        ("工委机关支部", "第一工委"),
    }
    assert [(b["name"], b["since"]) for b in lists[3]] == [("甲四支部", "2025-01-10")]


def test_changes_are_the_star_events_of_the_quarter_in_shanghai_time(data):
    rows = data["changes"]["rows"]
    assert [(r["date"], r["branch"], r["kind"], r["from_stars"], r["to_stars"]) for r in rows] == [
        ("2026-07-01", "工委机关支部", "certification", None, 4),
        ("2026-08-15", "甲二支部", "downgrade", 5, 4),
        ("2026-09-01", "乙一支部", "expiry", 2, None),
        ("2026-09-10", "甲三支部", "revocation", 4, None),
    ]
    downgrade = rows[1]
    assert (downgrade["reason"], downgrade["violation"], downgrade["parent"]) == (
        "未按期召开组织生活会",
        "三会一课制度",
        "甲党委",
    )
    assert {item["kind"]: item["count"] for item in data["changes"]["summary"]} == {
        "certification": 1,
        "downgrade": 1,
        "revocation": 1,
        "expiry": 1,
    }


def test_ranking_uses_each_branchs_latest_decided_score_and_ties_share_a_rank(data):
    ranking = data["ranking"]
    assert ranking["ranked"] == 7  # B7 never scored; B9 inactive; D1 another committee
    assert [(r["branch"], r["score"], r["rank"]) for r in ranking["top"][:4]] == [
        ("总支一支部", "97.0", 1),
        ("工委机关支部", "96.5", 2),  # the current cycle's score, not the past one
        ("甲一支部", "96.0", 3),
        ("甲二支部", "95.5", 4),
    ]
    assert {(r["branch"], r["rank"]) for r in ranking["top"][4:6]} == {("甲三支部", 5), ("甲四支部", 5)}
    # B6's 99.0 was decided after the quarter; B4's 99.0 is not decided yet.
    assert (ranking["top"][6]["branch"], ranking["top"][6]["score"], ranking["top"][6]["rank"]) == (
        "乙一支部",
        "72.0",
        7,
    )
    assert ranking["bottom"] == []  # seven branches: all in the top ten


@pytest.mark.parametrize(
    ("minimum", "p1_eligible"),
    [(Decimal("40"), True), (Decimal("40.01"), False), (Decimal("39.99"), True)],
)
def test_five_goods_needs_the_minimum_five_star_share_exactly(bulletin_world, minimum, p1_eligible):
    CommitteePolicy.objects.filter(committee=bulletin_world.committee).update(five_goods_min_percent=minimum)
    data = bulletin_data(committee=bulletin_world.committee, year=YEAR, quarter=QUARTER, today=TODAY)
    rows = {row["name"]: row for row in data["five_goods"]}
    assert (rows["甲党委"]["branches"], rows["甲党委"]["five_star"], rows["甲党委"]["five_star_percent"]) == (
        5,
        2,
        "40.0",
    )
    assert rows["甲党委"]["eligible"] is p1_eligible
    assert rows["甲党委下属党总支"]["eligible"] is True and rows["甲党委下属党总支"]["level"] == 1
    assert rows["乙党委"]["eligible"] is False


def test_trend_gives_the_five_star_share_at_the_end_of_each_of_the_last_eight_quarters(data):
    trend = data["trend"]
    assert [(p["year"], p["quarter"]) for p in trend] == [
        (2024, 4),
        (2025, 1),
        (2025, 2),
        (2025, 3),
        (2025, 4),
        (2026, 1),
        (2026, 2),
        (2026, 3),
    ]
    # 2024 Q4: only B4's old two-star certificate; then B1 B2 B5 five-star; Q3: B1 B5.
    assert [(p["rated"], p["five_star"], p["five_star_percent"]) for p in trend] == [
        (1, 0, "0.0"),
        *[(6, 3, "37.5")] * 6,
        (5, 2, "25.0"),
    ]
    assert trend[-1]["as_of"] == "2026-09-30" and trend[0]["as_of"] == "2024-12-31"


def test_progress_counts_the_current_cycle_by_funnel_stage_per_parent_org(data):
    progress = data["progress"]
    assert progress["cycle"]["name"] == "2025—2026年度"
    stages = [stage["status"] for stage in progress["stages"]]
    assert stages == [
        "not_started",
        "draft",
        "submitted",
        "forwarded",
        "scored",
        "decided",
        "certified",
        "not_taking_part",
    ]
    rows = {row["name"]: row for row in progress["rows"]}
    assert rows["甲党委"]["counts"] == [1, 2, 1, 0, 1, 0, 0, 0]  # returned counts as draft
    assert rows["乙党委"]["counts"] == [0, 0, 0, 1, 0, 1, 0, 0]
    assert progress["rows"][-1]["counts"] == [0, 0, 0, 0, 0, 0, 1, 0]
    assert progress["totals"] == {"counts": [1, 2, 1, 1, 1, 1, 1, 0], "total": 8}


def test_a_running_quarter_counts_the_levels_in_force_today(bulletin_world):
    data = bulletin_data(committee=bulletin_world.committee, year=2026, quarter=4, today=TODAY)
    assert data["period"]["as_of"] == "2026-10-10" and data["period"]["complete"] is False
    # B1's downgrade on 10-01 counts now.
    assert data["totals"]["counts"] == [1, 3, 1, 0, 0]
    assert [row["kind"] for row in data["changes"]["rows"]] == ["downgrade"]
    assert data["ranking"]["top"][0]["score"] == "99.0"  # B6, decided on 10-03


def test_a_quarter_that_has_not_begun_is_refused(bulletin_world):
    with pytest.raises(ValueError, match="not begun"):
        bulletin_data(committee=bulletin_world.committee, year=2027, quarter=1, today=TODAY)


def test_the_data_is_plain_json(data):
    assert json.loads(json.dumps(data)) == data


def data_queries(n_branches: int, prefix: str) -> tuple[int, dict]:
    committee, _staff = build_scored_committee(n_branches, prefix)
    with CaptureQueriesContext(connection) as ctx:
        data = bulletin_data(committee=committee, year=YEAR, quarter=QUARTER, today=TODAY)
    return len(ctx.captured_queries), data


@pytest.mark.django_db
def test_the_data_function_runs_the_same_number_of_queries_with_10_and_200_branches():
    small, small_data = data_queries(10, "S")
    large, large_data = data_queries(200, "L")
    assert small == large
    assert small_data["totals"]["branches"] == 10 and large_data["totals"]["branches"] == 200
    # Seven branches share each score: the lists keep every branch tied at the tenth place.
    top, bottom = large_data["ranking"]["top"], large_data["ranking"]["bottom"]
    assert len(top) >= 10 and len(bottom) >= 10
    assert top[-1]["rank"] <= 10 and len(large_data["ranking"]["rows"]) == 200
    assert len(large_data["changes"]["rows"]) == 29


# --- Rendering -------------------------------------------------------------------------------


def pdf_text(source) -> list[str]:
    return [page.extract_text() for page in PdfReader(source).pages]


@pytest.fixture
def generated(bulletin_world, media) -> Bulletin:
    with time_machine.travel(NOW):
        return generate_bulletin(committee_id=bulletin_world.committee.pk, year=YEAR, quarter=QUARTER)


def test_generation_makes_a_draft_with_its_pdf_and_workbook_under_media(generated, media):
    assert generated.status == BulletinStatus.DRAFT, generated.error
    assert generated.error == ""
    committee_id = generated.committee_id
    assert generated.pdf.name == f"bulletins/{committee_id}/2026Q3.pdf"
    assert generated.xlsx.name == f"bulletins/{committee_id}/2026Q3.xlsx"
    assert default_storage.exists(generated.pdf.name) and default_storage.exists(generated.xlsx.name)
    assert generated.data["totals"]["counts"] == [2, 2, 1, 0, 0]
    assert generated.data["language"] == "zh-hans"
    annexes = [annex.pdf.name for annex in generated.annexes.all()]
    assert annexes and all(default_storage.exists(name) for name in annexes)
    # No .part left: the main PDF, the workbook and one annex per party committee.
    assert stored_names(f"bulletins/{committee_id}") == sorted(
        [generated.pdf.name, generated.xlsx.name, *annexes]
    )


def test_the_pdf_holds_the_committee_the_counts_per_star_level_and_page_numbers(generated, media):
    pages = pdf_text(open_stored(generated.pdf.name))
    text = "\n".join(pages)
    assert "第一工委" in pages[0]
    assert "第 1 页 / 共" in pages[0]
    # The distribution's total row: 8 branches, ★5..★1 = 2 2 1 0 0, 2 unrated, 1 revoked, 25.0 %.
    assert re.search(r"\b8 2 2 1 0 0 2 1 25\.0%", text)
    assert "5 星" in text and "甲党委下属党总支" in text
    assert "未按期召开组织生活会" in text.replace("\n", "")  # a wrapped table cell


def test_the_bulletin_html_renders_without_missing_glyphs(data, tmp_path):
    from reports.pdf import render_pdf

    html = bulletin_html(data)
    assert '<html lang="zh-CN">' in html
    assert html.count(CHART_SVG) == 2 and "Dangjian CJK" in html
    result = render_pdf(html, tmp_path / "check.pdf")
    assert result.notdef_warnings == []
    assert result.pages >= 2


def test_a_pdf_with_missing_glyphs_is_refused(bulletin_world, media, monkeypatch):
    def boxes(html, target, **kwargs):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_bytes(b"%PDF-1.4 boxes")
        return PdfResult(
            path=Path(target), pages=1, notdef_warnings=["No glyph for U+4E00 .notdef glyph rendered"]
        )

    monkeypatch.setattr(pdf_renderer, "render_pdf", boxes)
    with time_machine.travel(NOW):
        bulletin = generate_bulletin(committee_id=bulletin_world.committee.pk, year=YEAR, quarter=QUARTER)
    assert bulletin.status == BulletinStatus.FAILED
    assert ".notdef" in bulletin.error
    assert not bulletin.pdf and not bulletin.xlsx
    assert stored_names(f"bulletins/{bulletin_world.committee.pk}") == []


def test_an_unexpected_error_marks_the_bulletin_failed_and_propagates(bulletin_world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("pango exploded")

    monkeypatch.setattr(pdf_renderer, "render_pdf", broken)
    with time_machine.travel(NOW), pytest.raises(RuntimeError):
        generate_bulletin(committee_id=bulletin_world.committee.pk, year=YEAR, quarter=QUARTER)
    bulletin = Bulletin.objects.get(committee=bulletin_world.committee)
    assert bulletin.status == BulletinStatus.FAILED
    assert "pango exploded" in bulletin.error


def test_the_workbook_has_its_seven_sheets_with_numbers_equal_to_the_data_and_the_pdf(generated, media):
    data = generated.data
    workbook = openpyxl.load_workbook(open_stored(generated.xlsx.name))
    with translation.override("zh-hans"):
        expected = [
            translation.gettext(name)
            for name in (
                "Star distribution",
                "Commendation",
                "Changes in the quarter",
                "Certification progress",
                "Score ranking",
                "Five goods",
                "Appeals",
            )
        ]
        check_ranking = translation.gettext("Check ranking")  # version 3: the quarterly check
        # version 5: rectification, supervision and stages, last
        between = [
            translation.gettext(name)
            for name in ("Rectification", "Overdue tasks", "Supervision", "Stages", "Stage changes")
        ]
    assert workbook.sheetnames == [*expected, check_ranking, *between]
    distribution, commendation, changes, progress, ranking, five_goods, appeals = (
        workbook[n] for n in expected
    )

    rows = list(distribution.iter_rows(min_row=3, values_only=True))
    total = rows[len(data["distribution"])]
    assert list(total[1:9]) == [8, 2, 2, 1, 0, 0, 2, 1]  # … unrated, revoked
    assert all(isinstance(value, int) for value in total[1:9])
    assert total[9] == pytest.approx(25.0)
    # The same numbers as the PDF's total row.
    assert re.search(
        " ".join(str(v) for v in total[1:9]) + r" 25\.0%",
        "\n".join(pdf_text(open_stored(generated.pdf.name))),
    )

    stars = [row[0] for row in commendation.iter_rows(min_row=3, values_only=True)]
    assert stars == [5, 5, 4, 4, 3]

    change_rows = list(changes.iter_rows(min_row=3, values_only=True))
    assert len(change_rows) == 4
    assert change_rows[1][0] == datetime.datetime(2026, 8, 15)  # a date cell
    assert change_rows[1][4:6] == (5, 4)

    ranking_rows = list(ranking.iter_rows(min_row=3, values_only=True))
    assert [(row[1], row[4]) for row in ranking_rows[:2]] == [(1, 97.0), (2, 96.5)]
    assert not isinstance(ranking_rows[0][4], str)  # a number, as Excel reads it

    progress_rows = list(progress.iter_rows(min_row=3, values_only=True))
    assert list(progress_rows[-1][1:]) == [1, 2, 1, 1, 1, 1, 1, 0, 8]  # … certified, did not take part, total

    goods = {row[0]: row for row in five_goods.iter_rows(min_row=3, values_only=True)}
    assert goods["甲党委"][2:5] == (5, 2, 40.0)

    appeal_rows = list(appeals.iter_rows(min_row=3, values_only=True))
    assert appeal_rows[-1][1] == data["appeals"]["total"]  # the total, a number


def test_the_workbook_is_written_atomically(data, tmp_path):
    target = tmp_path / "out" / "b.xlsx"
    bulletin_xlsx(data, target)
    assert target.is_file()
    assert [p.name for p in target.parent.iterdir()] == ["b.xlsx"]


# --- Idempotence and publication --------------------------------------------------------------


def test_generating_twice_keeps_one_row_and_refreshes_the_draft(generated, bulletin_world):
    first_generated_at = generated.generated_at
    with time_machine.travel(NOW + datetime.timedelta(hours=1)):
        again = generate_bulletin(committee_id=bulletin_world.committee.pk, year=YEAR, quarter=QUARTER)
    assert again.pk == generated.pk
    assert Bulletin.objects.filter(committee=bulletin_world.committee).count() == 1
    assert again.status == BulletinStatus.DRAFT
    assert again.generated_at > first_generated_at


def test_a_row_inserted_by_another_worker_is_reused_not_duplicated(bulletin_world):
    existing = Bulletin.objects.create(committee=bulletin_world.committee, year=YEAR, quarter=QUARTER)
    with time_machine.travel(NOW):
        bulletin = generate_bulletin(committee_id=bulletin_world.committee.pk, year=YEAR, quarter=QUARTER)
    assert bulletin.pk == existing.pk and bulletin.status == BulletinStatus.DRAFT
    assert Bulletin.objects.count() == 1


def test_a_published_bulletin_is_never_generated_again(generated, bulletin_world, media):
    publish_bulletin(bulletin=generated, actor=bulletin_world.people["staff"])
    before = (read_stored(generated.pdf.name), Bulletin.objects.get(pk=generated.pk).data)
    # Records change afterwards; the published bulletin does not.
    Assessment.objects.filter(branch=bulletin_world.orgs["B7"]).update(consolidated_score=Decimal("100"))
    with time_machine.travel(NOW + datetime.timedelta(days=1)):
        again = generate_bulletin(committee_id=bulletin_world.committee.pk, year=YEAR, quarter=QUARTER)
    assert again.status == BulletinStatus.PUBLISHED
    assert (read_stored(generated.pdf.name), Bulletin.objects.get(pk=generated.pk).data) == before


def test_a_quarter_that_has_not_begun_cannot_be_generated(bulletin_world):
    from django.core.exceptions import ValidationError

    with time_machine.travel(NOW), pytest.raises(ValidationError):
        generate_bulletin(committee_id=bulletin_world.committee.pk, year=2027, quarter=1)
    assert not Bulletin.objects.exists()


def draft(bulletin_world) -> Bulletin:
    return Bulletin.objects.create(
        committee=bulletin_world.committee,
        year=YEAR,
        quarter=QUARTER,
        status=BulletinStatus.DRAFT,
        data={"x": 1},
    )


@pytest.mark.parametrize("who", ["staff", "approver"])
def test_staff_and_approvers_publish_a_draft(bulletin_world, who):
    bulletin = publish_bulletin(bulletin=draft(bulletin_world), actor=bulletin_world.people[who])
    assert bulletin.status == BulletinStatus.PUBLISHED
    assert bulletin.published_by == bulletin_world.people[who] and bulletin.published_at is not None


@pytest.mark.parametrize("who", ["secretary", "p2_staff", "other_staff", "outsider"])
def test_others_cannot_publish(bulletin_world, who):
    bulletin = draft(bulletin_world)
    with pytest.raises(PermissionDenied):
        publish_bulletin(bulletin=bulletin, actor=bulletin_world.people[who])
    assert Bulletin.objects.get(pk=bulletin.pk).status == BulletinStatus.DRAFT


def test_publishing_twice_makes_one_change(bulletin_world):
    bulletin = draft(bulletin_world)
    first = publish_bulletin(bulletin=bulletin, actor=bulletin_world.people["staff"])
    stale = Bulletin.objects.get(pk=bulletin.pk)
    stale.status = BulletinStatus.DRAFT  # a second click from a page loaded before the first
    with pytest.raises(WorkflowError, match="already been published"):
        publish_bulletin(bulletin=stale, actor=bulletin_world.people["approver"])
    after = Bulletin.objects.get(pk=bulletin.pk)
    assert (after.published_by, after.published_at) == (bulletin_world.people["staff"], first.published_at)


@pytest.mark.parametrize("status", [BulletinStatus.GENERATING, BulletinStatus.FAILED])
def test_only_a_draft_can_be_published(bulletin_world, status):
    bulletin = draft(bulletin_world)
    Bulletin.objects.filter(pk=bulletin.pk).update(status=status)
    bulletin.refresh_from_db()
    with pytest.raises(WorkflowError):
        publish_bulletin(bulletin=bulletin, actor=bulletin_world.people["staff"])


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_generations_make_one_bulletin_rendered_once(monkeypatch, media):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with row locks and concurrent writers (PostgreSQL)")
    committee = make_committee("并发工委", "RACE")
    make_branch("并发支部", "RACE-B", parent=committee)
    calls = []

    def slow_render(html, target, **kwargs):
        calls.append(target)
        time.sleep(1.5)  # long enough for the other worker to arrive while this one renders
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_bytes(b"%PDF-1.4 slow")
        return PdfResult(path=Path(target), pages=1)

    monkeypatch.setattr(pdf_renderer, "render_pdf", slow_render)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(generate_bulletin(committee_id=committee.pk, year=YEAR, quarter=QUARTER).pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    with time_machine.travel(NOW):  # process-wide: entered once, not per thread
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert Bulletin.objects.filter(committee=committee).count() == 1
    assert len(set(results)) == 1 and len(results) == 2
    assert len(calls) == 1
    assert Bulletin.objects.get(committee=committee).status == BulletinStatus.DRAFT


def test_the_web_preview_cuts_long_lists_and_says_how_many_rows_the_files_hold(data):
    from reports.bulletin.html import document_html

    data = {**data, "language": "en"}  # the bulletin renders in its own language
    cut = str(document_html(data, row_limit=1))
    full = str(document_html(data))
    assert "And 1 more" in cut and "And 1 more" not in full
    assert cut.count(CHART_SVG) == full.count(CHART_SVG) == 2
