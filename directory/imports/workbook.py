"""The import file: its fixed sheets and headers, reading it safely, and the downloadable template.

The sheet names, headers and the kind, stage and role names in the cells are the file's format
(committees prepare these files with their own tools), so they are fixed Chinese text and are
never translated; what the product says about them is.

A workbook is read with openpyxl in read-only mode, one row at a time, so memory stays flat
whatever the size. Before that, the upload is checked for what would make reading it costly or
unsafe: not a ZIP, not an Excel workbook, too large packed or unpacked, too many rows.
"""

import datetime
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from branches.models import BranchStage, OrgKind
from branches.roles import Role
from branches.spreadsheets import Sheet, write_workbook

ORG_SHEET = "组织"
PEOPLE_SHEET = "人员"
NOTES_SHEET = "说明"

ORG_CODE, ORG_NAME, ORG_KIND, ORG_PARENT, ORG_STAGE, ORG_ORDER_HEADER = (
    "组织编码",
    "组织名称",
    "组织类型",
    "上级组织编码",
    "阶段",
    "排序",
)
ORG_HEADERS = (ORG_CODE, ORG_NAME, ORG_KIND, ORG_PARENT, ORG_STAGE, ORG_ORDER_HEADER)
PERSON_USERNAME, PERSON_NAME, PERSON_PHONE, PERSON_EMAIL, PERSON_ROLE, PERSON_ORG = (
    "用户名",
    "姓名",
    "手机",
    "邮箱",
    "角色",
    "组织编码",
)
PEOPLE_HEADERS = (PERSON_USERNAME, PERSON_NAME, PERSON_PHONE, PERSON_EMAIL, PERSON_ROLE, PERSON_ORG)
HEADERS_OF_SHEET = {ORG_SHEET: ORG_HEADERS, PEOPLE_SHEET: PEOPLE_HEADERS}

# The words a cell may hold, and what they mean.
KIND_WORDS = {
    "工委": OrgKind.COMMITTEE,
    "党委": OrgKind.PARTY_COMMITTEE,
    "党总支": OrgKind.GENERAL_BRANCH,
    "党支部": OrgKind.BRANCH,
}
STAGE_WORDS = {"基础": BranchStage.BASIC, "特色": BranchStage.DISTINCTIVE, "示范": BranchStage.MODEL}
ROLE_WORDS = {
    "支部书记": Role.BRANCH_SECRETARY,
    "初审人": Role.PARENT_REVIEWER,
    "考核组成员": Role.ASSESSMENT_REVIEWER,
    "工委审批人": Role.COMMITTEE_APPROVER,
    "党务工作者": Role.STAFF,
}
WORD_OF_KIND = {kind: word for word, kind in KIND_WORDS.items()}
WORD_OF_STAGE = {stage: word for word, stage in STAGE_WORDS.items()}
WORD_OF_ROLE = {role: word for word, role in ROLE_WORDS.items()}

# Limits: a province's file of tens of thousands of branches fits well within them.
IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_MAX_UNPACKED_BYTES = 400 * 1024 * 1024
IMPORT_MAX_ROWS = 50_000  # per sheet, the header not counted


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not a workbook, a missing header, too large…)."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass
class SheetRows:
    """The rows of one sheet: ``(row number, texts)``, empty rows left out.

    ``texts`` is a tuple of the cells' texts in the order of the sheet's headers
    (``HEADERS_OF_SHEET``), whatever their order in the file: a compact tuple per row rather
    than a mapping, so that a province's file stays small in memory. ``cells(texts)`` gives
    the mapping of one row when it is needed. Read with ``parse``, a row is kept as what
    ``parse(sheet name, row number, cells)`` returns instead (the import's plan of the row),
    so the file's texts are never held twice.
    """

    name: str
    rows: list = field(default_factory=list)

    def cells(self, texts: tuple[str, ...]) -> dict[str, str]:
        """One row's texts by header."""
        return dict(zip(HEADERS_OF_SHEET[self.name], texts, strict=True))


