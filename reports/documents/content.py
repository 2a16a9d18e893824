"""What an official document says, as plain blocks: one structure for the .docx and the web preview.

``paper_for`` turns a document row (its frozen data, its edited title, lead and closing text,
its number once issued) into a ``Paper``: the issuing organ, the document number, the title,
the addressee, then headings, paragraphs and tables in order, the closing text and the
signature. The renderer (``docx.py``) and the preview template lay the same blocks out; every
figure comes from the frozen data, never from live records.

Texts are written in English for translation and rendered in the site's language
(``settings.LANGUAGE_CODE``), as the bulletin is. The heading numbers (一、（一）) are the
official-document convention of GB/T 9704 and are part of the layout, not of the language.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ..bulletin import bounds
from ..models import DocumentKind, OfficialDocument

NUMERALS = "一二三四五六七八九十"


def heading_number(index: int) -> str:
    """1 → "一、" (first-level headings of GB/T 9704)."""
    return f"{NUMERALS[index - 1]}、" if index <= len(NUMERALS) else f"{index}. "


def subheading_number(index: int) -> str:
    """1 → "（一）" (second-level headings)."""
    return f"（{NUMERALS[index - 1]}）" if index <= len(NUMERALS) else f"({index})"


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    more: int = 0  # rows left out of a long list (the Excel file holds them)
    more_note: str = ""


@dataclass
class Block:
    kind: str  # "h1", "h2", "p", "table"
    text: str = ""
    table: Table | None = None


@dataclass
class Paper:
    organ_name: str
    number: str
    title: str
    addressee: str
    lead: str
    blocks: list[Block] = field(default_factory=list)
    closing: str = ""
    date: str = ""
    draft: bool = True


def chinese_date(day: datetime.date) -> str:
    """2026-12-07 → "2026年12月7日" (GB/T 9704: the year in full, no leading zero)."""
    return _("%(year)d-%(month)d-%(day)d") % {"year": day.year, "month": day.month, "day": day.day}


def document_number(code: str, year: int, number: int | None) -> str:
    """ "滨直工委〔2026〕12号"; a draft's number is left blank: "滨直工委〔2026〕  号"."""
    shown = str(number) if number is not None else "\u3000"
    return _("%(code)s [%(year)s] No. %(number)s") % {"code": code, "year": year, "number": shown}


def _stars_word(stars: int) -> str:
    return {
        5: _("five-star"),
        4: _("four-star"),
        3: _("three-star"),
        2: _("two-star"),
        1: _("one-star"),
    }[stars]


# --- Default texts: the draft's title, lead and closing, which staff may edit -----------------


