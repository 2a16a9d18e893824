"""Each of the documents as Word opens it: GB/T 9704 page, fonts (east-Asian names) and sizes of
the title, body and headings, the document number, the PAGE field in the footers, repeated
table headers, and figures equal to the frozen data (the bulletin's, for the 通报)."""

import io

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from reports.documents.docx import BODY_FONT, HEADING_FONT, PAGE_NUMBER_FONT, SUBHEADING_FONT, TITLE_FONT
from reports.models import DocumentKind, DocumentStatus
from reports.services.documents import (
    create_bulletin_document,
    create_commendation,
    create_rectification_notice,
    create_results_notices,
    issue_document,
)

pytestmark = pytest.mark.django_db


def opened(document):
    with document.docx.open("rb") as handle:
        return Document(io.BytesIO(handle.read()))


def east_asian(run) -> str:
    return run._element.rPr.rFonts.get(qn("w:eastAsia"))


def paragraph_starting(doc, text):
    return next(p for p in doc.paragraphs if p.text.startswith(text))


def tables_as_text(doc) -> list[list[list[str]]]:
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in doc.tables]


def issued(kind, docs_world, frozen_now):
    staff = docs_world.people["staff"]
    if kind == DocumentKind.BULLETIN:
        document, _created = create_bulletin_document(bulletin=docs_world.bulletin, actor=staff)
    elif kind == DocumentKind.COMMENDATION:
        document, _created = create_commendation(cycle=docs_world.past, actor=staff)
    elif kind == DocumentKind.RECTIFICATION_NOTICE:
        document, _created = create_rectification_notice(task=docs_world.task, actor=staff)
    else:
        made = create_results_notices(cycle=docs_world.past, batch=docs_world.batch, actor=staff)
        document = next(d for d, _created in made if d.unit == docs_world.orgs["P1"])
    return issue_document(document=document, actor=staff)


KINDS = [
    DocumentKind.BULLETIN,
    DocumentKind.COMMENDATION,
    DocumentKind.RESULTS_NOTICE,
    DocumentKind.RECTIFICATION_NOTICE,
]


@pytest.mark.parametrize("kind", KINDS)
def test_the_page_is_a4_with_the_gb_margins_and_a_22_by_28_grid(kind, docs_world, frozen_now):
    doc = opened(issued(kind, docs_world, frozen_now))
    section = doc.sections[0]
    # Word keeps lengths in twips (1/1440 inch): to the nearest one, i.e. within 0.02 mm.
    measured = [section.page_width, section.page_height, section.top_margin, section.bottom_margin]
    measured += [section.left_margin, section.right_margin]
    assert [round(length.mm, 1) for length in measured] == [210, 297, 37, 35, 28, 26]
    assert all(
        abs(length - Mm(mm)) < 635 for length, mm in zip(measured, [210, 297, 37, 35, 28, 26], strict=True)
    )
    grid = section._sectPr.find(qn("w:docGrid"))
    # 22 lines: 225 mm of text block / 22 lines, in twips.
    assert grid.get(qn("w:type")) == "lines"
    assert grid.get(qn("w:linePitch")) == "579"
    # 28 characters: the body's 16 pt characters condensed so that 28 fit the 156 mm line
    # and 27 would leave a gap of more than one character's width.
    spacing = doc.styles["Normal"].element.rPr.find(qn("w:spacing"))
    pitch_pt = 16 + int(spacing.get(qn("w:val"))) / 20
    line_pt = Mm(156).pt
    assert 28 * pitch_pt <= line_pt < 29 * pitch_pt


@pytest.mark.parametrize("kind", KINDS)
def test_title_body_and_headings_name_their_fonts_and_sizes(kind, docs_world, frozen_now):
    document = issued(kind, docs_world, frozen_now)
    doc = opened(document)
    title = next(p for p in doc.paragraphs if p.text == document.title)
    assert {east_asian(r) for r in title.runs} == {TITLE_FONT}
    assert {r.font.size for r in title.runs} == {Pt(22)}
    lead = next(p for p in doc.paragraphs if p.text == document.lead)
    assert {east_asian(r) for r in lead.runs} == {BODY_FONT}
    assert {r.font.size for r in lead.runs} == {Pt(16)}
    assert {r.font.name for r in lead.runs} == {BODY_FONT}
    first = paragraph_starting(doc, "一、")
    assert {east_asian(r) for r in first.runs} == {HEADING_FONT}
    assert {r.font.size for r in first.runs} == {Pt(16)}
    if kind == DocumentKind.BULLETIN:
        second = paragraph_starting(doc, "（一）")
        assert {east_asian(r) for r in second.runs} == {SUBHEADING_FONT}
        assert {r.font.size for r in second.runs} == {Pt(16)}
    # The organ's mark in red, the default font of the document is the body's.
    mark = doc.paragraphs[0]
    assert mark.runs[0].font.color.rgb == (0xFF, 0x00, 0x00)
    assert east_asian(mark.runs[0]) == TITLE_FONT
    normal = doc.styles["Normal"]
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == BODY_FONT
    assert normal.font.size == Pt(16)


@pytest.mark.parametrize("kind", KINDS)
def test_the_number_sits_centred_over_a_red_line_and_the_organ_signs_with_the_date(
    kind, docs_world, frozen_now
):
    document = issued(kind, docs_world, frozen_now)
    assert document.status == DocumentStatus.ISSUED
    assert document.document_number == "一直工委〔2026〕1号"
    doc = opened(document)
    number = next(p for p in doc.paragraphs if p.text == document.document_number)
    border = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert border.get(qn("w:color")) == "FF0000"
    texts = [p.text for p in doc.paragraphs if p.text]
    assert texts[0] == "中共第一市直属机关工作委员会文件"
    assert texts[-2:] == ["中共第一市直属机关工作委员会", "2026年10月10日"]
    # A draft's marks are gone from the issued file.
    assert not any(p.text for p in doc.sections[0].header.paragraphs)


