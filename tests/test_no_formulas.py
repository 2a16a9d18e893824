"""No spreadsheet cell ever becomes a formula: every export and the bulletin's workbook.

Text a user typed that a spreadsheet would run (``=1+1``, ``=HYPERLINK(...)``, ``+1``, ``-1``,
``@SUM(A1)``, a leading tab) is planted in branch names, a committee's name, a cycle's name,
an objection, a downgrade reason, a comment, a person's real name, an audit entry's object and
note, a monthly check's findings and a downgrade proposal's reason and dismissal; every export
of the review, report, directory and check lists is then downloaded by a role that sees it, as
is the bulletin's workbook. No cell is of type "f", no
sheet holds an ``<f>`` element, and each planted text comes back exactly as it was stored.
"""

import io
import zipfile
from contextlib import ExitStack
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from openpyxl import Workbook

from branches.audit import record
from branches.models import Organization, User
from branches.spreadsheets import XLSX_TYPE, Sheet, append_safe, set_safe, write_workbook
from checks.models import CheckEntry, DowngradeProposal, YearResult
from checks.services.years import dismiss_proposal
from reports.models import Bulletin, JobRun, Notice
from reports.services.bulletins import generate_bulletin
from reviews.models import Appeal, AssessmentEvent, Cycle, Objection, StarEvent
from reviews.services.decision import downgrade_branch
from tests.permission_matrix import NOW, build_world, project_url_names
from tests.reports.bulletin_world import NOW as BULLETIN_NOW
from tests.reports.bulletin_world import QUARTER, YEAR, build_bulletin_world
from tests.storage.support import read_stored

pytestmark = pytest.mark.django_db

SUM = "=1+1"
LINK = '=HYPERLINK("http://evil","x")'
PLUS = "+1"
MINUS = "-1"
AT = "@SUM(A1)"
TAB = "\t甲党委"
PLANTED = (SUM, LINK, PLUS, MINUS, AT, TAB)


# --- The writer on its own ----------------------------------------------------------------------


def _workbook_bytes(sheets) -> bytes:
    buffer = io.BytesIO()
    write_workbook(sheets, buffer)
    return buffer.getvalue()