@dataclass
class ImportWorkbook:
    organizations: SheetRows
    people: SheetRows


def cell_text(value) -> str:
    """A cell as the text a person meant: 1001.0 typed as a number is "1001", spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).replace("\ufeff", "").replace("\u200b", "").strip()


def _check_package(source: IO[bytes]) -> None:
    """Refuse what is not an Excel workbook, or would unpack into far too much."""
    size = source.seek(0, 2)
    source.seek(0)
    if size > IMPORT_MAX_BYTES:
        raise ImportFileError(
            [
                _("The file is larger than %(limit)d MB; split it into several files.")
                % {"limit": IMPORT_MAX_BYTES // (1024 * 1024)}
            ]
        )
    not_a_workbook = _("The file is not an Excel workbook (.xlsx). Save it as .xlsx and upload it again.")
    if not zipfile.is_zipfile(source):
        raise ImportFileError([not_a_workbook])
    source.seek(0)
    try:
        with zipfile.ZipFile(source) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError([not_a_workbook]) from None
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise ImportFileError([not_a_workbook])
    if sum(member.file_size for member in members) > IMPORT_MAX_UNPACKED_BYTES:
        raise ImportFileError([_("The workbook unpacks into too much data to be read safely.")])
    source.seek(0)


RowParser = Callable[[str, int, dict[str, str]], object]


def _read_sheet(worksheet, name: str, errors: list[str], parse: RowParser | None = None) -> SheetRows:
    expected = HEADERS_OF_SHEET[name]
    rows = worksheet.iter_rows(values_only=True)
    header = [cell_text(value) for value in next(rows, ())]
    while header and not header[-1]:
        header.pop()
    found = [text for text in header if text]
    missing = [text for text in expected if text not in found]
    unknown = [text for text in found if text not in expected]
    doubled = sorted({text for text in found if found.count(text) > 1})
    for text in missing:
        errors.append(
            _("Sheet “%(sheet)s”: the column “%(column)s” is missing from the first row.")
            % {"sheet": name, "column": text}
        )
    for text in unknown:
        errors.append(
            _("Sheet “%(sheet)s”: the column “%(column)s” is not one of %(columns)s.")
            % {"sheet": name, "column": text, "columns": "、".join(expected)}
        )
    for text in doubled:
        errors.append(
            _("Sheet “%(sheet)s”: the column “%(column)s” appears more than once.")
            % {"sheet": name, "column": text}
        )
    sheet = SheetRows(name=name)
    if missing or unknown or doubled:
        return sheet
    positions = [header.index(text) for text in expected]
    width = len(header)
    for number, values in enumerate(rows, start=2):
        texts = [cell_text(value) for value in values[:width]]
        if not any(texts):
            continue
        if len(sheet.rows) >= IMPORT_MAX_ROWS:
            errors.append(
                _("Sheet “%(sheet)s” has more than %(limit)s rows; split it into several files.")
                % {"sheet": name, "limit": f"{IMPORT_MAX_ROWS:,}"}
            )
            return SheetRows(name=name)
        texts += [""] * (width - len(texts))
        kept = tuple(texts[index] for index in positions)
        sheet.rows.append((number, kept) if parse is None else parse(name, number, sheet.cells(kept)))
    return sheet


def read_import_workbook(source: IO[bytes] | str | Path, *, parse: RowParser | None = None) -> ImportWorkbook:
    """The two sheets' rows, or ImportFileError naming everything wrong with the file itself.

    ``parse(sheet name, row number, cells)``, if given, turns each row into what is kept of it
    as it is read.
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            return read_import_workbook(handle, parse=parse)
    _check_package(source)
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error on a damaged file
        raise ImportFileError(
            [_("The file could not be read as an Excel workbook; it may be damaged.")]
        ) from None
    errors: list[str] = []
    try:
        present = set(workbook.sheetnames)
        if not present & {ORG_SHEET, PEOPLE_SHEET}:
            raise ImportFileError(
                [
                    _("The workbook has neither a sheet “%(organizations)s” nor a sheet “%(people)s”.")
                    % {"organizations": ORG_SHEET, "people": PEOPLE_SHEET}
                ]
            )
        try:
            sheets = {
                name: _read_sheet(workbook[name], name, errors, parse)
                if name in present
                else SheetRows(name=name)
                for name in (ORG_SHEET, PEOPLE_SHEET)
            }
        except ImportFileError:
            raise
        except Exception:
            raise ImportFileError(
                [_("The file could not be read as an Excel workbook; it may be damaged.")]
            ) from None
    finally:
        workbook.close()
    if errors:
        raise ImportFileError(errors)
    return ImportWorkbook(organizations=sheets[ORG_SHEET], people=sheets[PEOPLE_SHEET])