@pytest.mark.parametrize("kind", KINDS)
def test_the_footers_hold_a_page_field_odd_right_even_left(kind, docs_world, frozen_now):
    doc = opened(issued(kind, docs_world, frozen_now))
    section = doc.sections[0]
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, side in ((section.footer, "right"), (section.even_page_footer, "left")):
        paragraph = footer.paragraphs[0]
        instructions = [t.text for t in paragraph._p.iter(qn("w:instrText"))]
        assert instructions == [" PAGE "]
        assert [c.get(qn("w:fldCharType")) for c in paragraph._p.iter(qn("w:fldChar"))] == [
            "begin",
            "separate",
            "end",
        ]
        assert paragraph.text == "— 1 —"
        assert paragraph.alignment == (2 if side == "right" else 0)
        assert {east_asian(r) for r in paragraph.runs} == {PAGE_NUMBER_FONT}
        assert {r.font.size for r in paragraph.runs} == {Pt(14)}


@pytest.mark.parametrize("kind", KINDS)
def test_every_table_repeats_its_header_row(kind, docs_world, frozen_now):
    doc = opened(issued(kind, docs_world, frozen_now))
    assert doc.tables
    for table in doc.tables:
        header = table.rows[0]._tr.trPr.find(qn("w:tblHeader"))
        assert header is not None and header.get(qn("w:val")) == "true"
        assert all(
            row._tr.trPr is None or row._tr.trPr.find(qn("w:tblHeader")) is None for row in table.rows[1:]
        )


def test_the_bulletins_figures_are_its_frozen_data(docs_world, frozen_now):
    document = issued(DocumentKind.BULLETIN, docs_world, frozen_now)
    data = docs_world.bulletin.data
    assert document.data == data
    distribution, trend, *commended = tables_as_text(opened(document))
    for row, unit in zip(distribution[1:-1], data["distribution"], strict=True):
        assert row[0] == unit["name"]
        assert row[1:6] == [str(n) for n in unit["counts"]]
        assert row[-2:] == [str(unit["branches"]), f"{unit['five_star_percent']}%"]
    totals = data["totals"]
    assert distribution[-1][1:6] == [str(n) for n in totals["counts"]]
    assert distribution[-1][-2:] == [str(totals["branches"]), f"{totals['five_star_percent']}%"]
    # The world's quarter: ★5 B1 B5 · ★4 B2 B8 · ★3 B4 · unrated B3 B6 B7 → 8 branches, 25.0 %.
    assert distribution[-1][-2:] == ["8", "25.0%"]
    assert [row[1:3] for row in trend[1:]] == [[str(p["five_star"]), str(p["rated"])] for p in data["trend"]]
    for table, group in zip(commended, [g for g in data["commendations"] if g["branches"]], strict=False):
        assert [row[1] for row in table[1:]] == [b["name"] for b in group["branches"]]


def test_the_commendation_lists_the_five_four_and_three_star_branches_certified(docs_world, frozen_now):
    document = issued(DocumentKind.COMMENDATION, docs_world, frozen_now)
    levels = {level["stars"]: [b["branch"] for b in level["branches"]] for level in document.data["levels"]}
    # The past cycle: B1 B2 B5 B9 ★5 (B9 inactive since, but certified then), B3 ★4, B4 ★3; B6 ★2 is not commended.
    assert levels == {
        5: ["甲一支部", "甲二支部", "总支一支部", "乙三支部（已撤销）"],
        4: ["甲三支部"],
        3: ["甲四支部"],
    }
    tables = tables_as_text(opened(document))
    assert [[row[1] for row in table[1:]] for table in tables] == [levels[5], levels[4], levels[3]]
    assert document.data["total"] == 6


def test_each_party_committee_gets_the_results_of_its_own_branches(docs_world, frozen_now):
    staff = docs_world.people["staff"]
    made = create_results_notices(cycle=docs_world.past, batch=docs_world.batch, actor=staff)
    by_unit = {d.unit.name: d for d, created in made if created}
    assert set(by_unit) == {"甲党委", "乙党委"}  # B8 sits directly under the committee: no notice
    p1 = issue_document(document=by_unit["甲党委"], actor=staff)
    (table,) = tables_as_text(opened(p1))
    assert [row[1:4] for row in table[1:]] == [
        [r["branch"], r["score"], r["stars_label"]] for r in p1.data["rows"]
    ]
    assert [r["branch"] for r in p1.data["rows"]] == [
        "甲一支部",
        "甲二支部",
        "甲三支部",
        "甲四支部",
        "总支一支部",
    ]
    opened_doc = opened(p1)
    assert any(p.text == "甲党委：" or p.text.startswith("甲党委") for p in opened_doc.paragraphs)


def test_the_rectification_notice_is_addressed_to_the_branch_with_its_task(docs_world, frozen_now):
    document = issued(DocumentKind.RECTIFICATION_NOTICE, docs_world, frozen_now)
    doc = opened(document)
    texts = [p.text for p in doc.paragraphs]
    assert "甲一支部：" in texts
    assert "补齐2026年第三季度支部委员会会议记录。" in texts and "完善党员大会记录并存档。" in texts
    (table,) = tables_as_text(doc)
    assert table[1] == ["甲一支部", "张伟", "2026年11月30日"]
    assert document.unit == docs_world.orgs["B1"]
