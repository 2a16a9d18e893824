"""The quarterly bulletin's figures between certifications (issue 12, data version 5):
rectification opened / accepted / overdue per party committee with the overdue list,
supervision coverage, the stage distribution and the quarter's stage changes — in the frozen
data, the web page, the PDF text and the Excel file, each checked against the database.

The world is dash_world.py (2026 Q4, today 2026-12-07): the bulletin of the running quarter.
"""

from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from branches.models import Organization, OrgKind, StageChange
from rectification.models import RUNNING, RectificationTask, TaskStatus
from reports.bulletin.data import bulletin_data
from reports.models import BulletinStatus
from reports.services.bulletins import generate_bulletin
from supervision.models import LiaisonAssignment, SupervisionVisit
from tests.factories import make_sized_committee, make_user
from tests.reports.dashboard.dash_world import NOW, TODAY
from tests.storage.support import open_stored

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def generated(dash, media):
    with time_machine.travel(NOW, tick=False):
        bulletin = generate_bulletin(committee_id=dash.world.committee.pk, year=2026, quarter=4)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    return bulletin


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


def expected(w) -> dict:
    tasks = RectificationTask.objects.filter(branch__path__startswith=w.committee.path)
    liaison = set(LiaisonAssignment.objects.filter(committee=w.committee).values_list("branch_id", flat=True))
    visited = set(
        SupervisionVisit.objects.filter(committee=w.committee, year=2026, quarter=4).values_list(
            "branch_id", flat=True
        )
    )
    return {
        "open": tasks.filter(status__in=RUNNING).count(),
        "overdue": list(
            tasks.filter(status__in=RUNNING, deadline__lt=TODAY).values_list("branch__name", flat=True)
        ),
        "accepted": tasks.filter(status=TaskStatus.ACCEPTED, closed_at__date__gte="2026-10-01").count(),
        "opened": tasks.filter(opened_on__gte="2026-10-01").count(),
        "liaison": len(liaison),
        "visited": len(liaison & visited),
        "stage_changes": StageChange.objects.filter(branch__path__startswith=w.committee.path).count(),
        "model": Organization.objects.filter(
            path__startswith=w.committee.path, kind=OrgKind.BRANCH, stage="model"
        ).count(),
    }


def test_the_frozen_data_holds_the_figures_of_the_database(generated, dash):
    w, data = dash.world, generated.data
    want = expected(w)
    assert data["version"] == 5
    totals = data["rectification"]["totals"]
    assert (
        (totals["opened"], totals["closed"], totals["open"], totals["overdue"])
        == (want["opened"], want["accepted"], want["open"], len(want["overdue"]))
        == (3, 1, 2, 1)
    )
    assert [row["branch"] for row in data["rectification"]["overdue_rows"]] == want["overdue"]
    p1 = next(row for row in data["rectification"]["rows"] if row["unit"] == w.party_committee.pk)
    assert (p1["open"], p1["overdue"]) == (2, 1)
    assert (
        (data["supervision"]["liaison_branches"], data["supervision"]["visited"])
        == (want["liaison"], want["visited"])
        == (2, 1)
    )
    assert data["stages"]["totals"]["counts"] == [2, 1, 1]
    assert data["stages"]["totals"]["counts"][2] == want["model"]
    assert data["stage_changes"]["total"] == want["stage_changes"] == 2
    # The existing keys are all still there (the Word documents read them).
    for key in ("totals", "distribution", "trend", "commendations", "changes", "ranking", "check_ranking"):
        assert key in data


def test_the_web_page_shows_the_figures(client, generated, dash):
    w = dash.world
    client.force_login(w.approver)
    html = client.get(reverse("reports:bulletin_detail", args=[generated.pk])).content.decode()
    overdue = html[html.index('id="bulletin-overdue"') :]
    assert w.branch.name in overdue[: overdue.index("</table>")]
    assert w.sibling_branch.name not in overdue[: overdue.index("</table>")]
    units = html[html.index('id="bulletin-rectification-units"') :]
    units = units[: units.index("</table>")]
    assert (
        f'<td>{w.party_committee.name}</td><td class="num">2</td><td class="num">0</td>'
        '<td class="num">2</td><td class="num">1</td>'
    ) in units
    supervision = html[html.index('id="bulletin-supervision"') :]
    assert "50.0%" in supervision[: supervision.index("</table>")]
    changes = html[html.index('id="bulletin-stage-changes"') :]
    assert "特色亮点：红色课堂" in changes and "品牌：健康先锋" in changes


def test_the_pdf_text_shows_the_figures(generated, dash, media):
    w = dash.world
    text = "\n".join(page.extract_text() for page in PdfReader(open_stored(generated.pdf.name)).pages)
    compact = text.replace(" ", "")
    assert zh("Overdue rectification tasks") in text
    assert f"{w.branch.name}整改{w.secretary.real_name}2026-11-307" in compact  # task, owner, deadline, days
    assert "2026-11-30" in text
    assert f"{w.party_committee.name}2021" in compact  # opened 2, accepted 0, open 2, overdue 1
    assert "50.0%" in text  # supervision coverage
    assert "特色亮点：红色课堂" in compact


def test_the_excel_file_holds_every_figure(generated, dash, media):
    w = dash.world
    want = expected(w)
    workbook = openpyxl.load_workbook(open_stored(generated.xlsx.name))
    rows = {
        name: list(workbook[zh(name)].iter_rows(min_row=3, values_only=True))
        for name in ("Rectification", "Overdue tasks", "Supervision", "Stages", "Stage changes")
    }
    total = rows["Rectification"][-1]
    assert total[1:] == (want["opened"], want["accepted"], want["open"], len(want["overdue"]))
    assert [row[0] for row in rows["Overdue tasks"]] == want["overdue"]
    assert rows["Overdue tasks"][0][5] == (TODAY - rows["Overdue tasks"][0][4].date()).days
    assert rows["Supervision"][-1][1:3] == (want["liaison"], want["visited"])
    assert rows["Stages"][-1][3] == want["model"]
    assert len(rows["Stage changes"]) == want["stage_changes"]


def _queries(prefix: str, size: int) -> int:
    sized = make_sized_committee(prefix, size, party_committees=4)
    make_user(f"{prefix}staff", "党务", roles=[])
    with CaptureQueriesContext(connection) as ctx:
        bulletin_data(committee=sized.committee, year=2026, quarter=4, today=TODAY)
    return len(ctx.captured_queries)


def test_the_bulletin_data_runs_as_many_queries_for_200_branches_as_for_10():
    with time_machine.travel(NOW, tick=False):
        assert _queries("S", 10) == _queries("L", 200)
