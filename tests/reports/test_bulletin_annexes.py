"""A bulletin a person can read at any size: the bounded main document and the annexes per party
committee (reports.bulletin.bounds, BulletinAnnex), their downloads and who may have them."""

import re

import openpyxl
import pytest
import time_machine
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from branches.roles import Role
from reports.bulletin import bounds
from reports.bulletin.data import bulletin_data
from reports.bulletin.html import annex_context, document_html
from reports.bulletin.xlsx import bulletin_xlsx
from reports.models import BulletinAnnex, BulletinStatus
from reports.services.bulletins import generate_bulletin, publish_bulletin
from tests.factories import make_user
from tests.reports.bulletin_world import NOW, QUARTER, TODAY, YEAR, build_scored_committee

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def generated(bulletin_world):
    with time_machine.travel(NOW):
        return generate_bulletin(committee_id=bulletin_world.committee.pk, year=YEAR, quarter=QUARTER)


def pdf_text(name: str) -> str:
    with default_storage.open(name, "rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(handle).pages)


def rows_in(html: str) -> int:
    return html.count("<tr")


# --- The main document's length --------------------------------------------------------------


def large(data: dict, copies: int) -> dict:
    """The small world's data with every list of branches ``copies`` times as long, and as many
    branches in the totals: what a committee far above the threshold freezes."""
    branches = data["totals"]["branches"] * copies
    return {
        **data,
        "totals": {**data["totals"], "branches": branches},
        "commendations": [{**g, "branches": g["branches"] * copies} for g in data["commendations"]],
        "changes": {**data["changes"], "rows": data["changes"]["rows"] * copies},
        "ranking": {
            **data["ranking"],
            "rows": data["ranking"]["rows"] * copies,
            # Ties at the cut: a top and a bottom list as long as the committee is large.
            "top": data["ranking"]["top"] * copies,
            "bottom": data["ranking"]["bottom"] * copies,
        },
        "five_goods": data["five_goods"] * copies,
        "distribution": data["distribution"] * copies,
    }


@pytest.fixture
def data(bulletin_world) -> dict:
    with translation.override("zh-hans"):
        return bulletin_data(committee=bulletin_world.committee, year=YEAR, quarter=QUARTER, today=TODAY)


def test_a_small_committee_sees_every_list_whole_in_the_main_document(data):
    assert not bounds.is_bounded(data["totals"]["branches"])
    html = str(document_html(data, screen=False))
    for group in data["commendations"]:
        for branch in group["branches"]:
            assert branch["name"] in html
    assert "annex" not in html.lower() and 'id="bulletin-bounded"' not in html


def test_a_large_committee_gets_a_main_document_of_bounded_length_and_an_excel_file_with_every_row(
    data, tmp_path
):
    copies = 100  # 800 branches in the totals
    small_rows = rows_in(str(document_html(data, screen=False)))
    big = {**large(data, copies), "language": "en"}  # the document speaks the data's language
    html = str(document_html(big, screen=False))
    # Each list of branches (three commendation levels, changes, top and bottom with their ties)
    # is cut at LIST_ROWS, the tables per party committee at UNIT_ROWS: the length no longer
    # grows with the committee.
    assert rows_in(html) <= small_rows + 6 * bounds.LIST_ROWS + 2 * bounds.UNIT_ROWS
    assert rows_in(str(document_html(large(data, copies * 3), screen=False))) == rows_in(html)
    assert 'id="bulletin-bounded"' in html
    first_level = big["commendations"][0]["branches"]
    assert f"And {len(first_level) - bounds.LIST_ROWS} more" in html
    assert "see the annex of each party committee and the Excel file" in html
    # The web preview is the same bounded document.
    assert rows_in(str(document_html(big, row_limit=200))) == rows_in(html)
    # The workbook holds every row of the ranking (its third column: the party branch).
    target = tmp_path / "big.xlsx"
    bulletin_xlsx(big, target)
    workbook = openpyxl.load_workbook(target, read_only=True)
    sheet = workbook.worksheets[4]  # distribution, commendations, changes, progress, ranking
    ranked = [row[2] for row in sheet.iter_rows(values_only=True) if row[2] in set(branch_names(big))]
    assert len(ranked) == len(big["ranking"]["rows"]) == copies * len(data["ranking"]["rows"])


def branch_names(data: dict) -> list[str]:
    return [row["branch"] for row in data["ranking"]["rows"]]


# --- The annexes ---------------------------------------------------------------------------------


def test_each_party_committee_gets_an_annex_with_its_branches_and_no_others(generated, bulletin_world):
    orgs = bulletin_world.orgs
    assert generated.status == BulletinStatus.DRAFT, generated.error
    annexes = {annex.unit_id: annex for annex in generated.annexes.all()}
    # 甲党委 (with its general branch's B5) and 乙党委; B8 sits directly under the committee.
    assert set(annexes) == {orgs["P1"].pk, orgs["P2"].pk}
    assert [a.name for a in generated.annexes.all()] == ["甲党委", "乙党委"]
    assert annexes[orgs["P1"].pk].branches == 5 and annexes[orgs["P2"].pk].branches == 2
    p1 = pdf_text(annexes[orgs["P1"].pk].pdf.name)
    p2 = pdf_text(annexes[orgs["P2"].pk].pdf.name)
    assert "甲党委" in p1 and "第 1 页 / 共" in p1
    for code in ("B1", "B5"):  # commended at the quarter's end
        assert orgs[code].name in p1 and orgs[code].name not in p2
    for code in ("B6", "B8", "D1"):
        assert orgs[code].name not in p1
    assert orgs["B8"].name not in p2
    # Every row of the frozen lists belongs to exactly one annex, or to no party committee.
    data = generated.data
    for row in data["ranking"]["rows"] + data["changes"]["rows"]:
        owners = [
            unit
            for unit in data["units"]
            if row in annex_context(data, unit)["ranking"] + annex_context(data, unit)["changes"]
        ]
        assert len(owners) == (0 if row["unit"] is None else 1)


def test_generating_again_replaces_the_annexes_and_leaves_no_stray_file(generated, bulletin_world):
    first = {a.unit_id: a.pdf.name for a in generated.annexes.all()}
    with time_machine.travel(NOW):
        again = generate_bulletin(committee_id=bulletin_world.committee.pk, year=YEAR, quarter=QUARTER)
    assert {a.unit_id: a.pdf.name for a in again.annexes.all()} == first
    assert BulletinAnnex.objects.filter(bulletin=again).count() == 2
    _folders, stored = default_storage.listdir(f"bulletins/{again.committee_id}")
    assert sorted(stored) == sorted(
        [name.rsplit("/", 1)[1] for name in (*first.values(), again.pdf.name, again.xlsx.name)]
    )


def test_a_large_generated_bulletin_bounds_its_main_pdf_and_lists_everything_in_the_annexes(db):
    committee, _staff = build_scored_committee(bounds.FULL_LISTS_UP_TO + 20, "L")
    with time_machine.travel(NOW):
        bulletin = generate_bulletin(committee_id=committee.pk, year=YEAR, quarter=QUARTER)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    main = pdf_text(bulletin.pdf.name)
    annexes = list(bulletin.annexes.all())
    assert len(annexes) == 2 and sum(a.branches for a in annexes) == bounds.FULL_LISTS_UP_TO + 20
    names = [row["branch"] for row in bulletin.data["ranking"]["rows"]]
    in_main = {name for name in names if re.search(rf"{re.escape(name)}(?!\d)", main)}
    assert len(in_main) < len(names) // 2  # the main PDF is a summary
    texts = [pdf_text(a.pdf.name) for a in annexes]
    for name in names:  # every ranked branch is in exactly one annex
        assert sum(bool(re.search(rf"{re.escape(name)}(?!\d)", text)) for text in texts) == 1, name


# --- Downloads and who may have them ---------------------------------------------------------------


def annex_url(bulletin, org) -> str:
    return reverse("reports:bulletin_annex_pdf", args=[bulletin.pk, org.pk])


def status(client, url: str) -> int:
    """The answer's status. A streamed file is read to its end, which closes it (the test client
    closes a streamed answer once it is consumed; closing it by hand would close the database
    connection of the test's transaction on PostgreSQL)."""
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


@pytest.fixture
def parent_reviewer(bulletin_world):
    return make_user("p1_parent", "钱初审", roles=((Role.PARENT_REVIEWER, bulletin_world.orgs["P1"]),))


def test_staff_download_every_annex_of_the_draft_from_the_bulletin_page(client, generated, bulletin_world):
    client.force_login(bulletin_world.people["staff"])
    page = client.get(reverse("reports:bulletin_detail", args=[generated.pk])).content.decode()
    for code in ("P1", "P2"):
        link = annex_url(generated, bulletin_world.orgs[code])
        assert f'href="{link}"' in page
        response = client.get(link)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    # A unit that has no annex (a branch, the committee itself) is not found.
    assert status(client, annex_url(generated, bulletin_world.orgs["B1"])) == 404


@pytest.mark.parametrize(
    ("who", "p1", "p2"),
    [
        ("p1_parent", 200, 404),  # his own party committee only
        ("p2_staff", 404, 200),
        ("secretary", 403, 404),  # B1's secretary: inside 甲党委's tree, role too low
        ("other_staff", 404, 404),  # another committee
        ("outsider", 404, 404),
    ],
)
def test_a_party_committees_people_get_only_its_annex_once_published(
    client, generated, bulletin_world, parent_reviewer, who, p1, p2
):
    people = {**bulletin_world.people, "p1_parent": parent_reviewer}
    client.force_login(people[who])
    orgs = bulletin_world.orgs
    # Before publication the draft is the committee's own.
    assert status(client, annex_url(generated, orgs["P1"])) == 404
    publish_bulletin(bulletin=generated, actor=bulletin_world.people["staff"])
    assert status(client, annex_url(generated, orgs["P1"])) == p1
    assert status(client, annex_url(generated, orgs["P2"])) == p2


def test_a_parent_reviewer_finds_his_annex_on_his_home_page(
    client, generated, bulletin_world, parent_reviewer
):
    publish_bulletin(bulletin=generated, actor=bulletin_world.people["staff"])
    client.force_login(parent_reviewer)
    page = client.get(reverse("home")).content.decode()
    assert annex_url(generated, bulletin_world.orgs["P1"]) in page
    assert annex_url(generated, bulletin_world.orgs["P2"]) not in page