def default_texts(kind: str, data: dict) -> tuple[str, str, str]:
    """(title, lead, closing) of a new draft, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        if kind == DocumentKind.BULLETIN:
            quarter = data.get("quarter_label", "")
            return (
                _("Bulletin on the star rating of party branches in %(quarter)s") % {"quarter": quarter},
                _(
                    "To advance the standardised building of party branches, the star rating of the "
                    "party branches in %(quarter)s is announced as follows."
                )
                % {"quarter": quarter},
                _(
                    "Every party committee and general branch shall compare its branches with this "
                    "bulletin, find their shortcomings, see rectification through and raise the "
                    "standard of every branch."
                ),
            )
        if kind == DocumentKind.COMMENDATION:
            cycle = data["cycle"]["name"]
            return (
                _("Decision commending the five-, four- and three-star party branches of %(cycle)s")
                % {"cycle": cycle},
                _(
                    "After self-assessment by the branches, preliminary review by the party committees, "
                    "scoring by the assessment team, certification by the committee and public notice, "
                    "%(count)s party branches were certified with three stars or more in %(cycle)s. To "
                    "set examples and encourage the advanced, the committee decides to commend them as "
                    "follows."
                )
                % {"count": data["total"], "cycle": cycle},
                _(
                    "We hope the commended branches will cherish the honour and keep improving, and that "
                    "every party branch will learn from them and strive to raise its star level."
                ),
            )
        if kind == DocumentKind.RESULTS_NOTICE:
            cycle = data["cycle"]["name"]
            return (
                _("Notice of the star certification results of %(cycle)s") % {"cycle": cycle},
                _(
                    "The star certification of %(cycle)s has been completed after public notice. The "
                    "results of the party branches under your organization are notified as follows."
                )
                % {"cycle": cycle},
                _(
                    "Please pass the results on to each party branch without delay, hand out the star "
                    "certificates and guide the branches to keep and raise their level. This notice "
                    "is hereby given."
                ),
            )
        task = data["task"]
        return (
            _("Rectification notice on “%(title)s”") % {"title": task["title"]},
            _(
                "The following problem has been found in the work of your branch. It must be rectified "
                "as required below."
            ),
            _(
                "Please complete the rectification by the deadline and report it in writing to the "
                "committee with the supporting material. This notice is hereby given."
            ),
        )


# --- Blocks per kind -----------------------------------------------------------------------------


def _cut(rows: list, limit: int | None) -> tuple[list, int]:
    cut = bounds.cut(rows, limit)
    return cut["rows"], cut["more"]


def _more_note(more: int) -> str:
    return _("%(count)s more rows are listed in the bulletin's Excel file.") % {"count": more} if more else ""


def bulletin_blocks(data: dict) -> list[Block]:
    """The quarterly bulletin as official text: its figures are the frozen data's, to the digit."""
    bounded = bounds.is_bounded(data["totals"]["branches"])
    list_limit = bounds.LIST_ROWS if bounded else None
    unit_limit = bounds.UNIT_ROWS if bounded else None
    totals = data["totals"]
    target = data["target"]
    blocks: list[Block] = []
    section = 0

    def h1(text):
        nonlocal section
        section += 1
        blocks.append(Block("h1", heading_number(section) + text))

    h1(_("Overall situation"))
    reached = (
        _("the target of %(target)s%% has been reached") % {"target": target["target_percent"]}
        if target["reached"]
        else _("%(gap)s percentage points short of the target of %(target)s%%")
        % {"gap": target["gap"], "target": target["target_percent"]}
    )
    blocks.append(
        Block(
            "p",
            _(
                "As of %(as_of)s the committee has %(branches)s party branches, of which %(rated)s hold a "
                "star level; %(five)s are five-star branches, %(percent)s%% of all branches, %(reached)s."
            )
            % {
                "as_of": chinese_date(datetime.date.fromisoformat(data["period"]["as_of"])),
                "branches": totals["branches"],
                "rated": totals["rated"],
                "five": totals["five_star"],
                "percent": totals["five_star_percent"],
                "reached": reached,
            },
        )
    )
    levels = [level["label"] for level in data["star_levels"]]
    has_revoked = "revoked" in totals
    header = [_("Unit"), *levels, _("Unrated")]
    header += [_("Revoked")] if has_revoked else []
    header += [_("Branches"), _("Five-star share")]

    def counts_row(name, row):
        cells = [name, *(str(n) for n in row["counts"]), str(row["unrated"])]
        cells += [str(row.get("revoked", 0))] if has_revoked else []
        return [*cells, str(row["branches"]), f"{row['five_star_percent']}%"]

    units, more = _cut(data["distribution"], unit_limit)
    blocks.append(Block("h2", subheading_number(1) + _("Distribution of star levels")))
    blocks.append(
        Block(
            "table",
            table=Table(
                header=header,
                rows=[counts_row(row["name"], row) for row in units]
                + [counts_row(pgettext("table row", "Total"), totals)],
                more=more,
                more_note=_more_note(more),
            ),
        )
    )
    blocks.append(Block("h2", subheading_number(2) + _("Five-star share over the last quarters")))
    blocks.append(
        Block(
            "table",
            table=Table(
                header=[_("Quarter"), _("Five-star branches"), _("Rated"), _("Five-star share")],
                rows=[
                    [p["label"], str(p["five_star"]), str(p["rated"]), f"{p['five_star_percent']}%"]
                    for p in data["trend"]
                ],
            ),
        )
    )

    h1(_("Commended branches"))
    for index, group in enumerate(data["commendations"], start=1):
        rows, more = _cut(group["branches"], list_limit)
        blocks.append(
            Block(
                "h2",
                subheading_number(index)
                + _("%(level)s party branches (%(count)s)")
                % {"level": _stars_word(group["stars"]), "count": len(group["branches"])},
            )
        )
        if not group["branches"]:
            blocks.append(Block("p", _("None.")))
            continue
        blocks.append(
            Block(
                "table",
                table=Table(
                    header=[_("No."), _("Party branch"), _("Parent organization"), _("Since")],
                    rows=[
                        [str(n), row["name"], row["parent"], row["since"]]
                        for n, row in enumerate(rows, start=1)
                    ],
                    more=more,
                    more_note=_more_note(more),
                ),
            )
        )

    h1(_("Changes of star level"))
    changes = data["changes"]["rows"]
    if changes:
        rows, more = _cut(changes, list_limit)
        blocks.append(
            Block(
                "table",
                table=Table(
                    header=[_("Date"), _("Party branch"), _("Change"), _("From"), _("To"), _("Reason")],
                    rows=[
                        [r["date"], r["branch"], r["kind_label"], r["from_label"], r["to_label"], r["reason"]]
                        for r in rows
                    ],
                    more=more,
                    more_note=_more_note(more),
                ),
            )
        )
    else:
        blocks.append(Block("p", _("No star level changed in this quarter.")))

    check = data.get("check_ranking")
    h1(_("Quarterly check"))
    if check and check.get("published"):
        blocks.append(
            Block(
                "p",
                _("%(count)s party branches were ranked in this quarter's check.")
                % {"count": check["ranked"]},
            )
        )
        for index, (title, rows) in enumerate(
            [(_("Top places"), check["top"]), (_("Bottom places"), check["bottom"])], start=1
        ):
            if not rows:
                continue
            shown, more = _cut(rows, list_limit)
            blocks.append(Block("h2", subheading_number(index) + title))
            blocks.append(
                Block(
                    "table",
                    table=Table(
                        header=[_("Rank"), _("Party branch"), _("Party committee"), _("Score"), _("Change")],
                        rows=[
                            [str(r["rank"]), r["branch"], r["parent"], r["score"], r["change_label"]]
                            for r in shown
                        ],
                        more=more,
                        more_note=_more_note(more),
                    ),
                )
            )
        flags = check.get("flags") or []
        if flags:
            blocks.append(
                Block(
                    "p",
                    _("Branches whose leadership must be adjusted (last place twice in the year): %(names)s.")
                    % {"names": _list_join([f["branch"] for f in flags])},
                )
            )
    else:
        blocks.append(Block("p", _("The results of this quarter's check have not been published yet.")))
    return blocks


