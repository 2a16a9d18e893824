"""The dashboard (数据看板): a committee's figures for its approvers and staff, a party
committee's for its preliminary reviewers; the same page full screen (大屏), as a PDF, and the
branch list behind its star and stage charts.

Who: a role of ``DASHBOARD_ROLES`` on the organization or above it; an organization outside
the user's scope answers 404, one inside it with a role too low (a secretary, a team reviewer)
403. Every chart is server-rendered SVG from reports.bulletin.charts and every number comes
from reports.figures, the bulletin's own figure functions: a fixed number of queries per page.
"""

import datetime
import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from branches.models import BranchStage
from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import has_role_on
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.views.common import query_without_page
from scoring.templatetags.stars import star_label

from .. import figures
from ..bulletin import charts
from ..pdf import render_pdf
from ..selectors import dashboard_scopes_for, default_dashboard_scope, get_dashboard_scope_or_404

PER_PAGE = 25
SCREEN_REFRESH_SECONDS = 300
DIRECT = "direct"  # the ``unit`` filter of the branches directly under the scope
PDF_CSS = """
@page { size: A4 landscape; margin: 10mm 10mm 14mm 10mm; }
html { font-size: 9pt; }
h1 { font-size: 15pt; text-align: left; margin: 0 0 1mm; }
.dash-grid { display: grid; grid-template-columns: 1fr 1fr; gap: 3mm; }
.dash-panel { break-inside: avoid; border: 0.5pt solid #ccc; padding: 2mm 3mm; }
.dash-panel h2 { font-size: 11pt; margin: 0 0 2mm; border: 0; }
.dash-panel h3 { font-size: 9.5pt; margin: 1mm 0; }
.dash-panel svg.chart { width: 100%; height: auto; }
.dash-links, .dash-actions { display: none; }
.dash-kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 3mm; margin-bottom: 3mm; }
.dash-kpi { border: 0.5pt solid #ccc; padding: 1mm 2mm; }
.dash-kpi strong { font-size: 16pt; display: block; color: #c8102e; }
.dash-kpi-label, .dash-kpi-note { display: block; color: #555; }
.dash-check { display: grid; grid-template-columns: 3fr 2fr; gap: 3mm; }
.dash-check table { font-size: 8pt; margin: 0; }
.dash-check th, .dash-check td { padding: 0.6mm 1.2mm; }
ul { padding: 0; margin: 0; list-style: none; }
p { margin: 0 0 1mm; }
.dash-up { color: #146c43; } .dash-down { color: #b02a37; }
"""


def _is_manager(user, scope) -> bool:
    return any(has_role_on(user, role, scope) for role in COMMITTEE_MANAGERS)


def _branches_url(scope, **query) -> str:
    params = "&".join(f"{key}={value}" for key, value in query.items() if value not in (None, ""))
    url = reverse("reports:dashboard_branches", args=[scope.pk])
    return f"{url}?{params}" if params else url


def _unit_param(unit_id) -> str:
    return DIRECT if unit_id is None else str(unit_id)


def _both(chart, common: dict, **kwargs) -> SafeString:
    """A chart at the page's size, and (``common["phone"]``) its narrow twin for phones: a
    360-wide drawing whose text stays legible at a phone's width (CSS shows one of the two)."""
    wide = chart(**kwargs, width=common["width"], size=common["size"])
    if not common["phone"]:
        return wide
    narrow_kwargs = {"label_width": 116} if chart is charts.stacked_bar_chart else {}
    narrow = chart(**kwargs, **narrow_kwargs, width=360, size=15)
    return format_html('<div class="chart-wide">{}</div><div class="chart-narrow">{}</div>', wide, narrow)


