"""The bulletin tells the truth: the stars in force, ties at the cut, the full ranking, the order
of organizations, revoked apart from unrated, where the trend starts — in the frozen data, the web
preview, the PDF and the Excel file alike.

The world is tests/reports/bulletin_world.py (2026 Q3, today 2026-10-10 in Shanghai). After their
certification B2 was lowered 5★ → 4★ (08-15) and B3 revoked (09-10), B6's certificate ran out
(08-31): the Q3 bulletin must show ★4, 已撤销 and 未评星 for them, whatever their assessment decided.
Eighteen more branches of 乙党委, decided in the current cycle but not certified, make the
ranking long enough for ties at both cuts.
"""

import datetime
import re

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from branches.models import Organization
from reports.bulletin.data import DATA_VERSION, RANKING_SIZE, bulletin_data
from reports.bulletin.html import document_html
from reports.bulletin.xlsx import bulletin_xlsx
from reports.models import Bulletin, BulletinStatus
from reports.services.bulletins import generate_bulletin
from reviews.models import AssessmentStatus, Cycle
from tests.factories import (
    make_assessment,
    make_branch,
    make_certificate,
    make_committee,
    make_cycle,
    make_user,
)
from tests.reports.bulletin_world import NOW, QUARTER, TODAY, YEAR, at
from tests.storage.support import open_stored

# The two charts' SVG, not the small bars of their phone twins.
CHART_SVG = '<svg xmlns="http://www.w3.org/2000/svg" class="chart"'

# (code, score) of the extra branches: four share rank 10, two share the bottom cut, one (86.0)
# stands between the lists and is only in the full ranking.
EXTRA = [
    ("X01", "94.0"),
    ("X02", "93.0"),
    ("X03", "91.0"),
    ("X04", "90.0"),
    ("X05", "90.0"),
    ("X06", "90.0"),
    ("X07", "90.0"),
    ("X08", "86.0"),
    ("X09", "84.5"),
    ("X10", "84.5"),
    ("X11", "83.0"),
    ("X12", "82.0"),
    ("X13", "81.0"),
    ("X14", "80.0"),
    ("X15", "79.0"),
    ("X18", "75.0"),
    ("X16", "70.0"),
    ("X17", "70.0"),
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(bulletin_world):
    current = Cycle.objects.get(committee=bulletin_world.committee, name="2025—2026年度")
    p2 = bulletin_world.orgs["P2"]
    for code, score in EXTRA:
        branch = make_branch(f"新{code}支部", code, parent=p2)
        # Decided five stars in the quarter, not certified yet: no star in force.
        make_assessment(
            current, branch, status=AssessmentStatus.DECIDED, score=score, stars=5, decided_at=at(2026, 9, 1)
        )
    return bulletin_world


# The star each ranked branch holds at the quarter's end, as the bulletin must show it.
IN_FORCE = {
    "总支一支部": 5,  # B5
    "工委机关支部": 4,  # B8
    "甲一支部": 5,  # B1: lowered on 10-01, after the quarter
    "甲二支部": 4,  # B2: decided 5★, lowered to 4★ on 08-15
    "甲三支部": "revoked",  # B3: decided 4★, revoked on 09-10
    "甲四支部": 3,  # B4
    "乙一支部": None,  # B6: decided 2★, expired on 08-31
    **{f"新{code}支部": None for code, _score in EXTRA},
}


def label(stars) -> str:
    """The label the (Chinese) bulletin prints for a level in force."""
    with translation.override("zh-hans"):
        if stars == "revoked":
            return translation.gettext("Revoked")
        if stars is None:
            return translation.gettext("Unrated")
        return translation.ngettext("%(count)d star", "%(count)d stars", stars) % {"count": stars}


@pytest.fixture
def bulletin(world) -> Bulletin:
    with time_machine.travel(NOW):
        bulletin = generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    return bulletin


def pdf_lines(bulletin, media) -> list[str]:
    text = "\n".join(page.extract_text() for page in PdfReader(open_stored(bulletin.pdf.name)).pages)
    return text.splitlines()


def preview_html(client, world, bulletin) -> str:
    client.force_login(world.people["staff"])
    return client.get(reverse("reports:bulletin_detail", args=[bulletin.pk])).content.decode()


def html_rows(html: str) -> list[list[str]]:
    """Each table row of the document as its cells' text."""
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)
        rows.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return rows


def sheet_rows(bulletin, media, sheet_name: str) -> list[tuple]:
    workbook = openpyxl.load_workbook(open_stored(bulletin.xlsx.name))
    with translation.override("zh-hans"):
        name = translation.gettext(sheet_name)
    return list(workbook[name].iter_rows(min_row=3, values_only=True))


