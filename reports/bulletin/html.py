"""The bulletin as HTML: the web preview and the whole document WeasyPrint prints."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .charts import distribution_bars, distribution_chart, trend_bars, trend_chart
from .data import RANKING_SIZE
from .year import is_year_data, year_document_context

DOCUMENT_TEMPLATE = "reports/bulletin/document.html"
YEAR_DOCUMENT_TEMPLATE = "reports/bulletin/year_document.html"
PDF_TEMPLATE = "reports/bulletin/pdf.html"


def document_context(data: dict, *, row_limit: int | None = None, screen: bool = True) -> dict:
    """What the document template needs: the data, its charts and long lists cut to ``row_limit``.

    The PDF shows every row (``row_limit=None``); the web preview cuts the long lists and says
    how many more rows the PDF and the Excel file hold. On a screen (``screen``) the tables sit
    in wrappers that scroll sideways on a phone, and each chart has a simpler twin in plain HTML
    for narrow screens (charts.phone_bars); the PDF (``screen=False``) has neither.
    """

    def cut(rows: list) -> dict:
        if row_limit is None or len(rows) <= row_limit:
            return {"rows": rows, "more": 0}
        return {"rows": rows[:row_limit], "more": len(rows) - row_limit}

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
        "five_goods": cut(
            [{"eligible_label": yes if row["eligible"] else no, **row} for row in data["five_goods"]]
        ),
        "ranking_tables": [
            (_("Top %(n)s") % {"n": RANKING_SIZE}, data["ranking"]["top"]),
            (_("Bottom %(n)s") % {"n": RANKING_SIZE}, data["ranking"]["bottom"]),
        ],
        # Version 3: the quarterly check ranking; older bulletins have no such part and show none.
        "check": data.get("check_ranking"),
        "check_tables": _check_tables(data.get("check_ranking")),
        "generated_at": data["generated_at"][:16].replace("T", " "),
        "screen": screen,
        "distribution_bars": distribution_bars(data) if screen else None,
        "trend_bars": trend_bars(data) if screen else None,
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
