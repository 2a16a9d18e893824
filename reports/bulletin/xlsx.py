"""The bulletin as an Excel workbook, rendered from the same frozen data as the PDF.

One sheet per part of the bulletin; every sheet has a title in row 1, the column headers in
row 2 and the rows from row 3. Counts, shares, scores and star levels are numbers and dates
are dates, so the sheets can be sorted and summed; the file is written to a temporary name
and renamed into place, so a crash never leaves half a workbook behind. Every cell goes
through the one writer's ``append_safe`` / ``set_safe``: a branch name or a reason that
starts like a formula stays text.
"""

import datetime
import os
import tempfile
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from branches.spreadsheets import append_safe, set_safe

from .data import RANKING_SIZE
from .year import is_year_data

TITLE_FONT = Font(bold=True, size=13)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F3E3E5")
TOTAL_FONT = Font(bold=True)
PERCENT = "0.0"
SCORE = "0.0"
DATE = "yyyy-mm-dd"


def _date(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


def _number(text: str | None) -> Decimal | None:
    return Decimal(text) if text not in (None, "") else None


class _Sheet:
    """Title, headers with widths, then rows; ``formats`` maps a column (0-based) to a number format."""

    def __init__(
        self, workbook: Workbook, name: str, title: str, columns: list[tuple[str, int]], *, first=False
    ):
        self.ws = workbook.active if first else workbook.create_sheet()
        self.ws.title = name[:31]
        append_safe(self.ws, [title])
        self.ws.cell(row=1, column=1).font = TITLE_FONT
        self.header(columns)
        self.ws.freeze_panes = "A3"
        for index, (_label, width) in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width

    def header(self, columns: list[tuple[str, int]]) -> None:
        row = append_safe(self.ws, [label for label, _width in columns])
        for index in range(1, len(columns) + 1):
            cell = self.ws.cell(row=row, column=index)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    def row(self, values: list, formats: dict[int, str] | None = None, *, bold: bool = False) -> None:
        row = append_safe(self.ws, values)
        if formats or bold:
            for index, number_format in (formats or {}).items():
                self.ws.cell(row=row, column=index + 1).number_format = number_format
            if bold:
                for index in range(1, len(values) + 1):
                    self.ws.cell(row=row, column=index).font = TOTAL_FONT


def _distribution_sheet(workbook: Workbook, data: dict, heading: str) -> None:
    levels = [level["label"] for level in data["star_levels"]]
    columns = [(_("Organization"), 34), (_("Branches"), 10), *[(label, 8) for label in levels]]
    # Version 1 data counted revoked branches as unrated: no column for them then.
    has_revoked = "revoked" in data["totals"]
    columns += [
        (_("Unrated"), 9),
        *([(_("Revoked"), 9)] if has_revoked else []),
        (_("Five-star share (%)"), 14),
    ]
    sheet = _Sheet(
        workbook, _("Star distribution"), f"{heading} · {_('Star distribution')}", columns, first=True
    )
    percent_column = {len(columns) - 1: PERCENT}

    def without(row: dict) -> list:
        return [row["unrated"], row["revoked"]] if has_revoked else [row["unrated"]]

    for row in data["distribution"]:
        sheet.row(
            [row["name"], row["branches"], *row["counts"], *without(row), _number(row["five_star_percent"])],
            percent_column,
        )
    totals = data["totals"]
    sheet.row(
        [
            _("All branches"),
            totals["branches"],
            *totals["counts"],
            *without(totals),
            _number(totals["five_star_percent"]),
        ],
        percent_column,
        bold=True,
    )
    # The trend under the distribution, with its own headers.
    set_safe(sheet.ws, sheet.ws.max_row + 1, 1, None)  # a blank row before the trend
    append_safe(
        sheet.ws,
        [
            _("Five-star share against the target")
            + f" · {_('Target %(percent)s%%') % {'percent': data['target']['target_percent']}}"
        ],
    )
    sheet.ws.cell(row=sheet.ws.max_row, column=1).font = TITLE_FONT
    sheet.header(
        [
            (_("Quarter"), 0),
            (_("Levels on"), 0),
            (_("Branches"), 0),
            (_("Rated"), 0),
            (_("Five-star"), 0),
            (_("Five-star share (%)"), 0),
        ]
    )
    for point in data["trend"]:
        sheet.row(
            [
                point["label"],
                _date(point["as_of"]),
                point["branches"],
                point["rated"],
                point["five_star"],
                _number(point["five_star_percent"]),
            ],
            {1: DATE, 5: PERCENT},
        )


def _commendation_sheet(workbook: Workbook, data: dict, heading: str) -> None:
    sheet = _Sheet(
        workbook,
        _("Commendation"),
        f"{heading} · {_('Commendation notice')}",
        [
            (_("Stars"), 8),
            (_("No."), 7),
            (_("Party branch"), 34),
            (_("Parent organization"), 34),
            (_("Certified on"), 13),
        ],
    )
    for group in data["commendations"]:
        for number, branch in enumerate(group["branches"], start=1):
            sheet.row(
                [group["stars"], number, branch["name"], branch["parent"], _date(branch["since"])],
                {4: DATE},
            )


def _changes_sheet(workbook: Workbook, data: dict, heading: str) -> None:
    sheet = _Sheet(
        workbook,
        _("Changes in the quarter"),
        f"{heading} · {_('Changes of star level in the quarter')}",
        [
            (_("Date"), 12),
            (_("Party branch"), 30),
            (_("Parent organization"), 30),
            (pgettext("star level change", "Change"), 10),
            (_("From (stars)"), 10),
            (_("To (stars)"), 10),
            (_("Reason"), 40),
            (_("Violation"), 30),
        ],
    )
    for row in data["changes"]["rows"]:
        sheet.row(
            [
                _date(row["date"]),
                row["branch"],
                row["parent"],
                row["kind_label"],
                row["from_stars"],
                row["to_stars"],
                row["reason"],
                row["violation"],
            ],
            {0: DATE},
        )


def _progress_sheet(workbook: Workbook, data: dict, heading: str) -> None:
    progress = data["progress"]
    stages = progress["stages"] if progress else []
    title = f"{heading} · {_('Progress of the certification cycle')}"
    if progress:
        title += f" · {progress['cycle']['name']} ({progress['cycle']['status_label']})"
    sheet = _Sheet(
        workbook,
        _("Certification progress"),
        title,
        [(_("Organization"), 34), *[(stage["label"], 10) for stage in stages], (_("All"), 8)],
    )
    if not progress:
        sheet.row([_("No certification cycle has been opened yet.")])
        return
    for row in progress["rows"]:
        sheet.row([row["name"], *row["counts"], row["total"]])
    sheet.row([_("All branches"), *progress["totals"]["counts"], progress["totals"]["total"]], bold=True)


def _ranking_sheet(workbook: Workbook, data: dict, heading: str) -> None:
    """The full ranking, every ranked branch (version 1 data held only the top and bottom lists);
    the first column says which of the bulletin's lists a row is in."""
    ranking = data["ranking"]
    top_label, bottom_label = _("Top %(n)s") % {"n": RANKING_SIZE}, _("Bottom %(n)s") % {"n": RANKING_SIZE}
    if "rows" in ranking:
        # The top list is a head of the full ranking and the bottom list a tail.
        rows, n_top, n_bottom = ranking["rows"], len(ranking["top"]), len(ranking["bottom"])
        listed = [
            (top_label if i < n_top else bottom_label if i >= len(rows) - n_bottom else "", row)
            for i, row in enumerate(rows)
        ]
    else:
        listed = [(top_label, row) for row in ranking["top"]] + [
            (bottom_label, row) for row in ranking["bottom"]
        ]
    sheet = _Sheet(
        workbook,
        _("Score ranking"),
        f"{heading} · {_('Ranking by consolidated score')}",
        [
            (_("List"), 10),
            (_("Rank"), 7),
            (_("Party branch"), 30),
            (_("Parent organization"), 30),
            (_("Score"), 9),
            (_("Stars"), 7),
            (_("Cycle"), 26),
            (_("Star level"), 10),
        ],
    )
    for label, row in listed:
        sheet.row(
            [
                label,
                row["rank"],
                row["branch"],
                row["parent"],
                _number(row["score"]),
                row["stars"],
                row["cycle"],
                row["stars_label"],
            ],
            {4: SCORE},
        )


def _check_ranking_sheet(workbook: Workbook, data: dict, heading: str) -> None:
    """The quarterly check's full ranking, then the year's 班子调整 flags; absent from bulletins
    made before the check ranking (version 3)."""
    check = data.get("check_ranking")
    if check is None:
        return
    sheet = _Sheet(
        workbook,
        _("Check ranking"),
        f"{heading} · {_('Ranking by the quarterly check')}",
        [
            (_("List"), 10),
            (_("Rank"), 7),
            (_("Party branch"), 30),
            (_("Party committee"), 30),
            (_("Score"), 9),
            (_("Stars"), 7),
            (_("Star level"), 10),
            (pgettext("rank change", "Change"), 9),
            (_("Rank in the party committee"), 12),
        ],
    )
    if not check["published"]:
        sheet.row([_("No check round of this quarter has been published.")])
    top_label, bottom_label = _("Top %(n)s") % {"n": RANKING_SIZE}, _("Bottom %(n)s") % {"n": RANKING_SIZE}
    rows, n_top, n_bottom = check["rows"], len(check["top"]), len(check["bottom"])
    for i, row in enumerate(rows):
        label = top_label if i < n_top else bottom_label if i >= len(rows) - n_bottom else ""
        sheet.row(
            [
                label,
                row["rank"],
                row["branch"],
                row["parent"],
                _number(row["score"]),
                row["stars"],
                row["stars_label"],
                row["change_label"],
                row["rank_in_party_committee"],
            ],
            {4: SCORE},
        )
    set_safe(sheet.ws, sheet.ws.max_row + 1, 1, None)  # a blank row before the flags
    append_safe(sheet.ws, [_("Leadership adjustment (班子调整) flags this year")])
    sheet.ws.cell(row=sheet.ws.max_row, column=1).font = TITLE_FONT
    sheet.header(
        [
            (_("Party branch"), 0),
            (_("Parent organization"), 0),
            (_("Action taken"), 0),
            (_("Date of the action"), 0),
        ]
    )
    for flag in check["flags"]:
        sheet.row([flag["branch"], flag["parent"], flag["action_taken"], _date(flag["action_on"])], {3: DATE})


def _five_goods_sheet(workbook: Workbook, data: dict, heading: str) -> None:
    minimum = data["policy"]["five_goods_min_percent"]
    sheet = _Sheet(
        workbook,
        _("Five goods"),
        f"{heading} · {_('“Five goods” eligibility')} · "
        + _("minimum five-star share %(percent)s%%") % {"percent": minimum},
        [
            (_("Organization"), 34),
            (_("Kind"), 12),
            (_("Branches"), 10),
            (_("Five-star"), 10),
            (_("Five-star share (%)"), 14),
            (_("Eligible"), 10),
        ],
    )
    # The label frozen with the data, as web and PDF show it; version 1 data has none.
    yes, no = _("Eligible"), _("Not eligible")
    for row in data["five_goods"]:
        sheet.row(
            [
                row["name"],
                row["kind_label"],
                row["branches"],
                row["five_star"],
                _number(row["five_star_percent"]),
                row.get("eligible_label") or (yes if row["eligible"] else no),
            ],
            {4: PERCENT},
        )


def _appeals_sheet(workbook: Workbook, data: dict, heading: str) -> None:
    """The appeals (复核申请) made in the quarter, by outcome; absent from bulletins made before them."""
    appeals = data.get("appeals")
    if appeals is None:
        return
    sheet = _Sheet(
        workbook,
        _("Appeals"),
        f"{heading} · {_('Appeals (re-reviews)')}",
        [(_("Outcome"), 30), (_("Appeals"), 10)],
    )
    for label, key in (
        (_("Rejected"), "rejected"),
        (_("Result upheld"), "upheld"),
        (_("Result changed"), "changed"),
        (_("Still open"), "open"),
    ):
        sheet.row([label, appeals[key]])
    sheet.row([_("All appeals"), appeals["total"]], bold=True)


def _rectification_sheets(workbook: Workbook, data: dict, heading: str) -> None:
    """Version 5: rectification per party committee, the overdue tasks, supervision coverage,
    the stage distribution and the quarter's stage changes (every row, whatever the size)."""
    if "rectification" not in data:
        return
    rectification = data["rectification"]
    sheet = _Sheet(
        workbook,
        _("Rectification"),
        f"{heading} · {_('Rectification (整改)')}",
        [
            (_("Organization"), 34),
            (_("Opened"), 10),
            (_("Accepted"), 10),
            (_("Open"), 10),
            (_("Overdue"), 10),
        ],
    )
    for row in rectification["rows"]:
        sheet.row([row["name"], row["opened"], row["closed"], row["open"], row["overdue"]])
    totals = rectification["totals"]
    sheet.row(
        [_("All branches"), totals["opened"], totals["closed"], totals["open"], totals["overdue"]], bold=True
    )
    overdue = _Sheet(
        workbook,
        _("Overdue tasks"),
        f"{heading} · {_('Overdue rectification tasks')}",
        [
            (_("Party branch"), 30),
            (_("Parent organization"), 30),
            (_("Task"), 36),
            (_("Person responsible"), 14),
            (_("Deadline"), 12),
            (_("Days overdue"), 10),
            (_("Status"), 16),
            (_("Source"), 18),
        ],
    )
    for row in rectification["overdue_rows"]:
        overdue.row(
            [
                row["branch"],
                row["parent"],
                row["title"],
                row["owner"],
                _date(row["deadline"]),
                row["days_overdue"],
                row["status_label"],
                row["source_label"],
            ],
            {4: DATE},
        )
    supervision = data["supervision"]
    visits = _Sheet(
        workbook,
        _("Supervision"),
        f"{heading} · {_('Supervision visits (督导)')}",
        [(_("Organization"), 34), (_("Liaison branches"), 14), (_("Visited"), 10), (_("Coverage (%)"), 12)],
    )
    for row in supervision["rows"]:
        visits.row(
            [row["name"], row["liaison_branches"], row["visited"], _number(row["percent"])], {3: PERCENT}
        )
    visits.row(
        [
            _("All branches"),
            supervision["liaison_branches"],
            supervision["visited"],
            _number(supervision["percent"]),
        ],
        {3: PERCENT},
        bold=True,
    )
    stages = data["stages"]
    stage_sheet = _Sheet(
        workbook,
        _("Stages"),
        f"{heading} · {_('Stages: basic, distinctive, model')}",
        [(_("Organization"), 34), *[(stage["label"], 10) for stage in stages["stages"]], (_("All"), 10)],
    )
    for row in stages["rows"]:
        stage_sheet.row([row["name"], *row["counts"], row["total"]])
    stage_sheet.row([_("All branches"), *stages["totals"]["counts"], stages["totals"]["total"]], bold=True)
    changes = _Sheet(
        workbook,
        _("Stage changes"),
        f"{heading} · {_('Stage changes in the quarter')}",
        [
            (_("Date"), 12),
            (_("Party branch"), 30),
            (_("Parent organization"), 30),
            (_("From"), 10),
            (_("To"), 10),
            (_("Reason"), 40),
        ],
    )
    for row in data["stage_changes"]["rows"]:
        changes.row(
            [
                _date(row["date"]),
                row["branch"],
                row["parent"],
                row["from_label"],
                row["to_label"],
                row["reason"],
            ],
            {0: DATE},
        )


def _quarter_sheets(workbook: Workbook, data: dict, heading: str) -> None:
    _distribution_sheet(workbook, data, heading)
    _commendation_sheet(workbook, data, heading)
    _changes_sheet(workbook, data, heading)
    _progress_sheet(workbook, data, heading)
    _ranking_sheet(workbook, data, heading)
    _five_goods_sheet(workbook, data, heading)
    _appeals_sheet(workbook, data, heading)
    _check_ranking_sheet(workbook, data, heading)
    _rectification_sheets(workbook, data, heading)


# --- The year bulletin (年度通报) ------------------------------------------------------------------


def _year_sheets(workbook: Workbook, data: dict, heading: str) -> None:
    """Every branch with its four quarters, then the party committees, 五好, flags, proposals."""
    quarters = data["quarters"]
    columns = [(_("Rank"), 7), (_("Party branch"), 30), (_("Party committee"), 28)]
    for q in quarters:
        columns += [(q["label"], 10), (_("Rank %(quarter)s") % {"quarter": q["label"]}, 10)]
    columns += [
        (_("Quarterly checks scored"), 10),
        (_("Year mean"), 10),
        (_("Five-good branch"), 10),
        (_("Times last in the party committee"), 12),
        (_("Leadership adjustment"), 12),
    ]
    sheet = _Sheet(workbook, _("Year ranking"), f"{heading} · {_('Year ranking')}", columns, first=True)
    score_columns = {3 + 2 * i: SCORE for i in range(len(quarters))}
    score_columns[3 + 2 * len(quarters) + 1] = "0.00"
    yes = _("yes")
    for row in data["rows"]:
        values = [row["rank"], row["branch"], row["parent"]]
        for score, rank in zip(row["scores"], row["ranks"], strict=True):
            values += [_number(score), rank]
        values += [
            row["rounds"],
            _number(row["mean"]),
            yes if row["five_good"] else "",
            row["last_places"],
            yes if row["flagged"] else "",
        ]
        sheet.row(values, score_columns)

    groups = _Sheet(
        workbook,
        _("Party committees"),
        f"{heading} · {_('Party committees')}",
        [
            (_("Party committee"), 34),
            (_("Branches"), 10),
            (_("Mean year score"), 12),
            (_("Five-good branches"), 12),
            (_("Leadership adjustments"), 12),
        ],
    )
    for group in data["groups"]:
        groups.row(
            [group["name"], group["branches"], _number(group["mean"]), group["five_good"], group["flags"]],
            {2: "0.00"},
        )
    totals = data["totals"]
    groups.row(
        [
            _("All branches"),
            totals["branches"],
            _number(totals["mean"]),
            totals["five_good"],
            totals["flags"],
        ],
        {2: "0.00"},
        bold=True,
    )

    five = _Sheet(
        workbook,
        _("Five-good branches"),
        f"{heading} · {_('Five-good branches (五好党支部)')} · "
        + _("threshold %(threshold)s") % {"threshold": data["threshold"]},
        [(_("No."), 7), (_("Party branch"), 30), (_("Party committee"), 30), (_("Year mean"), 10)],
    )
    for number, row in enumerate(data["five_goods"], start=1):
        five.row([number, row["branch"], row["parent"], _number(row["mean"])], {3: "0.00"})

    flags = _Sheet(
        workbook,
        _("Leadership adjustments"),
        f"{heading} · {_('Leadership adjustments (班子调整)')}",
        [
            (_("Party branch"), 30),
            (_("Party committee"), 30),
            (_("Ranked last in"), 24),
            (_("Action taken"), 40),
            (_("Date of the action"), 13),
            (_("Recorded on"), 13),
            (_("Recorded by"), 14),
        ],
    )
    for flag in data["flags"]:
        flags.row(
            [
                flag["branch"],
                flag["parent"],
                flag["quarters"],
                flag["action_taken"],
                _date(flag["action_on"]),
                _date(flag["recorded_at"]),
                flag["recorded_by"],
            ],
            {4: DATE, 5: DATE},
        )

    proposals = _Sheet(
        workbook,
        _("Downgrade proposals"),
        f"{heading} · {_('Downgrade proposals')}",
        [
            (_("Proposed on"), 12),
            (_("Party branch"), 30),
            (_("Source"), 24),
            (_("Stars"), 7),
            (_("Outcome of the proposal"), 14),
            (_("To (stars)"), 9),
            (_("Decided on"), 12),
            (_("Reason"), 40),
            (_("Reason of the decision"), 40),
        ],
    )
    for row in data["proposals"]["rows"]:
        proposals.row(
            [
                _date(row["proposed"]),
                row["branch"],
                row["source_label"],
                row["stars"],
                row["status_label"],
                row["to_stars"],
                _date(row["decided"]),
                row["reason"],
                row["note"],
            ],
            {0: DATE, 6: DATE},
        )


def bulletin_xlsx(data: dict, target_path: Path) -> Path:
    """Write the bulletin's workbook to ``target_path`` atomically; returns the path."""
    target = Path(target_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with translation.override(data.get("language") or settings.LANGUAGE_CODE):
        workbook = Workbook()
        if is_year_data(data):
            _year_sheets(workbook, data, f"{data['committee']['name']} {data['label']}")
        else:
            _quarter_sheets(workbook, data, f"{data['committee']['name']} {data['quarter_label']}")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        workbook.save(tmp_name)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target