# --- Every star is the star in force ---------------------------------------------------------


def test_the_ranking_shows_the_star_in_force_not_the_star_decided(bulletin):
    data = bulletin.data
    assert data["version"] == DATA_VERSION == 5
    shown = {row["branch"]: row for row in data["ranking"]["rows"]}
    assert set(shown) == set(IN_FORCE)
    for name, stars in IN_FORCE.items():
        row = shown[name]
        assert row["stars_label"] == label(stars), name
        assert row["stars"] == (stars if isinstance(stars, int) else None), name
        assert row["revoked"] is (stars == "revoked"), name
    # The lists the PDF and the page show are the same rows.
    for row in data["ranking"]["top"] + data["ranking"]["bottom"]:
        assert row == shown[row["branch"]]


def test_every_list_of_the_bulletin_agrees_on_the_stars_in_force(bulletin):
    data = bulletin.data
    commended = {b["name"]: group["stars"] for group in data["commendations"] for b in group["branches"]}
    assert commended == {name: s for name, s in IN_FORCE.items() if isinstance(s, int) and s >= 3}
    assert data["totals"]["counts"] == [2, 2, 1, 0, 0]
    assert (data["totals"]["unrated"], data["totals"]["revoked"]) == (2 + len(EXTRA), 1)


def test_the_web_preview_shows_the_stars_in_force(client, world, bulletin):
    rows = {cells[1]: cells for cells in html_rows(preview_html(client, world, bulletin)) if len(cells) == 6}
    for name, stars in IN_FORCE.items():
        if name == "新X08支部":
            continue  # between the two lists: only in the Excel file
        assert rows[name][4] == label(stars), name


def test_the_pdf_shows_the_stars_in_force(bulletin, media):
    lines = pdf_lines(bulletin, media)
    for name, stars in IN_FORCE.items():
        # A ranking row: rank (and the tie mark), branch, parent, score, stars, cycle.
        ranked = [line for line in lines if re.search(rf"^\d+(\s*\S+)?\s+{name}\s+\S+\s+\d+\.\d\s", line)]
        if name == "新X08支部":
            assert ranked == []
            continue
        assert len(ranked) == 1, (name, ranked)
        assert label(stars) in ranked[0], (name, ranked[0])
        if name == "甲二支部":  # decided five stars, lowered to four: the changes table says 5 → 4
            assert label(5) not in ranked[0]


def test_the_excel_ranking_holds_every_branch_with_its_star_in_force(bulletin, media):
    rows = sheet_rows(bulletin, media, "Score ranking")
    assert len(rows) == len(IN_FORCE) == bulletin.data["ranking"]["ranked"]
    by_name = {row[2]: row for row in rows}
    for name, stars in IN_FORCE.items():
        assert by_name[name][5] == (stars if isinstance(stars, int) else None), name
        assert by_name[name][7] == label(stars), name
    assert [row[1] for row in rows] == sorted(row[1] for row in rows)  # in rank order
    middle = by_name["新X08支部"]
    assert middle[0] is None and middle[1] == 14  # in neither list, but in the file


# --- Ties at the cut -------------------------------------------------------------------------


def test_every_branch_tied_at_the_cut_is_in_the_list(bulletin):
    ranking = bulletin.data["ranking"]
    top = [(row["branch"], row["rank"], row["tied"]) for row in ranking["top"]]
    assert len(top) == 13 and all(rank <= RANKING_SIZE for _name, rank, _tied in top)
    assert top[-4:] == [(f"新X0{n}支部", 10, True) for n in (4, 5, 6, 7)]  # tied: code order
    bottom = [(row["branch"], row["score"]) for row in ranking["bottom"]]
    # The last ten places: 84.5 twice shares the cut, so eleven branches.
    assert bottom[:2] == [("新X09支部", "84.5"), ("新X10支部", "84.5")] and len(bottom) == 11
    assert bottom[-2:] == [("新X16支部", "70.0"), ("新X17支部", "70.0")]
    assert ranking["ranked"] == len(ranking["rows"]) == len(IN_FORCE) == 25


def test_a_tie_at_the_cut_is_shown_in_the_page_the_pdf_and_the_excel(client, world, bulletin, media):
    tied = [f"新X0{n}支部" for n in (4, 5, 6, 7)]
    rows = {cells[1]: cells for cells in html_rows(preview_html(client, world, bulletin)) if len(cells) == 6}
    with translation.override("zh-hans"):
        tied_word = translation.gettext("tied")
    for name in tied:
        assert rows[name][0] == f"10 {tied_word}", rows[name]
    lines = pdf_lines(bulletin, media)
    for name in tied:
        assert [line for line in lines if re.search(rf"\b10\s*{tied_word}\s+{name}\s", line)], name
    excel = {row[2]: row for row in sheet_rows(bulletin, media, "Score ranking")}
    with translation.override("zh-hans"):
        top_label = translation.gettext("Top %(n)s") % {"n": RANKING_SIZE}
    assert [excel[name][:2] for name in tied] == [(top_label, 10)] * 4