def formula_elements(content: bytes) -> list[str]:
    """The parts of an .xlsx (sheets, shared strings…) that hold an ``<f>`` element."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return [
            name
            for name in archive.namelist()
            if b"<f>" in archive.read(name) or b"<f " in archive.read(name)
        ]


def cells_of(content: bytes) -> list:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [cell for ws in workbook.worksheets for row in ws.iter_rows() for cell in row]


def test_the_writer_keeps_formula_like_text_as_text_and_numbers_as_numbers():
    content = _workbook_bytes([Sheet("t", [SUM], [[value, 3] for value in PLANTED])])
    assert formula_elements(content) == []
    cells = cells_of(content)
    assert all(cell.data_type != "f" for cell in cells)
    texts = [cell for cell in cells if cell.column == 1]
    assert [cell.value for cell in texts] == [SUM, *PLANTED]
    assert all(cell.quotePrefix for cell in texts)
    assert [cell.value for cell in cells if cell.column == 2 and cell.row > 1] == [3] * len(PLANTED)
    assert all(cell.data_type == "n" for cell in cells if cell.column == 2 and cell.row > 1)


def test_set_safe_and_append_safe_keep_a_normal_worksheet_free_of_formulas():
    workbook = Workbook()
    ws = workbook.active
    for value in PLANTED:
        append_safe(ws, [value])
    set_safe(ws, 1, 2, LINK)
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()
    assert formula_elements(content) == []
    assert [c.value for c in cells_of(content) if c.column == 1] == list(PLANTED)
    assert all(c.data_type != "f" for c in cells_of(content))


# --- The bulletin's workbook ----------------------------------------------------------------------
#
# Before the exports: the bulletin's world uses the same codes as the exports' module-wide
# world, so it is built and rolled back before that one exists.


def test_the_bulletins_workbook_has_no_formula_and_keeps_the_typed_text(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_bulletin_world()
    Organization.objects.filter(pk=world.orgs["B2"].pk).update(name=LINK)
    Organization.objects.filter(pk=world.orgs["B5"].pk).update(name=TAB)
    Organization.objects.filter(pk=world.orgs["P1"].pk).update(name=PLUS)
    Organization.objects.filter(pk=world.committee.pk).update(name=MINUS)
    StarEvent.objects.filter(branch=world.orgs["B2"]).exclude(reason="").update(reason=SUM, violation=AT)
    with time_machine.travel(BULLETIN_NOW):
        bulletin = generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)
    assert bulletin.xlsx, bulletin.error
    content = read_stored(bulletin.xlsx.name)
    assert formula_elements(content) == []
    cells = cells_of(content)
    assert all(cell.data_type != "f" for cell in cells)
    values = {cell.value for cell in cells}
    assert {LINK, TAB, PLUS, SUM, AT} <= values
    # The committee's name heads every sheet: the title row starts with the planted "-1".
    assert any(isinstance(v, str) and v.startswith(MINUS + " ") for v in values)
    assert all(
        cell.quotePrefix for cell in cells if isinstance(cell.value, str) and cell.value[:1] in "=+-@\t"
    )


# --- Every export -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted(django_db_setup, django_db_blocker, tmp_path_factory):
    """The permission matrix's world, with formula-like text in the places users type into."""
    with ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        stack.enter_context(override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))))
        stack.enter_context(time_machine.travel(NOW, tick=False))
        stack.enter_context(transaction.atomic())
        world = build_world()
        orgs = world.orgs
        Organization.objects.filter(pk=orgs["B1"].pk).update(name=LINK)
        Organization.objects.filter(pk=orgs["B2"].pk).update(name=SUM)
        Organization.objects.filter(pk=orgs["P1"].pk).update(name=TAB)
        Cycle.objects.filter(pk=world.past["C1"].pk).update(name=MINUS)
        past_b1 = world.past_assessments["B1"]
        Objection.objects.filter(pk=world.objections["B1"].pk).update(
            received_from=PLUS, content=AT, resolution=SUM
        )
        type(past_b1).objects.filter(pk=past_b1.pk).update(decision_reason=MINUS)
        AssessmentEvent.objects.filter(assessment=past_b1).update(note=PLUS)  # the reviewers' comments
        Appeal.objects.filter(pk=world.appeals["B1"].pk).update(reason=SUM)
        Notice.objects.filter(pk=world.notices["B1"].pk).update(title=LINK)
        Bulletin.objects.filter(pk=world.bulletins["C1"].pk).update(error=SUM)
        JobRun.objects.update(error=AT)
        orgs["B1"].refresh_from_db()
        downgrade_branch(
            branch=orgs["B1"], actor=world.users["approver"], to_stars=4, reason=LINK, violation=AT
        )
        # The directory: a person's real name, an audit entry's object and note, a committee's name.
        User.objects.filter(pk=world.users["secretary"].pk).update(real_name=PLUS)
        Organization.objects.filter(pk=orgs["C1"].pk).update(name=AT)
        record(
            actor=User.objects.get(pk=world.users["secretary"].pk),
            action="update",
            target_type="organization",
            target_label=AT,
            committee=orgs["C1"],
            note=SUM,
        )
        # The checks: a monthly check's findings, a proposal's reason and its dismissal, a five-good year.
        CheckEntry.objects.filter(pk=world.check_entries["B1"].pk).update(findings=MINUS, violation_note=AT)
        proposal = world.proposals["B2"]
        DowngradeProposal.objects.filter(pk=proposal.pk).update(reason=AT)
        proposal.refresh_from_db()
        dismiss_proposal(proposal=proposal, actor=world.users["approver"], reason=PLUS)
        YearResult.objects.create(
            committee=orgs["C1"],
            branch=orgs["B1"],
            year=2025,
            rounds=4,
            average=Decimal("95.5"),
            threshold=Decimal("90"),
            five_good=True,
        )
        # Rectification: a task's title and requirement.  # --- rectification
        from rectification.models import RectificationTask

        RectificationTask.objects.filter(pk=world.rect_tasks["B1"].pk).update(title=PLUS, requirement=MINUS)
        yield world
        transaction.set_rollback(True)


