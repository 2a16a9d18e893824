"""An official document as a Word file in the layout of GB/T 9704-2012 (党政机关公文格式).

A4; margins 37 / 35 / 28 / 26 mm (top, bottom, left, right); a document grid of 22 lines of
28 characters of 3号 (16 pt) 仿宋_GB2312; the issuing organ's mark (发文机关标志) in red
方正小标宋简体 with "文件", the document number centred above a red separator line; the title in
2号 (22 pt) 方正小标宋简体; first-level headings 黑体, second-level 楷体_GB2312; the issuing organ
and the date at the end, right-aligned; page numbers "— 1 —" in 4号 (14 pt) 宋体 at the outer
bottom (odd pages right, even pages left). Tables are real Word tables whose header row repeats
on every page.

Fonts are named, never bundled: every run names its east-Asian font (``w:eastAsia``) as well as
its Latin one, since python-docx's ``font.name`` sets only the latter. A draft carries "征求意见稿"
in its header on every page.
"""

import math
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from .content import Paper, Table

# Fonts a GB/T 9704 document names (the reader's Word supplies them; README lists them).
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
FONTS = (TITLE_FONT, BODY_FONT, HEADING_FONT, SUBHEADING_FONT, PAGE_NUMBER_FONT)

RED = RGBColor(0xFF, 0x00, 0x00)
TITLE_PT = 22  # 2号
BODY_PT = 16  # 3号
PAGE_NUMBER_PT = 14  # 4号
TABLE_PT = 14  # 4号: tables keep the body's font a size smaller
WIDE_TABLE_PT = 10.5  # 5号, for tables of more than WIDE_TABLE_COLUMNS columns
WIDE_TABLE_COLUMNS = 5

MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
PAGE_MM = (210, 297)
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
TWIPS_PER_PT = 20
PT_PER_MM = 72 / 25.4


def grid() -> tuple[int, int]:
    """(linePitch in twips, charSpace in 1/4096 pt) for 22 lines × 28 characters of 16 pt."""
    height_pt = (PAGE_MM[1] - MARGINS_MM["top"] - MARGINS_MM["bottom"]) * PT_PER_MM
    width_pt = (PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]) * PT_PER_MM
    line_pitch = int(height_pt / LINES_PER_PAGE * TWIPS_PER_PT)
    char_space = round((width_pt / CHARS_PER_LINE - BODY_PT) * 4096)
    return line_pitch, char_space


def body_letter_spacing() -> int:
    """The body's character spacing in twentieths of a point (negative: condensed), so that 28
    characters of 16 pt fill the 156 mm line (15.79 pt each) in readers that honour only the
    line grid. Rounded down: 28 characters must fit, not 27⅞."""
    width_pt = (PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]) * PT_PER_MM
    return math.floor((width_pt / CHARS_PER_LINE - BODY_PT) * TWIPS_PER_PT)


# --- Low-level helpers --------------------------------------------------------------------------

# Where a paragraph property goes among its siblings (CT_PPr's order), so that Word reads the file.
_PPR_AFTER_BORDER = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def _set_fonts(r_pr, font: str) -> None:
    fonts = r_pr.get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), font)
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)


def add_run(paragraph, text: str, *, font: str = BODY_FONT, size: float = BODY_PT, bold=False, color=None):
    run = paragraph.add_run(text)
    run.font.name = font
    _set_fonts(run._element.get_or_add_rPr(), font)
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    return run


def _indent_chars(paragraph, **chars: int) -> None:
    """Indents in hundredths of a character (firstLineChars=200 is two characters), with the
    same length in twips for readers that ignore character units."""
    ind = paragraph._p.get_or_add_pPr().get_or_add_ind()
    for name, value in chars.items():
        ind.set(qn(f"w:{name}"), str(value))
        twips = round(value / 100 * BODY_PT * TWIPS_PER_PT)
        ind.set(qn(f"w:{name.removesuffix('Chars')}"), str(twips))


def _no_grid(paragraph) -> None:
    """Let a paragraph (a table cell's) take its own line height instead of the page grid's."""
    p_pr = paragraph._p.get_or_add_pPr()
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    p_pr.insert_element_before(snap, *_PPR_AFTER_BORDER[_PPR_AFTER_BORDER.index("w:snapToGrid") + 1 :])


def _red_rule_below(paragraph) -> None:
    """The red separator line (a bottom border the width of the text block), 4 mm below the number."""
    p_pr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in {"w:val": "single", "w:sz": "12", "w:space": "11", "w:color": "FF0000"}.items():
        bottom.set(qn(key), value)
    border.append(bottom)
    p_pr.insert_element_before(border, *_PPR_AFTER_BORDER)


def _page_field(paragraph) -> None:
    """ "— PAGE —": the page number as a Word field (python-docx has no API for fields)."""
    add_run(paragraph, "— ", font=PAGE_NUMBER_FONT, size=PAGE_NUMBER_PT)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = add_run(paragraph, "", font=PAGE_NUMBER_FONT, size=PAGE_NUMBER_PT)
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text
    add_run(paragraph, " —", font=PAGE_NUMBER_FONT, size=PAGE_NUMBER_PT)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


# --- The document ---------------------------------------------------------------------------------