# --- Order of organizations ------------------------------------------------------------------


def test_the_sort_order_puts_party_committees_in_order_in_every_table(world, media):
    Organization.objects.filter(pk=world.orgs["P2"].pk).update(sort_order=1)
    Organization.objects.filter(pk=world.orgs["P1"].pk).update(sort_order=2)
    with time_machine.travel(NOW):
        bulletin = generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)
    data = bulletin.data
    direct = data["distribution"][-1]["name"]
    assert [row["name"] for row in data["distribution"]] == ["乙党委", "甲党委", direct]
    assert [row["name"] for row in data["progress"]["rows"]] == ["乙党委", "甲党委", direct]
    # A nested general branch stays under its party committee.
    assert [row["name"] for row in data["five_goods"]] == ["乙党委", "甲党委", "甲党委下属党总支"]
    assert [row[0] for row in sheet_rows(bulletin, media, "Star distribution")[:3]] == [
        "乙党委",
        "甲党委",
        direct,
    ]
    # The default order is the code: P1 before P2.
    Organization.objects.filter(pk__in=[world.orgs["P1"].pk, world.orgs["P2"].pk]).update(sort_order=0)
    again = bulletin_data(committee=world.committee, year=YEAR, quarter=QUARTER, today=TODAY)
    assert [row["name"] for row in again["distribution"]][:2] == ["甲党委", "乙党委"]


def test_organizations_are_listed_by_sort_order_then_code(world):
    Organization.objects.filter(pk=world.orgs["P2"].pk).update(sort_order=-1)
    parents = Organization.objects.filter(pk__in=[world.orgs["P1"].pk, world.orgs["P2"].pk])
    assert [o.code for o in parents] == ["P2", "P1"]


# --- Revoked apart from unrated --------------------------------------------------------------


def test_a_revoked_branch_reads_apart_from_an_unrated_one(client, world, bulletin, media):
    data = bulletin.data
    p1 = next(row for row in data["distribution"] if row["name"] == "甲党委")
    assert (p1["unrated"], p1["revoked"]) == (0, 1)
    for row in [*data["distribution"], data["totals"]]:
        assert sum(row["counts"]) + row["unrated"] + row["revoked"] == row["branches"]
    revocation = next(row for row in data["changes"]["rows"] if row["kind"] == "revocation")
    expiry = next(row for row in data["changes"]["rows"] if row["kind"] == "expiry")
    assert (revocation["to_label"], expiry["to_label"]) == (label("revoked"), label(None))
    # The page and the PDF: a revoked column in the distribution, the change's new level.
    html = preview_html(client, world, bulletin)
    assert f'<th class="num">{label("revoked")}</th>' in html
    text = "\n".join(pdf_lines(bulletin, media))
    assert re.search(rf"甲三支部 甲党委 .*{label('revoked')}", text)
    assert re.search(rf"\b{data['totals']['branches']} 2 2 1 0 0 {2 + len(EXTRA)} 1 ", text)
    total = sheet_rows(bulletin, media, "Star distribution")[len(data["distribution"])]
    assert list(total[1:9]) == [data["totals"]["branches"], 2, 2, 1, 0, 0, 2 + len(EXTRA), 1]


# --- One wording for eligibility ---------------------------------------------------------------


def test_the_excel_says_eligible_as_the_page_and_the_pdf_do(bulletin, media):
    with translation.override("zh-hans"):
        words = {True: translation.gettext("Eligible"), False: translation.gettext("Not eligible")}
    frozen = {row["name"]: row for row in bulletin.data["five_goods"]}
    for row in frozen.values():
        assert row["eligible_label"] == words[row["eligible"]]
    excel = {row[0]: row[5] for row in sheet_rows(bulletin, media, "Five goods")}
    assert excel == {name: words[row["eligible"]] for name, row in frozen.items()}
    text = "\n".join(pdf_lines(bulletin, media))
    assert all(word in text for word in words.values())


# --- Where the trend starts --------------------------------------------------------------------


