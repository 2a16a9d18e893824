"""The quarterly bulletin's ranking from the quarter's published check (data version 3).

A year of checks (tests/checks/helpers.py) up to 2025 Q3; the bulletin of 2025 Q3 must show
each branch's rank, score, star in force and change against Q2 exactly as the published check
froze them in the database, in the data, the web page, the PDF and the Excel file.

    Q2 ranks A1 C2 B3 E4 F4 D6 · Q3 totals A 90 B 89.9 D 86 E 82 F 82 C 75
    → Q3 ranks A1 B2 D3 E4 F4 C6, changes A — B ↑1 D ↑3 E — F — C ↓4.
    C (P1) and E (P2) are last in their party committee in Q1 and Q3 → 班子调整 flags by Q3.
"""

import datetime
import re
from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.utils import translation
from pypdf import PdfReader

from checks.models import CheckSheet, LeadershipFlag
from checks.services.years import record_flag_action
from reports.bulletin import data as bulletin_data_module
from reports.bulletin.data import DATA_VERSION, bulletin_data, check_change_label
from reports.bulletin.html import document_html
from reports.bulletin.xlsx import bulletin_xlsx
from reports.models import Bulletin, BulletinStatus
from reports.services.bulletins import generate_bulletin
from scoring.templatetags.stars import star_label
from tests.checks.helpers import build_check_world, certify_branch, run_quarter
from tests.reports.bulletin_world import NOW, QUARTER, YEAR
from tests.storage.support import open_stored

pytestmark = pytest.mark.django_db

TOTALS = {
    1: {"A": "88.5", "B": "95.0", "C": "70.0", "D": "85.0", "E": "80.0", "F": "85.0"},
    2: {"A": "91.5", "B": "85.6", "C": "86.0", "D": "80.0", "E": "85.0", "F": "85.0"},
    3: {"A": "90.0", "B": "89.9", "C": "75.0", "D": "86.0", "E": "82.0", "F": "82.0"},
}
QUARTER_DAYS = {1: "2025-03-28", 2: "2025-06-27", 3: "2025-09-26"}
AFTER_Q3 = "2025-10-10 10:00 +0800"
CHANGES = {"A支部": "—", "B支部": "↑1", "D支部": "↑3", "E支部": "—", "F支部": "—", "C支部": "↓4"}


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def checked(db):
    """Three published checks of 2025 and the action recorded on C's flag."""
    world = build_check_world()
    certify_branch(world, "A", 5)
    certify_branch(world, "C", 4)
    rounds = {}
    for quarter, totals in TOTALS.items():
        with time_machine.travel(f"{QUARTER_DAYS[quarter]} 10:00 +0800", tick=False):
            rounds[quarter] = run_quarter(world, 2025, quarter, totals)
    flag = LeadershipFlag.objects.get(branch=world.branches["C"], year=2025)
    with time_machine.travel(AFTER_Q3, tick=False):
        record_flag_action(
            flag=flag,
            actor=world.p1_reviewer,
            action_taken="改选支部书记",
            action_on=datetime.date(2025, 10, 8),
        )
    world.rounds = rounds
    return world


@pytest.fixture
def generated(checked, media) -> Bulletin:
    with time_machine.travel(AFTER_Q3, tick=False):
        bulletin = generate_bulletin(committee_id=checked.committee.pk, year=2025, quarter=3)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    return bulletin


def in_database(world) -> dict[str, CheckSheet]:
    """The Q3 sheets as the published check froze them, by branch name."""
    return {
        sheet.branch.name: sheet
        for sheet in CheckSheet.objects.filter(round=world.rounds[3]).select_related("branch", "group")
    }


def zh_star(stars) -> str:
    with translation.override("zh-hans"):
        return star_label(stars)


def test_the_change_labels():
    assert check_change_label(3, ranked_before=True) == "↑3"
    assert check_change_label(-2, ranked_before=True) == "↓2"
    assert check_change_label(0, ranked_before=True) == "—"
    assert check_change_label(None, ranked_before=True) != "—"  # new in the ranking
    assert check_change_label(None, ranked_before=False) == "—"  # nothing published before


def test_the_frozen_data_holds_the_checks_ranking_as_the_database_does(generated, checked):
    data = generated.data
    assert data["version"] == DATA_VERSION == 5
    check = data["check_ranking"]
    assert check["published"] is True and check["ranked"] == 6
    sheets = in_database(checked)
    assert [row["branch"] for row in check["rows"]] == ["A支部", "B支部", "D支部", "E支部", "F支部", "C支部"]
    for row in check["rows"]:
        sheet = sheets[row["branch"]]
        assert row["rank"] == sheet.rank_committee
        assert row["score"] == str(sheet.total)
        assert row["stars"] == sheet.stars_in_force
        assert row["stars_label"] == zh_star(sheet.stars_in_force)
        assert row["parent"] == sheet.group.name
        assert row["change"] == sheet.rank_change
        assert row["change_label"] == CHANGES[row["branch"]]
    assert {row["branch"]: row["stars"] for row in check["rows"]}["A支部"] == 5
    assert {row["branch"]: row["stars"] for row in check["rows"]}["C支部"] == 4
    tied = {row["branch"] for row in check["rows"] if row["tied"]}
    assert tied == {"E支部", "F支部"}
    # Six branches: all in the top list, none left for the bottom one.
    assert len(check["top"]) == 6 and check["bottom"] == []
    flags = {flag["branch"]: flag for flag in check["flags"]}
    assert set(flags) == {"C支部", "E支部"}
    assert flags["C支部"]["action_taken"] == "改选支部书记"
    assert flags["C支部"]["action_on"] == "2025-10-08"
    assert flags["E支部"]["action_taken"] == "" and flags["E支部"]["parent"] == "二号党委"
    # The certification ranking stays beside it.
    assert "ranking" in data and "rows" in data["ranking"]