# Each export: who asks, the URL's arguments and query, and the planted texts it must carry.
EXPORTS = {
    "reviews:cycle_list_export": ("approver", lambda w: [], "", {MINUS}),
    "reviews:cycle_detail_export": ("approver", lambda w: [w.past["C1"].pk], "", {LINK, SUM, TAB, MINUS}),
    "reviews:cycle_decisions_export": ("approver", lambda w: [w.past["C1"].pk], "", {LINK, SUM, TAB, MINUS}),
    "reviews:cycle_publicity_export": (
        "approver",
        lambda w: [w.past["C1"].pk],
        "",
        {LINK, TAB, PLUS, AT, SUM},
    ),
    "reviews:team_overview_export": ("approver", lambda w: [w.past["C1"].pk], "", {LINK, SUM, TAB}),
    "reviews:preliminary_queue_export": ("parent", lambda w: [], "?state=done", {LINK, SUM, TAB, MINUS}),
    "reviews:preliminary_review_export": ("parent", lambda w: [w.past_assessments["B1"].pk], "", {PLUS}),
    "reviews:my_assignments_export": ("reviewer", lambda w: [], "?cycle=all", {LINK, TAB, MINUS}),
    "reviews:appeal_list_export": ("approver", lambda w: [], "", {LINK, SUM, MINUS}),
    "reviews:branch_detail_export": ("approver", lambda w: [w.orgs["B1"].pk], "", {LINK, AT, MINUS}),
    "reports:notice_list_export": ("secretary", lambda w: [], "", {LINK}),
    "reports:bulletin_list_export": ("staff", lambda w: [], "", {SUM}),
    "reports:job_list_export": ("staff", lambda w: [], "", {AT}),
    # The members' 公示: the world has no result under notice, so only its header row.
    "reviews:public_notice_export": ("secretary", lambda w: [], "", set()),
    "directory:org_export": ("staff", lambda w: [], "", {LINK, SUM, TAB}),
    "directory:person_export": ("staff", lambda w: [], "", {PLUS}),
    "directory:audit_export": ("staff", lambda w: [], "", {PLUS, AT, SUM}),
    "checks:round_list_export": ("approver", lambda w: [], "", {AT}),
    "checks:round_export": ("approver", lambda w: [w.check_rounds["C1"].pk], "", {LINK, SUM, TAB}),
    "checks:entry_list_export": ("parent", lambda w: [], "", {LINK, SUM, TAB, MINUS, AT}),
    "checks:year_results_export": ("approver", lambda w: [], "?year=2025", {LINK, TAB}),
    "checks:five_good_list_export": ("approver", lambda w: [], "", {LINK, TAB}),
    "checks:proposal_list_export": ("approver", lambda w: [], "?state=done", {SUM, TAB, AT, PLUS}),
    "rectification:task_list_export": ("parent", lambda w: [], "?state=all", {LINK, SUM, TAB, PLUS, MINUS}),
    "reports:document_list_export": ("staff", lambda w: [], "", set()),
    "reports:dashboard_branches_export": ("staff", lambda w: [w.orgs["C1"].pk], "", {LINK}),
    "supervision:liaison_list_export": ("staff", lambda w: [], "", {LINK}),
    "supervision:visit_list_export": ("staff", lambda w: [], "", set()),
    "supervision:stage_list_export": ("staff", lambda w: [], "", set()),
}


def export_url_names() -> set[str]:
    return {
        name
        for name in project_url_names()
        if name.startswith(
            ("reviews:", "reports:", "directory:", "checks:", "rectification:", "supervision:")
        )
        and name.endswith("_export")
    }


def test_every_export_of_the_review_report_directory_and_check_lists_is_walked():
    assert set(EXPORTS) == export_url_names()


def download(client, user, url) -> bytes:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"].startswith("attachment")
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_an_export_has_no_formula_and_keeps_the_typed_text(client, planted, name):
    role, args, query, expected = EXPORTS[name]
    content = download(client, planted.users[role], reverse(name, args=args(planted)) + query)
    assert formula_elements(content) == [], name
    cells = cells_of(content)
    assert cells and all(cell.data_type != "f" for cell in cells), name
    values = {cell.value for cell in cells}
    missing = {text for text in expected if text not in values}
    assert not missing, f"{name} lost {missing}"
    risky = [cell for cell in cells if isinstance(cell.value, str) and cell.value in PLANTED]
    assert all(cell.quotePrefix for cell in risky), name