def test_the_trend_starts_with_the_committees_first_record(db):
    committee = make_committee("新工委", "NEW")
    branch = make_branch("新支部", "NEW-B", parent=committee)
    staff = make_user("new-staff")
    cycle = make_cycle(committee, name="首期", opened_at=at(2025, 9, 1), opened_by=staff)
    make_certificate(
        make_assessment(
            cycle,
            branch,
            status=AssessmentStatus.CERTIFIED,
            score="96.0",
            stars=5,
            decided_at=at(2025, 11, 1),
        ),
        stars=5,
        issued_at=at(2025, 11, 15),
        valid_until=datetime.date(2027, 11, 15),
    )
    # The branch row was entered today (after the quarter): the certificate dates the start.
    trend = bulletin_data(committee=committee, year=YEAR, quarter=QUARTER, today=TODAY)["trend"]
    assert [(p["year"], p["quarter"], p["rated"]) for p in trend] == [
        (2025, 4, 1),
        (2026, 1, 1),
        (2026, 2, 1),
        (2026, 3, 1),
    ]
    # A branch row entered earlier than any certificate moves the start back.
    Organization.objects.filter(pk=branch.pk).update(created_at=at(2025, 5, 20))
    trend = bulletin_data(committee=committee, year=YEAR, quarter=QUARTER, today=TODAY)["trend"]
    assert (trend[0]["year"], trend[0]["quarter"], trend[0]["rated"]) == (2025, 2, 0)
    assert len(trend) == 6


def test_a_committee_without_any_record_shows_only_its_quarter(db):
    committee = make_committee("空工委", "EMPTY")
    trend = bulletin_data(committee=committee, year=YEAR, quarter=QUARTER, today=TODAY)["trend"]
    assert [(p["year"], p["quarter"]) for p in trend] == [(YEAR, QUARTER)]


# --- Older frozen bulletins still render -------------------------------------------------------


def version_1(data: dict) -> dict:
    """The data as version 1 froze it: no revoked counts, labels, ties or full ranking."""
    old = {**data, "version": 1}
    old["totals"] = {k: v for k, v in data["totals"].items() if k != "revoked"}
    old["distribution"] = [{k: v for k, v in row.items() if k != "revoked"} for row in data["distribution"]]
    old["five_goods"] = [
        {k: v for k, v in row.items() if k != "eligible_label"} for row in data["five_goods"]
    ]
    strip = ("tied", "revoked")
    old["ranking"] = {
        "ranked": data["ranking"]["ranked"],
        "top": [{k: v for k, v in r.items() if k not in strip} for r in data["ranking"]["top"][:10]],
        "bottom": [{k: v for k, v in r.items() if k not in strip} for r in data["ranking"]["bottom"][-10:]],
    }
    return old


def test_a_version_1_bulletin_still_renders_on_the_page_and_in_excel(bulletin, tmp_path):
    old = version_1(bulletin.data)
    html = str(document_html(old))
    assert "甲党委" in html and html.count(CHART_SVG) == 2
    target = bulletin_xlsx(old, tmp_path / "old.xlsx")
    workbook = openpyxl.load_workbook(target)
    assert len(workbook.sheetnames) >= 6
    with translation.override("zh-hans"):
        ranking = workbook[translation.gettext("Score ranking")]
        goods = workbook[translation.gettext("Five goods")]
        eligible = {translation.gettext("Eligible"), translation.gettext("Not eligible")}
    assert ranking.max_row - 2 == 20  # the top and bottom lists it had
    assert {row[5] for row in goods.iter_rows(min_row=3, values_only=True)} <= eligible


# --- "Generate now" says what happened ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_generate_now_without_a_broker_says_the_bulletin_is_generated(
    client, bulletin_world, settings, media
):
    assert settings.CELERY_TASK_ALWAYS_EAGER  # the embedded default: the job runs in the request
    client.force_login(bulletin_world.people["staff"])
    with translation.override("en"), time_machine.travel(NOW):
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        response = client.post(
            reverse("reports:bulletin_list"),
            {"committee": bulletin_world.committee.pk, "quarter": "2026-3"},
            follow=True,
        )
    html = response.content.decode()
    bulletin = Bulletin.objects.get(committee=bulletin_world.committee, year=YEAR, quarter=QUARTER)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    assert "is generated" in html and "being generated" not in html


# --- Dates never wrap in the PDF ---------------------------------------------------------------


def test_date_cells_are_marked_not_to_wrap(bulletin):
    from reports.bulletin.html import bulletin_html

    html = bulletin_html(bulletin.data)
    assert ".bulletin td.date { white-space: nowrap;" in html
    assert '<td class="date">2026-08-15</td>' in html  # the changes table
    assert '<td class="date">2025-01-10</td>' in html  # the commendation lists
    assert '<td class="date">2026-09-30</td>' in html  # the trend