def _setup(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    section.header_distance = Mm(15)
    # The page number's line starts 7 mm below the text block (GB/T 9704, 7.5).
    section.footer_distance = Mm(MARGINS_MM["bottom"] - 7 - 6)
    line_pitch, char_space = grid()
    doc_grid = section._sectPr.find(qn("w:docGrid"))
    if doc_grid is None:
        doc_grid = OxmlElement("w:docGrid")
        section._sectPr.append(doc_grid)
    # Lines only: a character grid whose cell (15.79 pt) is narrower than a 16 pt character
    # makes LibreOffice give each character two cells (14 a line); the body's condensed
    # character spacing (Normal style, below) gives 28 a line in Word and LibreOffice alike.
    doc_grid.set(qn("w:type"), "lines")
    doc_grid.set(qn("w:linePitch"), str(line_pitch))
    doc_grid.set(qn("w:charSpace"), str(char_space))
    # Odd pages number at the right, even pages at the left: different odd and even footers.
    document.settings.odd_and_even_pages_header_footer = True

    normal = document.styles["Normal"]
    normal.font.name = BODY_FONT
    _set_fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    normal.font.size = Pt(BODY_PT)
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(body_letter_spacing()))
    normal.element.get_or_add_rPr().append(spacing)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    fmt = normal.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0


def _footers(section) -> None:
    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _indent_chars(odd, rightChars=100)
    _page_field(odd)
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    _indent_chars(even, leftChars=100)
    _page_field(even)


def _draft_headers(section) -> None:
    mark = _("Draft for comments — not issued")
    for header in (section.header, section.even_page_header):
        paragraph = header.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        add_run(paragraph, mark, font=HEADING_FONT, size=PAGE_NUMBER_PT, color=RED)


def _organ_mark(document, organ_name: str) -> None:
    """发文机关标志: the organ's name and "文件" in red, as large as fits one line (at most 36 pt)."""
    text = organ_name + _("Document")
    width_pt = (PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]) * PT_PER_MM
    size = max(16, min(36, int(width_pt / max(len(text), 1)) - 1))
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_before = Pt(24)
    _no_grid(paragraph)  # one line of large type, off the body's character grid
    add_run(paragraph, text, font=TITLE_FONT, size=size, color=RED)
    document.add_paragraph()


def _column_widths(table: Table) -> list[int]:
    """Each column's width (EMU) in proportion to its longest text, within bounds, so that a
    unit's name gets room and a column of small numbers does not."""
    longest = [
        min(14, max(2, len(header), *(len(str(row[index])) for row in table.rows)))
        for index, header in enumerate(table.header)
    ]
    total = Mm(PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"])
    return [int(total * share / sum(longest)) for share in longest]


def _table(document, table: Table) -> None:
    grid_table = document.add_table(rows=1, cols=len(table.header))
    grid_table.style = "Table Grid"
    grid_table.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid_table.autofit = False
    # Wide tables a size smaller (五号), so that a row of figures stays one line.
    size = TABLE_PT if len(table.header) <= WIDE_TABLE_COLUMNS else WIDE_TABLE_PT
    widths = _column_widths(table)
    for column, width in zip(grid_table.columns, widths, strict=True):
        column.width = width
    head = grid_table.rows[0]
    _repeat_header(head)
    for cell, text, width in zip(head.cells, table.header, widths, strict=True):
        cell.width = width
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _no_grid(paragraph)
        add_run(paragraph, text, font=HEADING_FONT, size=size)
    for values in table.rows:
        cells = grid_table.add_row().cells
        for cell, text, width in zip(cells, values, widths, strict=True):
            cell.width = width
            paragraph = cell.paragraphs[0]
            _no_grid(paragraph)
            add_run(paragraph, text, size=size)
    if table.more_note:
        note = document.add_paragraph()
        add_run(note, table.more_note, size=TABLE_PT)


def render_docx(paper: Paper, path: Path) -> Path:
    """Write ``paper`` as a .docx at ``path``; returns ``path``."""
    with translation.override(settings.LANGUAGE_CODE):
        document = Document()
        _setup(document)
        section = document.sections[0]
        _footers(section)
        if paper.draft:
            _draft_headers(section)

        _organ_mark(document, paper.organ_name)
        number = document.add_paragraph()
        number.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _no_grid(number)
        add_run(number, paper.number)
        _red_rule_below(number)
        document.add_paragraph()
        document.add_paragraph()

        title = document.add_paragraph()
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.line_spacing = Pt(35)  # 2号 lines, off the body's grid
        _no_grid(title)
        add_run(title, paper.title, font=TITLE_FONT, size=TITLE_PT)
        document.add_paragraph()

        add_run(document.add_paragraph(), paper.addressee)
        for text in paper.lead.splitlines():
            if text.strip():
                body = document.add_paragraph()
                _indent_chars(body, firstLineChars=200)
                add_run(body, text.strip())
        for block in paper.blocks:
            if block.kind == "table":
                _table(document, block.table)
                continue
            paragraph = document.add_paragraph()
            _indent_chars(paragraph, firstLineChars=200)
            font = {"h1": HEADING_FONT, "h2": SUBHEADING_FONT}.get(block.kind, BODY_FONT)
            add_run(paragraph, block.text, font=font)
        for text in paper.closing.splitlines():
            if text.strip():
                body = document.add_paragraph()
                _indent_chars(body, firstLineChars=200)
                add_run(body, text.strip())

        # The signature: the organ centred over the date, the date four characters from the right.
        document.add_paragraph()
        document.add_paragraph()
        organ = document.add_paragraph()
        organ.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        offset = max(0, 400 + (len(paper.date) - len(paper.organ_name)) * 50)
        _indent_chars(organ, rightChars=offset)
        add_run(organ, paper.organ_name)
        date = document.add_paragraph()
        date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _indent_chars(date, rightChars=400)
        add_run(date, paper.date)

        document.core_properties.title = paper.title
        document.core_properties.author = paper.organ_name
        document.core_properties.language = "zh-CN"
        document.save(str(path))
    return Path(path)


__all__ = ["FONTS", "grid", "render_docx"]
