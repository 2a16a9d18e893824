"""The bulletin as HTML: the web preview and the whole document WeasyPrint prints."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from . import bounds
from .charts import distribution_bars, distribution_chart, trend_bars, trend_chart
from .data import RANKING_SIZE
from .year import is_year_data, year_document_context

DOCUMENT_TEMPLATE = "reports/bulletin/document.html"
ANNEX_TEMPLATE = "reports/bulletin/annex.html"
YEAR_DOCUMENT_TEMPLATE = "reports/bulletin/year_document.html"
PDF_TEMPLATE = "reports/bulletin/pdf.html"


def document_context(data: dict, *, row_limit: int | None = None, screen: bool = True) -> dict:
    """What the document template needs: the data, its charts and long lists cut to ``row_limit``.

    The main document is bounded (``bounds``): up to ``FULL_LISTS_UP_TO`` branches it shows every
    row, above that each list of branches is cut at ``LIST_ROWS`` and the tables per party
    committee at ``UNIT_ROWS``; the annexes per party committee and the Excel file hold the rest.
    The web preview may cut further (``row_limit``) and says how many more rows the files hold. On a screen (``screen``) the tables sit
    in wrappers that scroll sideways on a phone, and each chart has a simpler twin in plain HTML
    for narrow screens (charts.phone_bars); the PDF (``screen=False``) has neither.
    """

    bounded = bounds.is_bounded(data["totals"]["branches"])
    list_limit = bounds.tightest(row_limit, bounds.LIST_ROWS if bounded else None)
    unit_limit = bounds.tightest(row_limit, bounds.UNIT_ROWS if bounded else None)

    def cut(rows: list) -> dict:
        return bounds.cut(rows, list_limit)

    # Version 1 data has no revoked counts, eligibility labels or full ranking: render it as it was.
    yes, no = _("Eligible"), _("Not eligible")
    ranking = data["ranking"]
    return {
        "data": data,
        "has_revoked": "revoked" in data["totals"],
        "full_ranking_rows": len(ranking["rows"]) if "rows" in ranking else None,
        "distribution_chart": distribution_chart(data),
        "trend_chart": trend_chart(data),
        "commendations": [{**group, **cut(group["branches"])} for group in data["commendations"]],
        "changes": cut(data["changes"]["rows"]),
        "five_goods": bounds.cut(
            [{"eligible_label": yes if row["eligible"] else no, **row} for row in data["five_goods"]],
            unit_limit,
        ),
        "distribution": bounds.cut(data["distribution"], unit_limit),
        "progress": bounds.cut(data["progress"]["rows"], unit_limit) if data.get("progress") else None,
        "flags": cut(data["check_ranking"]["flags"]) if data.get("check_ranking") else None,
        # Version 4 data names the party committees, each with its annex of full lists.
        "has_annexes": bool(data.get("units")),
        "bounded": bounded,
        "row_limits": {"list": list_limit, "unit": unit_limit},
        # Ties at the cut are all listed; on a large committee they too stop at the list bound.
        "ranking_tables": [
            (_("Top %(n)s") % {"n": RANKING_SIZE}, cut(data["ranking"]["top"])),
            (_("Bottom %(n)s") % {"n": RANKING_SIZE}, cut(data["ranking"]["bottom"])),
        ],
        # Version 3: the quarterly check ranking; older bulletins have no such part and show none.
        "check": data.get("check_ranking"),
        "check_tables": [(title, cut(rows)) for title, rows in _check_tables(data.get("check_ranking"))],
        "generated_at": data["generated_at"][:16].replace("T", " "),
        "screen": screen,
        "distribution_bars": distribution_bars(data) if screen else None,
        "trend_bars": trend_bars(data) if screen else None,
        **_between_certifications(data, cut, unit_limit),
    }


def _between_certifications(data: dict, cut, unit_limit: int | None) -> dict:
    """Version 5: rectification, supervision and stages; older bulletins show none of them."""
    if "rectification" not in data:
        return {}
    rectification, supervision, stages = data["rectification"], data["supervision"], data["stages"]
    return {
        "rectification": rectification,
        "rectification_units": bounds.cut(rectification["rows"], unit_limit),
        "overdue": cut(rectification["overdue_rows"]),
        "supervision": supervision,
        "supervision_units": bounds.cut(supervision["rows"], unit_limit),
        "stages": stages,
        "stage_units": bounds.cut(stages["rows"], unit_limit),
        "stage_changes_all": data["stage_changes"],
        "stage_changes": cut(data["stage_changes"]["rows"]),
    }


def _check_tables(check: dict | None) -> list[tuple[str, list]]:
    if not check or not check.get("published"):
        return []
    return [
        (_("Top %(n)s") % {"n": RANKING_SIZE}, check["top"]),
        (_("Bottom %(n)s") % {"n": RANKING_SIZE}, check["bottom"]),
    ]


def _language(data: dict) -> str:
    return data.get("language") or settings.LANGUAGE_CODE


def document_html(data: dict, *, row_limit: int | None = None, screen: bool = True) -> SafeString:
    """The bulletin body, in the bulletin's language whatever the reader's: the web preview
    shows what the PDF shows (``screen=False`` for the PDF itself). A year bulletin's data
    (``kind`` "year") renders the year document."""
    with translation.override(_language(data)):
        if is_year_data(data):
            template, context = (
                YEAR_DOCUMENT_TEMPLATE,
                year_document_context(data, row_limit=row_limit, screen=screen),
            )
        else:
            template, context = DOCUMENT_TEMPLATE, document_context(data, row_limit=row_limit, screen=screen)
        return mark_safe(render_to_string(template, context))  # noqa: S308 - a rendered template, autoescaped


def bulletin_html(data: dict) -> str:
    """The whole HTML document WeasyPrint renders."""
    with translation.override(_language(data)):
        return render_to_string(
            PDF_TEMPLATE,
            {
                "data": data,
                "period": data["label"] if is_year_data(data) else data["quarter_label"],
                "document": document_html(data, screen=False),
            },
        )


def annex_context(data: dict, unit: dict) -> dict:
    """The annex of one party committee (``unit``, an entry of ``data["units"]``): every row of
    its branches in the commendation lists, the changes and the ranking, and no other branch's."""
    unit_id = unit["id"]

    def own(rows: list) -> list:
        return [row for row in rows if row.get("unit") == unit_id]

    distribution = [row for row in data["distribution"] if row.get("unit") == unit_id]
    return {
        "data": data,
        "unit": unit,
        "distribution": distribution[:1],
        "commendations": [{**group, "rows": own(group["branches"])} for group in data["commendations"]],
        "changes": own(data["changes"]["rows"]),
        "ranking": own(data["ranking"].get("rows", [])),
        "generated_at": data["generated_at"][:16].replace("T", " "),
    }


def annex_html(data: dict, unit: dict) -> str:
    """The whole HTML document of one party committee's annex, as WeasyPrint renders it."""
    with translation.override(_language(data)):
        document = mark_safe(render_to_string(ANNEX_TEMPLATE, annex_context(data, unit)))  # noqa: S308
        return render_to_string(
            PDF_TEMPLATE,
            {"data": data, "period": f"{data['quarter_label']} · {unit['name']}", "document": document},
        )