# ---------------------------------------------------------------------------- the template


def import_template_sheets() -> list[Sheet]:
    """The template: the two sheets with their headers and an example row each, and 说明."""
    required, optional = _("Required"), _("Optional")
    notes = [
        (
            ORG_SHEET,
            ORG_CODE,
            required,
            _("A unique code; a row whose code exists updates that organization."),
        ),
        (ORG_SHEET, ORG_NAME, required, _("The organization's full name.")),
        (ORG_SHEET, ORG_KIND, required, _("One of: %(words)s.") % {"words": "、".join(KIND_WORDS)}),
        (
            ORG_SHEET,
            ORG_PARENT,
            _("Required except for a working committee"),
            _(
                "The code of the organization it belongs to: a row of this file (above or below) "
                "or an organization you already manage."
            ),
        ),
        (
            ORG_SHEET,
            ORG_STAGE,
            optional,
            _("Party branches only, one of: %(words)s. Empty: 基础 for a new branch, unchanged otherwise.")
            % {"words": "、".join(STAGE_WORDS)},
        ),
        (
            ORG_SHEET,
            ORG_ORDER_HEADER,
            optional,
            _(
                "A whole number; organizations are listed by it, then by code. Empty: 0 when new, unchanged otherwise."
            ),
        ),
        (
            PEOPLE_SHEET,
            PERSON_USERNAME,
            required,
            _("The name the person signs in with (letters, digits and @ . + - _). One row per role."),
        ),
        (
            PEOPLE_SHEET,
            PERSON_NAME,
            _("Required for a new person"),
            _("The person's real name. Every row of the same person gives the same name."),
        ),
        (PEOPLE_SHEET, PERSON_PHONE, optional, _("Digits, spaces and + - ( ). Empty: unchanged.")),
        (PEOPLE_SHEET, PERSON_EMAIL, optional, _("An e-mail address. Empty: unchanged.")),
        (PEOPLE_SHEET, PERSON_ROLE, required, _("One of: %(words)s.") % {"words": "、".join(ROLE_WORDS)}),
        (
            PEOPLE_SHEET,
            PERSON_ORG,
            required,
            _(
                "The code of the organization the role is held on: a row of the sheet “%(sheet)s” or an existing one."
            )
            % {"sheet": ORG_SHEET},
        ),
        (
            "",
            "",
            "",
            _(
                "Nothing is imported while any row has an error; importing the same file again changes "
                "nothing. New people receive a one-time password, to be changed at the first sign-in."
            ),
        ),
    ]
    return [
        Sheet(ORG_SHEET, list(ORG_HEADERS), [["ZB001", "第一党支部", "党支部", "DW01", "基础", 1]]),
        Sheet(
            PEOPLE_SHEET,
            list(PEOPLE_HEADERS),
            [["zhangsan", "张三", "13800000000", "zhangsan@example.cn", "支部书记", "ZB001"]],
        ),
        Sheet(NOTES_SHEET, [_("Sheet"), _("Column"), _("Required?"), _("What to enter")], notes),
    ]


def write_import_template(target) -> None:
    write_workbook(import_template_sheets(), target)