def _list_join(names: list[str]) -> str:
    return _(", ").join(names)


def commendation_blocks(data: dict) -> list[Block]:
    blocks = []
    for index, level in enumerate(data["levels"], start=1):
        blocks.append(
            Block(
                "h1",
                heading_number(index)
                + _("%(level)s party branches (%(count)s)")
                % {"level": _stars_word(level["stars"]), "count": len(level["branches"])},
            )
        )
        if not level["branches"]:
            blocks.append(Block("p", _("None.")))
            continue
        blocks.append(
            Block(
                "table",
                table=Table(
                    header=[_("No."), _("Party branch"), _("Party committee"), _("Score")],
                    rows=[
                        [str(n), row["branch"], row["unit_name"] or row["parent"], row["score"] or "—"]
                        for n, row in enumerate(level["branches"], start=1)
                    ],
                ),
            )
        )
    return blocks


def results_notice_blocks(data: dict) -> list[Block]:
    counts = [c for c in data["counts"] if c["count"]]
    summary = _list_join(
        [_("%(level)s %(count)s") % {"level": _stars_word(c["stars"]), "count": c["count"]} for c in counts]
    )
    blocks = [
        Block("h1", heading_number(1) + _("Results")),
        Block(
            "p",
            _("%(count)s party branches of your organization were certified: %(summary)s.")
            % {"count": len(data["rows"]), "summary": summary or _("None.")},
        ),
        Block(
            "table",
            table=Table(
                header=[_("No."), _("Party branch"), _("Score"), _("Star level"), _("Valid until")],
                rows=[
                    [str(n), r["branch"], r["score"] or "—", r["stars_label"], r["valid_until"] or "—"]
                    for n, r in enumerate(data["rows"], start=1)
                ],
            ),
        ),
    ]
    return blocks


def rectification_blocks(data: dict) -> list[Block]:
    task = data["task"]
    deadline = chinese_date(datetime.date.fromisoformat(task["deadline"])) if task["deadline"] else "—"
    return [
        Block("h1", heading_number(1) + _("The problem")),
        Block("p", task["title"]),
        Block("h1", heading_number(2) + _("What is required")),
        *[Block("p", line) for line in task["requirement"].splitlines() if line.strip()],
        Block("h1", heading_number(3) + _("Who and by when")),
        Block(
            "table",
            table=Table(
                header=[_("Party branch"), _("Responsible"), _("Deadline")],
                rows=[[task["branch"], task["owner"] or "—", deadline]],
            ),
        ),
    ]


BLOCKS = {
    DocumentKind.BULLETIN: bulletin_blocks,
    DocumentKind.COMMENDATION: commendation_blocks,
    DocumentKind.RESULTS_NOTICE: results_notice_blocks,
    DocumentKind.RECTIFICATION_NOTICE: rectification_blocks,
}


def addressee(document: OfficialDocument) -> str:
    """主送机关: the party committee or branch a notice is addressed to, else every unit."""
    if document.kind == DocumentKind.RESULTS_NOTICE:
        return _("%(name)s:") % {"name": document.data["unit"]["name"]}
    if document.kind == DocumentKind.RECTIFICATION_NOTICE:
        return _("%(name)s:") % {"name": document.data["task"]["branch"]}
    return _("All party committees, general branches and party branches:")


def paper_for(
    document: OfficialDocument, *, organ_name: str, code: str, today: datetime.date | None = None
) -> Paper:
    """The document laid out as blocks, in the site's language. A draft carries today's year and a
    blank number; an issued document its own number and date."""
    # Numbered means issued (the issue service renders just before the status moves).
    issued = document.number is not None
    with translation.override(settings.LANGUAGE_CODE):
        if issued:
            day = timezone.localdate(document.issued_at, timezone.get_default_timezone())
            number = document.document_number
            organ_name = document.organ_name or organ_name
        else:
            day = today or timezone.localdate(timezone=timezone.get_default_timezone())
            number = document_number(code, day.year, None)
        return Paper(
            organ_name=organ_name,
            number=number,
            title=document.title,
            addressee=addressee(document),
            lead=document.lead,
            blocks=BLOCKS[document.kind](document.data),
            closing=document.closing,
            date=chinese_date(day),
            draft=not issued,
        )


__all__ = [
    "Block",
    "Paper",
    "Table",
    "chinese_date",
    "default_texts",
    "document_number",
    "heading_number",
    "paper_for",
    "subheading_number",
]
