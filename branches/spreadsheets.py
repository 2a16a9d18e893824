"""The one writer of Excel workbooks: every export and the bulletin's workbook go through it.

No cell ever becomes a formula. Text that a spreadsheet would read as a formula or a command
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written as a string
cell with the ``quotePrefix`` style: the text stays exactly as typed, and Excel, WPS and
LibreOffice show it as text even when a user edits the cell. Numbers, dates and booleans stay
typed values, so sheets can still be sorted and summed.

Large lists stream: ``xlsx_response`` writes rows from any iterable into a write-only
workbook in a temporary file (memory stays flat) and streams that file to the browser.
"""

import datetime
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import NamedTuple

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True)


class Sheet(NamedTuple):
    """One sheet of an export: its name (≤ 31 characters), the header row and the rows."""

    title: str
    header: list[str]
    rows: Iterable[Iterable[object]]


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def cell_value(value: object) -> object:
    """A value openpyxl writes as data: typed numbers and dates, text as text, never a formula."""
    if value is None or isinstance(value, bool | int | float | Decimal | datetime.date | datetime.time):
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            # Excel has no time zones: the local wall-clock time the page shows.
            return timezone.localtime(value).replace(tzinfo=None)
        return value
    return str(value)


def safe_cell(ws: Worksheet, value: object, *, bold: bool = False) -> WriteOnlyCell:
    """A write-only cell holding ``value`` as data; formula-like text is marked as text."""
    cell = WriteOnlyCell(ws, value=cell_value(value))
    if is_formula_like(cell.value):
        # Stored as a string cell ("s"/inlineStr), never "f"; quotePrefix makes the
        # spreadsheet keep showing it as text even when a user edits the cell.
        cell.data_type = "s"
        cell.quotePrefix = True
    if bold:
        cell.font = HEADER_FONT
    return cell


def set_safe(ws: Worksheet, row: int, column: int, value: object):
    """The same guarantee for a normal (not write-only) worksheet: set one cell as data."""
    cell = ws.cell(row=row, column=column)
    cell.value = cell_value(value)
    if is_formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def append_safe(ws: Worksheet, values: Iterable[object]) -> int:
    """Append one row to a normal worksheet through ``set_safe``; returns the row number."""
    row = ws.max_row + 1 if ws.max_row > 1 or ws.cell(row=1, column=1).value is not None else 1
    for column, value in enumerate(values, start=1):
        set_safe(ws, row, column, value)
    return row


def dated_filename(label: str, day: datetime.date | None = None) -> str:
    """``label-YYYYMMDD.xlsx``: what an export is, and the day it was taken (the local date)."""
    day = day or timezone.localdate()
    # A name must not smuggle a path or a header: keep it to one plain segment.
    safe = "".join("_" if char in '\\/:*?"<>|\r\n\t' else char for char in str(label)).strip() or "export"
    return f"{safe}-{day:%Y%m%d}.xlsx"


def batched(iterable: Iterable, size: int) -> Iterator[list]:
    """Lists of up to ``size`` items: rows stream from ``.iterator()``, extras load per batch."""
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _rows(ws: Worksheet, sheet: Sheet) -> Iterator[list[WriteOnlyCell]]:
    yield [safe_cell(ws, label, bold=True) for label in sheet.header]
    for row in sheet.rows:
        yield [safe_cell(ws, value) for value in row]


def write_workbook(sheets: Iterable[Sheet], target) -> None:
    """Write ``sheets`` into ``target`` (a path or a binary file) in write-only mode."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        ws = workbook.create_sheet(title=sheet.title[:31])
        ws.freeze_panes = "A2"
        for cells in _rows(ws, sheet):
            ws.append(cells)
    workbook.save(target)


def xlsx_response(filename: str, sheets: Iterable[Sheet]) -> FileResponse:
    """Stream a workbook of ``sheets`` as a download named ``filename`` (.xlsx added if missing)."""
    if not filename.endswith(".xlsx"):
        filename += ".xlsx"
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it when sent)
    write_workbook(sheets, handle)
    handle.seek(0)
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
    response["Cache-Control"] = "private, no-store"  # lists of people and results: never cached
    return response


__all__ = [
    "FORMULA_STARTS",
    "Sheet",
    "append_safe",
    "batched",
    "cell_value",
    "dated_filename",
    "is_formula_like",
    "safe_cell",
    "set_safe",
    "write_workbook",
    "xlsx_response",
]