def dashboard_context(
    request: HttpRequest, scope, *, size: int = 14, width: int = 640, phone: bool = False, big: bool = False
) -> dict:
    """The figures of ``scope`` and their charts, each chart linked to the list behind it.

    ``phone``: each chart also has its narrow twin (the web page; not the screen or the PDF);
    ``big``: the trend's text enlarged for the meeting-room screen.
    """
    data = figures.dashboard_figures(scope=scope)
    manager = _is_manager(request.user, scope)
    stars = data["stars"]
    level_series = [(star_label(n), charts.BAR_COLOURS[n]) for n in figures.STAR_LEVELS]
    star_series = [
        *level_series,
        (_("Unrated"), charts.UNRATED_COLOUR),
        (_("Revoked"), charts.REVOKED_COLOUR),
    ]
    star_keys = [*map(str, figures.STAR_LEVELS), "unrated", "revoked"]

    def star_row(label, row, unit):
        values = [*row["counts"], row["unrated"], row["revoked"]]
        return {
            "label": label,
            "values": values,
            "href": _branches_url(scope, unit=unit),
            "hrefs": [_branches_url(scope, unit=unit, stars=key) for key in star_keys],
        }

    star_rows = [star_row(row["name"], row, _unit_param(row["unit"])) for row in stars["rows"]]
    stages = data["stages"]
    stage_series = [(s["label"], charts.STAGE_COLOURS[s["stage"]]) for s in stages["stages"]]
    stage_rows = [
        {
            "label": row["name"],
            "values": row["counts"],
            "href": _branches_url(scope, unit=_unit_param(row["unit"])),
            "hrefs": [
                _branches_url(scope, unit=_unit_param(row["unit"]), stage=s["stage"])
                for s in stages["stages"]
            ],
        }
        for row in stages["rows"]
    ]
    common = {"width": width, "size": size, "phone": phone}
    context = {
        "scope": scope,
        "data": data,
        "is_manager": manager,
        "scopes": list(dashboard_scopes_for(request.user)[:50]),
        "stars_chart": _both(
            charts.stacked_bar_chart,
            common,
            title=_("Stars in force by party committee"),
            series=star_series,
            rows=star_rows,
        ),
        "trend_chart": charts.trend_chart(data, scale=1.6 if big else 1.0),
        "trend_bars": charts.trend_bars(data) if phone else None,
        "stages_chart": _both(
            charts.stacked_bar_chart,
            common,
            title=_("Stage distribution"),
            series=stage_series,
            rows=stage_rows,
        ),
        "five_star_url": _branches_url(scope, stars="5"),
        "all_branches_url": _branches_url(scope),
    }
    funnel = data["funnel"]
    if funnel:
        cycle_url = reverse("reviews:cycle_detail", args=[funnel["cycle"]["id"]]) if manager else None
        context["funnel_chart"] = _both(
            charts.stacked_bar_chart,
            common,
            title=_("Progress of the certification cycle"),
            series=[(_("Assessments"), charts.FUNNEL_COLOUR)],
            rows=[
                {
                    "label": stage["label"],
                    "values": [stage["count"]],
                    "href": f"{cycle_url}?status={stage['status']}" if cycle_url else None,
                }
                for stage in funnel["stages"]
            ],
        )
        context["funnel_url"] = cycle_url or reverse("reviews:preliminary_queue")
    check = data["check"]
    if check:
        context["check_url"] = reverse("checks:round_detail", args=[check["round"]["id"]])
    context.update(_rectification_context(data, scope, common))
    context.update(_supervision_context(data, scope, common))
    return context


def _rectification_context(data: dict, scope, common: dict) -> dict:
    """The rectification chart (open and overdue per unit), once the rectification app has tasks."""
    figures_ = data.get("rectification")
    if not figures_:
        return {}
    list_url = _url_or_none("rectification:task_list")
    overdue_url = f"{list_url}?state=active&overdue=1" if list_url else None
    active_url = f"{list_url}?state=active" if list_url else None
    rows = [
        {
            "label": row["name"],
            "values": [row["overdue"], row["open"] - row["overdue"]],
            "hrefs": [overdue_url, active_url],
        }
        for row in figures_["rows"]
    ]
    return {
        "rectification_chart": _both(
            charts.stacked_bar_chart,
            common,
            title=_("Rectification tasks open and overdue"),
            series=[
                (_("Overdue"), charts.OVERDUE_COLOUR),
                (_("Open, within the deadline"), charts.OPEN_COLOUR),
            ],
            rows=rows,
        ),
        "rectification_url": list_url,
        "rectification_overdue_url": overdue_url,
    }


def _supervision_context(data: dict, scope, common: dict) -> dict:
    coverage = data.get("supervision")
    if not coverage:
        return {}
    list_url = _url_or_none("supervision:visit_list")
    if list_url:
        list_url = f"{list_url}?year={data['year']}&quarter={data['quarter']}"
    return {
        "supervision_chart": _both(
            charts.coverage_chart,
            common,
            title=_("Supervision coverage this quarter"),
            done=coverage["visited"],
            total=coverage["liaison_branches"],
            done_label=_("Visited"),
            rest_label=_("Not visited yet"),
            href=list_url,
        ),
        "supervision_url": list_url,
    }


def _url_or_none(name: str, *args) -> str | None:
    from django.urls import NoReverseMatch

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- Pages -------------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard_home(request: HttpRequest) -> HttpResponse:
    """The user's first dashboard (403 for someone who has none)."""
    return redirect("reports:dashboard", default_dashboard_scope(request.user).pk)


@login_required
@require_GET
def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    scope = get_dashboard_scope_or_404(request.user, pk)
    return render(request, "reports/dashboard/page.html", dashboard_context(request, scope, phone=True))


