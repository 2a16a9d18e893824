"""The bulletin's charts as inline SVG strings: no JavaScript, no CDN, the same markup on the
web page and in the PDF (WeasyPrint draws inline SVG itself).

The text uses the PDF's font family first, so WeasyPrint draws the Chinese labels with the
CJK font that ``reports.pdf`` registers; a browser, which does not know that family, falls back
to the next ones.
"""

from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ..pdf import FONT_FAMILY

SVG_FONTS = f"'{FONT_FAMILY}', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif"
BAR_COLOURS = {5: "#c8102e", 4: "#dd4b39", 3: "#ee8a4f", 2: "#f2b866", 1: "#f6d89a"}
UNRATED_COLOUR = "#b8b8b8"
REVOKED_COLOUR = "#6b6b6b"
LINE_COLOUR = "#c8102e"
TARGET_COLOUR = "#1f5fa8"
AXIS_COLOUR = "#888888"
GRID_COLOUR = "#e4e4e4"


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 12, extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{extra}>'
        f"{escape(str(text))}</text>"
    )


def _svg(width: int, height: int, label: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every text in body went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'font-family="{escape(SVG_FONTS)}" fill="#222222">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _distribution_counts(data: dict) -> list[tuple[str, int, str]]:
    """(label, branches, colour) per star level, then the unrated and the revoked ones."""
    totals = data["totals"]
    bars = [
        (level["label"], count, BAR_COLOURS[level["stars"]])
        for level, count in zip(data["star_levels"], totals["counts"], strict=True)
    ]
    bars.append((_("Unrated"), totals["unrated"], UNRATED_COLOUR))
    if "revoked" in totals:  # version 1 data counted revoked branches as unrated
        bars.append((_("Revoked"), totals["revoked"], REVOKED_COLOUR))
    return bars


def distribution_chart(data: dict) -> SafeString:
    """Bars: branches per star level at the quarter's end, the unrated and the revoked ones."""
    width, height = 640, 240
    left, right, top, bottom = 40, 10, 28, 40
    bars = _distribution_counts(data)
    biggest = max((count for _label, count, _colour in bars), default=0) or 1
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / len(bars)
    bar_w = slot * 0.56
    base = top + plot_h
    body = [f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="{AXIS_COLOUR}"/>']
    for index, (label, count, colour) in enumerate(bars):
        x = left + slot * index + (slot - bar_w) / 2
        h = plot_h * count / biggest
        body.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}"/>'
        )
        body.append(_text(x + bar_w / 2, base - h - 6, count, size=13, extra=' font-weight="700"'))
        body.append(_text(x + bar_w / 2, base + 20, label, size=12))
    return _svg(width, height, _("Branches per star level"), body)


def trend_chart(data: dict, *, scale: float = 1.0) -> SafeString:
    """Line: the five-star share at the end of each quarter, the committee's target dashed.

    ``scale`` enlarges the text (and the margins that hold it), for the dashboard's big screen."""
    width, height = 640, round(260 + 40 * (scale - 1))
    left, right, top, bottom = round(46 * scale), 16, round(24 * scale), round(48 * scale)
    small, big = round(11 * scale), round(12 * scale)
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h
    points = data["trend"]
    target = Decimal(data["target"]["target_percent"])

    def y_of(percent: Decimal) -> float:
        return base - plot_h * float(min(max(percent, Decimal(0)), Decimal(100))) / 100

    body = []
    for tick in range(0, 101, 20):
        y = y_of(Decimal(tick))
        colour = AXIS_COLOUR if tick == 0 else GRID_COLOUR
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{colour}"/>')
        body.append(_text(left - 6, y + 4, f"{tick}%", anchor="end", size=small))
    slot = plot_w / max(len(points), 1)
    xy = []
    for index, point in enumerate(points):
        x = left + slot * index + slot / 2
        y = y_of(Decimal(point["five_star_percent"]))
        xy.append((x, y))
        body.append(_text(x, base + round(18 * scale), point["year"], size=small))
        body.append(
            _text(x, base + round(34 * scale), _("Q%(quarter)s") % {"quarter": point["quarter"]}, size=small)
        )
    ty = y_of(target)
    body.append(
        f'<line x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}" stroke="{TARGET_COLOUR}" '
        f'stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    body.append(
        _text(
            width - right - 2,
            ty - 6,
            _("Target %(percent)s%%") % {"percent": data["target"]["target_percent"]},
            anchor="end",
            size=big,
            extra=f' fill="{TARGET_COLOUR}" font-weight="700"',
        )
    )
    if xy:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        body.append(f'<polyline points="{line}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2.5"/>')
    for (x, y), point in zip(xy, points, strict=True):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{LINE_COLOUR}"/>')
        body.append(_text(x, y - 8, f"{point['five_star_percent']}%", size=small))
    return _svg(width, height, _("Share of five-star branches by quarter"), body)