def test_the_top_and_bottom_lists_keep_every_branch_tied_at_the_cut(checked, monkeypatch):
    monkeypatch.setattr(bulletin_data_module, "RANKING_SIZE", 2)
    check = bulletin_data(
        committee=checked.committee, year=2025, quarter=3, today=datetime.date(2025, 10, 10)
    )["check_ranking"]
    assert [row["branch"] for row in check["top"]] == ["A支部", "B支部"]
    # The last two places: C (6th) and E, F tied 4th with one branch below them.
    assert [row["branch"] for row in check["bottom"]] == ["E支部", "F支部", "C支部"]
    assert len(check["rows"]) == 6


def test_flags_count_only_the_checks_up_to_the_bulletins_quarter(checked):
    check = bulletin_data(
        committee=checked.committee, year=2025, quarter=2, today=datetime.date(2025, 10, 10)
    )["check_ranking"]
    assert check["published"] is True
    assert check["flags"] == []  # by Q2, C and E had been last only once
    # Q2 against Q1: D was 3rd and is 6th.
    assert {row["branch"]: row["change_label"] for row in check["rows"]}["D支部"] == "↓3"


def test_the_web_page_shows_ranks_scores_stars_and_changes(generated, checked):
    html = str(document_html(generated.data))
    section = html[html.index('id="bulletin-check-ranking"') :]
    for name, sheet in in_database(checked).items():
        row = re.search(
            rf"<td class=\"num\">{sheet.rank_committee}[^<]*(?:<span[^>]*>[^<]*</span>)?</td><td>{name}</td>"
            rf"<td>{sheet.group.name}</td><td class=\"num\">{sheet.total}</td><td>{zh_star(sheet.stars_in_force)}</td>"
            rf"<td>{CHANGES[name]}</td>",
            section,
        )
        assert row, name
    assert "改选支部书记" in section and "2025-10-08" in section
    assert 'id="bulletin-no-check"' not in html


def pdf_text(source) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(source).pages)


def test_the_pdf_shows_ranks_scores_stars_and_changes(generated, checked, media):
    text = pdf_text(open_stored(generated.pdf.name))
    for name, sheet in in_database(checked).items():
        line = f"{name} {sheet.group.name} {sheet.total} {zh_star(sheet.stars_in_force)} {CHANGES[name]}"
        assert line in text, (line, text[-2000:])
    assert "改选支部书记" in text


def test_the_excel_sheet_holds_the_full_ranking_and_the_flags(generated, checked, media):
    workbook = openpyxl.load_workbook(open_stored(generated.xlsx.name))
    with translation.override("zh-hans"):
        ws = workbook[translation.gettext("Check ranking")]
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    by_name = {row[2]: row for row in rows[:6]}
    for name, sheet in in_database(checked).items():
        _list, rank, _branch, parent, score, stars, stars_label, change, in_group = by_name[name]
        assert (rank, parent, stars, stars_label, change, in_group) == (
            sheet.rank_committee,
            sheet.group.name,
            sheet.stars_in_force,
            zh_star(sheet.stars_in_force),
            CHANGES[name],
            sheet.rank_group,
        )
        assert score == float(sheet.total)
    flags = [row for row in rows[6:] if row[0] in ("C支部", "E支部")]
    assert [(row[0], row[1], row[2] or "") for row in flags] == [
        ("C支部", "一号党委", "改选支部书记"),
        ("E支部", "二号党委", ""),
    ]
    assert flags[0][3] == datetime.datetime(2025, 10, 8)


def test_without_a_published_round_the_part_says_so_and_the_certification_ranking_stays(
    bulletin_world, media
):
    with time_machine.travel(NOW):
        bulletin = generate_bulletin(committee_id=bulletin_world.committee.pk, year=YEAR, quarter=QUARTER)
    check = bulletin.data["check_ranking"]
    assert check["published"] is False and check["rows"] == []
    assert len(bulletin.data["ranking"]["rows"]) > 0
    html = str(document_html(bulletin.data))
    assert 'id="bulletin-no-check"' in html
    with translation.override("zh-hans"):
        sentence = translation.gettext(
            "No check round of this quarter has been published: there is no ranking from the quarterly check this quarter."
        )
    assert sentence in html
    # The PDF says it too (the sentence may wrap: compare without line breaks).
    assert sentence.replace(" ", "") in pdf_text(open_stored(bulletin.pdf.name)).replace("\n", "").replace(
        " ", ""
    )


def test_a_version_2_bulletin_still_renders_on_the_page_and_in_excel(generated, tmp_path):
    old = {key: value for key, value in generated.data.items() if key != "check_ranking"}
    old["version"] = 2
    html = str(document_html(old))
    assert 'id="bulletin-check-ranking"' not in html and 'id="bulletin-no-check"' not in html
    assert "A支部" in html  # the rest of the document is there
    workbook = openpyxl.load_workbook(bulletin_xlsx(old, tmp_path / "old.xlsx"))
    with translation.override("zh-hans"):
        assert translation.gettext("Check ranking") not in workbook.sheetnames
        assert translation.gettext("Score ranking") in workbook.sheetnames