@login_required
@require_GET
def dashboard_screen(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting-room screen (大屏): 16:9, dark, large type, reloading itself every few minutes."""
    scope = get_dashboard_scope_or_404(request.user, pk)
    context = dashboard_context(request, scope, size=18, width=480, big=True)
    context["refresh_seconds"] = SCREEN_REFRESH_SECONDS
    context["now"] = timezone.localtime()
    return render(request, "reports/dashboard/screen.html", context)


@login_required
@require_GET
def dashboard_pdf(request: HttpRequest, pk: int) -> FileResponse:
    """The dashboard as an A4 landscape PDF, rendered on request (a second or two)."""
    scope = get_dashboard_scope_or_404(request.user, pk)
    context = dashboard_context(request, scope, size=13, width=640)
    context["generated_at"] = timezone.localtime()
    html = render_to_string("reports/dashboard/pdf.html", context, request=request)
    folder = Path(tempfile.mkdtemp(prefix="dashboard-"))
    target = folder / "dashboard.pdf"
    render_pdf(html, target, extra_css=PDF_CSS)
    handle = target.open("rb")
    target.unlink()  # the open handle keeps the bytes until the response is sent
    folder.rmdir()
    name = dated_filename(f"{scope.name}-{_('Dashboard')}").replace(".xlsx", "") + ".pdf"
    response = FileResponse(handle, as_attachment=True, filename=name, content_type="application/pdf")
    response["Cache-Control"] = "private, no-store"
    return response


# --- The branches behind the star and stage charts ---------------------------------------------


def dashboard_branch_rows(request: HttpRequest, scope) -> tuple[list[dict], dict]:
    """The scope's active branches under the ``unit``, ``stars`` and ``stage`` filters, with the
    star in force today exactly as the chart counts it (the bulletin's method; four queries)."""
    tree = figures.load_tree(scope)
    today = timezone.localdate(timezone=figures.zone())
    instant = figures.day_start(today + datetime.timedelta(days=1))
    history = figures.star_history(tree, instant)
    unit = request.GET.get("unit", "")
    stars = request.GET.get("stars", "")
    stage = request.GET.get("stage", "")
    units = {_unit_param(u["id"]): u for u in tree.units}
    if unit and unit not in units:
        unit = ""
    if stars not in {"", "unrated", "revoked", *map(str, figures.STAR_LEVELS)}:
        stars = ""
    if stage not in {"", *BranchStage.values}:
        stage = ""
    rows = []
    for branch in tree.branches:
        if unit and _unit_param(tree.unit_of(branch.pk)) != unit:
            continue
        if stage and branch.stage != stage:
            continue
        level, revoked = history.state_at(branch.pk, instant, today)
        key = str(level.stars) if level else ("revoked" if revoked else "unrated")
        if stars and key != stars:
            continue
        rows.append(
            {
                "pk": branch.pk,
                "name": branch.name,
                "code": branch.code,
                "parent": tree.parent_name(branch),
                "stars": level.stars if level else None,
                "stars_label": _("Revoked")
                if revoked
                else (star_label(level.stars) if level else _("Unrated")),
                "stage": branch.stage,
                "stage_label": str(BranchStage(branch.stage).label) if branch.stage else "",
            }
        )
    filters = {
        "unit": unit,
        "unit_name": units[unit]["name"] if unit else "",
        "stars": stars,
        "stars_label": {"unrated": _("Unrated"), "revoked": _("Revoked")}.get(stars)
        or (star_label(int(stars)) if stars else ""),
        "stage": stage,
        "stage_label": str(BranchStage(stage).label) if stage else "",
        "units": [(key, u["name"]) for key, u in units.items()],
        "levels": [(str(n), star_label(n)) for n in figures.STAR_LEVELS]
        + [("unrated", _("Unrated")), ("revoked", _("Revoked"))],
        "stages": list(BranchStage.choices),
    }
    return rows, filters


@login_required
@require_GET
def dashboard_branches(request: HttpRequest, pk: int) -> HttpResponse:
    scope = get_dashboard_scope_or_404(request.user, pk)
    rows, filters = dashboard_branch_rows(request, scope)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/dashboard/branches.html",
        {
            "scope": scope,
            "page": page,
            "total": len(rows),
            "filters": filters,
            "query": query_without_page(request),
        },
    )


@login_required
@require_GET
def dashboard_branches_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The list's rows (filters included, every page) in Excel."""
    scope = get_dashboard_scope_or_404(request.user, pk)
    rows, _filters = dashboard_branch_rows(request, scope)
    header = [_("Party branch"), _("Code"), _("Parent organization"), _("Star level in force"), _("Stage")]
    title = _("Branches")
    return xlsx_response(
        dated_filename(f"{scope.name}-{title}"),
        [
            Sheet(
                title,
                header,
                ([r["name"], r["code"], r["parent"], r["stars_label"], r["stage_label"]] for r in rows),
            )
        ],
    )


urlpatterns = [
    path("dashboard/", dashboard_home, name="dashboard_home"),
    path("dashboard/<int:pk>/", dashboard, name="dashboard"),
    path("dashboard/<int:pk>/screen/", dashboard_screen, name="dashboard_screen"),
    path("dashboard/<int:pk>/pdf/", dashboard_pdf, name="dashboard_pdf"),
    path("dashboard/<int:pk>/branches/", dashboard_branches, name="dashboard_branches"),
    path("dashboard/<int:pk>/branches/export/", dashboard_branches_export, name="dashboard_branches_export"),
]