# --- The charts' twins for narrow screens ----------------------------------------------------
#
# On a phone the SVG charts would shrink to half their size and their labels to 6 px; the web
# page shows these instead: one line per bar in plain HTML (label, bar, number), as wide as
# the screen and in the page's own font size. The PDF never has them.


def distribution_bars(data: dict) -> list[dict]:
    """One row per bar of distribution_chart: its label, count, colour and length in percent."""
    bars = _distribution_counts(data)
    biggest = max((count for _label, count, _colour in bars), default=0) or 1
    return [
        {"label": label, "value": str(count), "colour": colour, "width": f"{100 * count / biggest:.1f}"}
        for label, count, colour in bars
    ]


def trend_bars(data: dict) -> dict:
    """The points of trend_chart as rows (quarter, share, length on a 0–100 scale) and the target."""
    rows = []
    for point in data["trend"]:
        percent = min(max(Decimal(point["five_star_percent"]), Decimal(0)), Decimal(100))
        quarter = _("Q%(quarter)s") % {"quarter": point["quarter"]}
        rows.append(
            {
                "label": f"{point['year']} {quarter}",
                "value": f"{point['five_star_percent']}%",
                "colour": LINE_COLOUR,
                "width": f"{percent:.1f}",
            }
        )
    target = min(max(Decimal(data["target"]["target_percent"]), Decimal(0)), Decimal(100))
    return {
        "rows": rows,
        "target": f"{target:.1f}",
        "target_label": _("Target %(percent)s%%") % {"percent": data["target"]["target_percent"]},
        "target_colour": TARGET_COLOUR,
    }


# --- The year bulletin ------------------------------------------------------------------------


def _group_means(data: dict) -> list[tuple[str, Decimal]]:
    return [(group["name"], Decimal(group["mean"])) for group in data["groups"]]


def group_means_chart(data: dict) -> SafeString:
    """Horizontal bars: each party committee's mean of its branches' year means, on 0–100,
    with the committee's five-good threshold dashed."""
    groups = _group_means(data)
    width, row_h, left, right, top = 640, 26, 190, 56, 24
    height = top + row_h * max(len(groups), 1) + 24
    plot_w = width - left - right
    threshold = Decimal(data["threshold"])

    def x_of(value: Decimal) -> float:
        return left + plot_w * float(min(max(value, Decimal(0)), Decimal(100))) / 100

    body = [f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{height - 20}" stroke="{AXIS_COLOUR}"/>']
    for index, (name, mean) in enumerate(groups):
        y = top + row_h * index
        label = name if len(name) <= 14 else f"{name[:13]}…"
        body.append(_text(left - 6, y + row_h / 2 + 4, label, anchor="end", size=12))
        body.append(
            f'<rect x="{left}" y="{y + 4:.1f}" width="{x_of(mean) - left:.1f}" height="{row_h - 8}" '
            f'fill="{BAR_COLOURS[5] if mean >= threshold else BAR_COLOURS[3]}"/>'
        )
        body.append(_text(x_of(mean) + 4, y + row_h / 2 + 4, mean, anchor="start", size=12))
    tx = x_of(threshold)
    body.append(
        f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{height - 20}" stroke="{TARGET_COLOUR}" '
        f'stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    body.append(
        _text(
            tx,
            height - 6,
            _("Five-good threshold %(threshold)s") % {"threshold": data["threshold"]},
            size=12,
            extra=f' fill="{TARGET_COLOUR}" font-weight="700"',
        )
    )
    return _svg(width, height, _("Mean year score per party committee"), body)


def group_means_bars(data: dict) -> dict:
    """The rows of group_means_chart for narrow screens, with the threshold as the mark."""
    threshold = min(max(Decimal(data["threshold"]), Decimal(0)), Decimal(100))
    return {
        "rows": [
            {
                "label": name,
                "value": str(mean),
                "colour": BAR_COLOURS[5] if mean >= threshold else BAR_COLOURS[3],
                "width": f"{min(max(mean, Decimal(0)), Decimal(100)):.1f}",
            }
            for name, mean in _group_means(data)
        ],
        "target": f"{threshold:.1f}",
        "target_label": _("Five-good threshold %(threshold)s") % {"threshold": data["threshold"]},
        "target_colour": TARGET_COLOUR,
    }


# --- Stacked horizontal bars: the dashboard's and the bulletin's charts per party committee ------
#
# One bar per row (a party committee, a funnel stage, …), split into the series' segments, with
# a legend above. A row (or a single segment) may link to the list behind it: the SVG's own <a>
# elements, which browsers follow and WeasyPrint keeps as PDF links.

STAGE_COLOURS = {"basic": "#9fb7d6", "distinctive": "#ee8a4f", "model": "#c8102e"}
OPEN_COLOUR = "#ee8a4f"
OVERDUE_COLOUR = "#c8102e"
DONE_COLOUR = "#5b9a68"
FUNNEL_COLOUR = "#1f5fa8"


def _text_em(text: str) -> float:
    """The width of ``text`` in ems, roughly: a CJK character one em, anything else about half."""
    return sum(1.0 if ord(char) > 0x2E80 else 0.6 for char in text)


def _ink_on(colour: str) -> str:
    """Black or white, whichever reads better on the ``#rrggbb`` background."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#222222" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#ffffff"


def _link(href: str | None, inner: str) -> str:
    return f'<a href="{escape(href)}">{inner}</a>' if href else inner


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else f"{label[: limit - 1]}…"


def stacked_bar_chart(
    *,
    title: str,
    series: list[tuple[str, str]],
    rows: list[dict],
    width: int = 640,
    label_width: int = 170,
    size: int = 14,
) -> SafeString:
    """Horizontal stacked bars. ``series``: (label, colour) of each segment; ``rows``: dicts with
    ``label``, ``values`` (one per series), optional ``href`` (the row) and ``hrefs`` (per segment).

    The bars share one scale (the largest row total); each row's total is written after its bar
    and each segment's count inside it when it is wide enough to hold it.
    """
    row_h = size * 2 + 6
    # The legend, wrapped onto as many lines as the width needs (CJK glyphs are about one em wide).
    legend: list[tuple[float, int, str, str]] = []
    if len(series) > 1:
        x, line = 0.0, 0
        for label, colour in series:
            item_w = size + 4 + (size - 1) * _text_em(str(label)) + 12
            if x and x + item_w > width:
                x, line = 0.0, line + 1
            legend.append((x, line, label, colour))
            x += item_w
    legend_h = (legend[-1][1] + 1) * (size + 8) + 8 if legend else 0
    top = 8 + legend_h
    height = top + row_h * max(len(rows), 1) + 8
    right = 8 + size * 3
    plot_w = width - label_width - right
    biggest = max((sum(row["values"]) for row in rows), default=0) or 1
    chars = max(4, int((label_width - 10) / size))
    body = []
    for x, line, label, colour in legend:
        y = 8 + line * (size + 8)
        body.append(f'<rect x="{x:.1f}" y="{y}" width="{size}" height="{size}" fill="{colour}"/>')
        body.append(_text(x + size + 4, y + size - 2, label, anchor="start", size=size - 1))
    body.append(
        f'<line x1="{label_width}" y1="{top - 2}" x2="{label_width}" y2="{height - 6}" stroke="{AXIS_COLOUR}"/>'
    )
    for index, row in enumerate(rows):
        y = top + row_h * index
        label = _text(
            label_width - 6,
            y + row_h / 2 + size / 3,
            _short(str(row["label"]), chars),
            anchor="end",
            size=size,
        )
        body.append(_link(row.get("href"), label))
        x = float(label_width)
        hrefs = row.get("hrefs") or [None] * len(series)
        for (_series_label, colour), value, href in zip(series, row["values"], hrefs, strict=True):
            if not value:
                continue
            w = plot_w * value / biggest
            segment = (
                f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="{w:.1f}" height="{row_h - 8}" fill="{colour}"/>'
            )
            if w >= size * (len(str(value)) * 0.6 + 0.6):
                segment += _text(
                    x + w / 2,
                    y + row_h / 2 + size / 3,
                    value,
                    size=size - 2,
                    extra=f' fill="{_ink_on(colour)}" font-weight="700" class="on-bar"',
                )
            body.append(_link(href or row.get("href"), segment))
            x += w
        total = sum(row["values"])
        body.append(
            _text(
                x + 4, y + row_h / 2 + size / 3, total, anchor="start", size=size, extra=' font-weight="700"'
            )
        )
    return _svg(width, height, title, body)


def coverage_chart(
    *,
    title: str,
    done: int,
    total: int,
    done_label: str,
    rest_label: str,
    href: str | None = None,
    width: int = 640,
    size: int = 14,
) -> SafeString:
    """One bar of ``total`` split into ``done`` and the rest, with the share written above it."""
    height = size * 5 + 20
    bar_y, bar_h = size * 2 + 6, size * 2
    left, right = 4, 4
    plot_w = width - left - right
    share = 0 if not total else done / total
    body = [
        _text(
            left,
            size + 4,
            f"{done} / {total} · {round(share * 1000) / 10:.1f}%",
            anchor="start",
            size=size + 4,
            extra=' font-weight="700"',
        ),
        f'<rect x="{left}" y="{bar_y}" width="{plot_w}" height="{bar_h}" fill="{GRID_COLOUR}"/>',
        f'<rect x="{left}" y="{bar_y}" width="{plot_w * share:.1f}" height="{bar_h}" fill="{DONE_COLOUR}"/>',
        _text(
            left,
            bar_y + bar_h + size + 4,
            f"■ {done_label} {done}",
            anchor="start",
            size=size - 1,
            extra=f' fill="{DONE_COLOUR}"',
        ),
        _text(
            width - right,
            bar_y + bar_h + size + 4,
            f"{rest_label} {total - done}",
            anchor="end",
            size=size - 1,
        ),
    ]
    return _svg(width, height, title, [_link(href, "".join(body))])
