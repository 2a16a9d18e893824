"""Excel exports of the lists: the page's rows for that user, typed columns, a fixed number of queries.

Scope and filters are asked of the permission matrix's world (tests/permission_matrix.py),
built once for the module; the blind rules and the reviewer's cycle filter of the shared
``world`` (tests/factories.py); the query counts of two committees of 10 and 50 branches.
"""

import datetime
import io
from contextlib import ExitStack
from urllib.parse import unquote

import openpyxl
import pytest
import time_machine
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from branches.roles import Role
from reviews.models import AssessmentStatus, CycleStatus, ReviewerAssignment
from tests import factories
from tests.permission_matrix import NOW, build_world

pytestmark = pytest.mark.django_db


def sheets_of(response) -> dict[str, list[tuple]]:
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets}


def rows_of(response) -> list[tuple]:
    """The first sheet's rows below its header."""
    return next(iter(sheets_of(response).values()))[1:]


def export(client, user, name, *args, query=""):
    client.force_login(user)
    return client.get(reverse(name, args=args) + query)


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


# --- Blind scoring in the cycle's export --------------------------------------------------------------


@pytest.fixture
def scoring(world):
    """B1 of the current cycle assigned to the three reviewers; only the first has submitted."""
    items = factories.standard_items(factories.default_standard())
    cycle = factories.open_default_cycle(world.committee, world.approver)
    assessment = cycle.assessments.get(branch=world.branch)
    factories.forward_and_assign(
        assessment,
        secretary=world.secretary,
        parent=world.parent_reviewer,
        approver=world.approver,
        reviewers=list(world.reviewers),
        items=items,
    )
    factories.submit_sheet(assessment, world.reviewers[0], items)
    return cycle


def b1_row(client, user, cycle, world) -> tuple[list, dict]:
    """B1's reviewer cells (name, total, name, total…) and its row by header."""
    header, *rows = next(
        iter(sheets_of(export(client, user, "reviews:cycle_detail_export", cycle.pk)).values())
    )
    row = next(row for row in rows if row[1] == world.branch.name)
    first, last = header.index(zh("Declared stars")) + 1, header.index(zh("Consolidated score"))
    return list(row[first:last]), dict(zip(header, row, strict=True))


def test_a_reviewer_who_has_not_submitted_sees_no_one_elses_scores_in_the_export(client, world, scoring):
    cells, row = b1_row(client, world.reviewers[1], scoring, world)
    assert len(cells) == 6 and all(value in (None, "") for value in cells)
    assert row[zh("Consolidated score")] is None and row[zh("Proposed stars")] is None


def test_the_reviewer_who_submitted_and_the_committee_see_the_scores_with_names(client, world, scoring):
    for user in (world.reviewers[0], world.approver):
        cells, row = b1_row(client, user, scoring, world)
        assert cells[0] == "李明", user
        assert isinstance(cells[1], int | float) and cells[1] > 0, user
        assert cells[2:] == [None] * 4 or cells[3] is None, user  # the others have not submitted
        assert row[zh("Status")] == zh("Being scored"), user  # no consolidated score until all have submitted


# --- The reviewer's cycle filter -------------------------------------------------------------------


@pytest.fixture
def two_cycles(world):
    """reviewer1 has B1 in a closed 2024 cycle and 30 branches' worth of work in the open one."""
    reviewer = world.reviewers[0]
    old = factories.make_cycle(
        world.committee,
        opened_by=world.approver,
        name="2024年度",
        status=CycleStatus.CLOSED,
        opened_at=timezone.now() - datetime.timedelta(days=400),
    )
    new = factories.make_cycle(world.committee, opened_by=world.approver, name="2025年度")
    ReviewerAssignment.objects.create(
        assessment=factories.make_assessment(old, world.branch, status=AssessmentStatus.CERTIFIED),
        reviewer=reviewer,
        assigned_by=world.approver,
        submitted_at=timezone.now(),
    )
    for i in range(30):
        branch = factories.make_branch(f"第{i}支部", f"N{i}", parent=world.party_committee)
        ReviewerAssignment.objects.create(
            assessment=factories.make_assessment(new, branch, status=AssessmentStatus.SCORING),
            reviewer=reviewer,
            assigned_by=world.approver,
        )
    return old, new


def test_the_assignments_page_shows_the_open_cycle_first_and_keeps_the_filter_across_pages(
    client, world, two_cycles
):
    _old, new = two_cycles
    client.force_login(world.reviewers[0])
    response = client.get(reverse("reviews:my_assignments"))
    page = response.context["page"]
    assert page.paginator.count == 30
    assert {a.assessment.cycle_id for a in page} == {new.pk}
    assert response.context["cycle_filter"] == str(new.pk)
    assert f'href="?cycle={new.pk}&amp;page=2"' in response.content.decode()
    second = client.get(reverse("reviews:my_assignments") + f"?cycle={new.pk}&page=2").context["page"]
    assert len(second) == 5 and {a.assessment.cycle_id for a in second} == {new.pk}


def test_all_cycles_and_an_old_cycle_can_be_chosen(client, world, two_cycles):
    old, _new = two_cycles
    client.force_login(world.reviewers[0])
    everything = client.get(reverse("reviews:my_assignments") + "?cycle=all").context
    assert everything["page"].paginator.count == 31 and everything["cycle_filter"] == "all"
    only_old = client.get(reverse("reviews:my_assignments") + f"?cycle={old.pk}").context["page"]
    assert [a.assessment.branch_id for a in only_old] == [world.branch.pk]
    text = client.get(reverse("reviews:my_assignments")).content.decode()
    assert "2024年度" in text and 'value="all"' in text


def test_without_work_in_an_open_cycle_the_filter_shows_every_cycle(client, world, two_cycles):
    _old, new = two_cycles
    ReviewerAssignment.objects.filter(assessment__cycle=new).delete()
    client.force_login(world.reviewers[0])
    context = client.get(reverse("reviews:my_assignments")).context
    assert context["cycle_filter"] == "all" and context["page"].paginator.count == 1


def test_a_cycle_of_no_assignment_of_the_reviewer_is_not_a_choice(client, world, two_cycles):
    other = factories.make_cycle(world.other_committee, opened_by=world.other_approver, name="别的周期")
    client.force_login(world.reviewers[0])
    context = client.get(reverse("reviews:my_assignments") + f"?cycle={other.pk}").context
    assert other not in context["cycles"]
    assert context["cycle_filter"] == str(two_cycles[1].pk)  # the default, not the foreign cycle


# --- Queries do not grow with the rows --------------------------------------------------------------


def sized(prefix: str, count: int):
    """A committee of ``count`` scored branches, each with two submitted reviewers, and its people."""
    made = factories.make_sized_committee(prefix, count, party_committees=2)
    approver = factories.make_user(f"{prefix}a", roles=((Role.COMMITTEE_APPROVER, made.committee),))
    parent = factories.make_user(f"{prefix}p", roles=((Role.PARENT_REVIEWER, made.party_committees[0]),))
    reviewers = [
        factories.make_user(f"{prefix}r{i}", f"评审{i}", roles=((Role.ASSESSMENT_REVIEWER, made.committee),))
        for i in range(2)
    ]
    cycle = factories.make_cycle(made.committee, opened_by=approver)
    for branch in made.branches:
        assessment = factories.make_assessment(cycle, branch, status=AssessmentStatus.SCORED, score="90.0")
        for reviewer in reviewers:
            ReviewerAssignment.objects.create(
                assessment=assessment, reviewer=reviewer, assigned_by=approver, submitted_at=timezone.now()
            )
    return {"cycle": cycle, "approver": approver, "parent": parent}


QUERY_COUNTED = [
    ("reviews:cycle_detail_export", "approver", True),
    ("reviews:cycle_decisions_export", "approver", True),
    ("reviews:team_overview_export", "approver", True),
    ("reviews:preliminary_queue_export", "parent", False),
]


def count_queries(client, user, name, args) -> tuple[int, int]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name, args=args) + ("?state=done" if "preliminary" in name else ""))
        rows = rows_of(response)
    return len(queries), len(rows)


@pytest.mark.parametrize(("name", "role", "per_cycle"), QUERY_COUNTED)
def test_an_exports_queries_do_not_grow_with_its_rows(client, name, role, per_cycle):
    small, large = sized("小", 10), sized("大", 50)
    counts = []
    for made in (small, large):
        args = [made["cycle"].pk] if per_cycle else []
        counts.append(count_queries(client, made[role], name, args))
    (few, few_rows), (many, many_rows) = counts
    assert few_rows < many_rows
    assert few == many, f"{name}: {few} queries for {few_rows} rows, {many} for {many_rows}"


# --- The matrix's world, once for the module ------------------------------------------------------
#
# Last in the file: the world above uses the same codes, so it is built and rolled back
# test by test before this one exists.


@pytest.fixture(scope="module")
def mw(django_db_setup, django_db_blocker, tmp_path_factory):
    with ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        stack.enter_context(override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))))
        stack.enter_context(time_machine.travel(NOW, tick=False))
        stack.enter_context(transaction.atomic())
        yield build_world()
        transaction.set_rollback(True)


def test_the_cycle_list_export_holds_only_the_users_committees_cycles(client, mw):
    mine = rows_of(export(client, mw.users["approver"], "reviews:cycle_list_export"))
    theirs = rows_of(export(client, mw.users["c2_approver"], "reviews:cycle_list_export"))
    assert sorted(row[1] for row in mine) == ["第一工委", "第一工委"]
    assert sorted(row[1] for row in theirs) == ["第二工委", "第二工委"]
    assert rows_of(export(client, mw.users["outsider"], "reviews:cycle_list_export")) == []


def test_a_cycle_export_has_every_branch_of_the_cycle_and_none_of_another_committee(client, mw):
    rows = rows_of(export(client, mw.users["approver"], "reviews:cycle_detail_export", mw.past["C1"].pk))
    assert sorted(row[1] for row in rows) == ["乙一支部", "甲一支部", "甲二支部"]
    response = export(client, mw.users["approver"], "reviews:cycle_detail_export", mw.past["C2"].pk)
    assert response.status_code == 404


def test_the_cycle_exports_header_is_in_chinese_and_its_columns_are_typed(client, mw):
    response = export(client, mw.users["approver"], "reviews:cycle_detail_export", mw.past["C1"].pk)
    disposition = unquote(response["Content-Disposition"])
    assert disposition.startswith("attachment") and "2024年度星级认定-20250620.xlsx" in disposition
    header, *rows = next(iter(sheets_of(response).values()))
    assert header[1:4] == ("党支部", "上级组织", "状态")
    assert zh("Consolidated score") in header
    b1 = next(row for row in rows if row[1] == "甲一支部")
    consolidated = b1[header.index(zh("Consolidated score"))]
    assert isinstance(consolidated, int | float) and consolidated > 0
    assert isinstance(b1[header.index(zh("Decided stars"))], int)
    assert isinstance(b1[header.index(zh("Self-score"))], int | float)
    # The one reviewer of B1, by name, with a number for a total.
    assert b1[6] == "reviewer" and isinstance(b1[7], int | float)


def test_dates_and_times_are_spreadsheet_dates(client, mw):
    header, *rows = next(
        iter(sheets_of(export(client, mw.users["approver"], "reviews:cycle_list_export")).values())
    )
    deadline = rows[0][header.index(zh("Scoring deadline"))]
    opened = rows[0][header.index(zh("Opened at"))]
    assert isinstance(deadline, datetime.datetime) and isinstance(opened, datetime.datetime)


@pytest.mark.parametrize(
    ("name", "role", "args", "query", "expected"),
    [
        (
            "reviews:cycle_detail_export",
            "approver",
            lambda w: [w.past["C1"].pk],
            "?status=not_started",
            ["乙一支部"],
        ),
        (
            "reviews:cycle_detail_export",
            "approver",
            lambda w: [w.past["C1"].pk],
            "?status=certified",
            ["甲一支部", "甲二支部"],
        ),
        ("reviews:cycle_decisions_export", "approver", lambda w: [w.past["C1"].pk], "?show=undecided", []),
        (
            "reviews:cycle_decisions_export",
            "staff",
            lambda w: [w.past["C1"].pk],
            "",
            ["甲一支部", "甲二支部"],
        ),
        ("reviews:team_overview_export", "staff", lambda w: [w.past["C1"].pk], "?show=scored", []),
        (
            "reviews:team_overview_export",
            "staff",
            lambda w: [w.past["C1"].pk],
            "?show=all",
            ["甲一支部", "甲二支部"],
        ),
        ("reviews:preliminary_queue_export", "parent", lambda w: [], "?state=pending", []),
        ("reviews:preliminary_queue_export", "parent", lambda w: [], "?state=done", ["甲一支部", "甲二支部"]),
        ("reviews:preliminary_queue_export", "p2_parent", lambda w: [], "?state=done", []),
        ("reviews:my_assignments_export", "reviewer", lambda w: [], "", ["甲一支部"]),
        ("reviews:my_assignments_export", "reviewer", lambda w: [], "?cycle=all", ["甲一支部"]),
        ("reviews:appeal_list_export", "approver", lambda w: [], "", ["甲一支部", "甲二支部"]),
        ("reviews:appeal_list_export", "c2_approver", lambda w: [], "", ["丙一支部"]),
        (
            "reviews:cycle_publicity_export",
            "staff",
            lambda w: [w.past["C1"].pk],
            "?batch=1",
            ["甲一支部", "甲二支部"],
        ),
    ],
)
def test_an_export_has_exactly_the_rows_of_its_scope_and_filter(
    client, mw, name, role, args, query, expected
):
    rows = rows_of(export(client, mw.users[role], name, *args(mw), query=query))
    column = 2 if name == "reviews:cycle_publicity_export" else 1  # the branch's name
    assert sorted(row[column] for row in rows) == sorted(expected)


def test_a_publicity_export_of_a_batch_that_does_not_exist_answers_404_like_its_page(client, mw):
    response = export(
        client, mw.users["staff"], "reviews:cycle_publicity_export", mw.past["C1"].pk, query="?batch=9"
    )
    assert response.status_code == 404


def test_the_publicity_export_lists_the_batchs_objections(client, mw):
    sheets = sheets_of(export(client, mw.users["staff"], "reviews:cycle_publicity_export", mw.past["C1"].pk))
    objections = sheets[zh("Objections")][1:]
    assert sorted(row[0] for row in objections) == ["甲一支部", "甲二支部"]
    assert {row[2] for row in objections} == {"对该支部的评定结果有异议。"}


def test_the_job_and_report_exports_follow_their_pages(client, mw):
    staff = mw.users["staff"]
    assert len(rows_of(export(client, staff, "reports:job_list_export"))) == 2
    assert rows_of(export(client, staff, "reports:job_list_export", query="?status=failed")) == []
    assert len(rows_of(export(client, staff, "reports:job_list_export", query="?status=succeeded"))) == 2
    assert [row[1] for row in rows_of(export(client, staff, "reports:bulletin_list_export"))] == ["第一工委"]
    notices = rows_of(export(client, mw.users["secretary"], "reports:notice_list_export"))
    assert [row[0] for row in notices] == [mw.notices["B1"].title]


def test_a_branch_export_holds_its_own_star_history_and_certificates(client, mw):
    sheets = sheets_of(export(client, mw.users["approver"], "reviews:branch_detail_export", mw.orgs["B1"].pk))
    history, certificates = sheets[zh("Star history")][1:], sheets[zh("Certificates")][1:]
    assert [row[2:4] for row in history] == [(None, 5)]
    assert [row[-1] for row in certificates] == [mw.certificates["B1"].verification_code]


# Every export against its page: the same number of rows (the page counts them all, over its pages).
PAGES = [
    ("reviews:cycle_list", [], "", "approver"),
    ("reviews:cycle_detail", ["past"], "", "reviewer"),
    ("reviews:cycle_detail", ["past"], "?status=certified", "approver"),
    ("reviews:cycle_decisions", ["past"], "", "approver"),
    ("reviews:cycle_publicity", ["past"], "", "staff"),
    ("reviews:team_overview", ["past"], "?show=all", "staff"),
    ("reviews:preliminary_queue", [], "?state=done", "parent"),
    ("reviews:my_assignments", [], "", "reviewer"),
    ("reviews:appeal_list", [], "", "reviewer"),
    ("reviews:appeal_list", [], "", "staff"),
    ("reviews:branch_detail", ["branch"], "", "secretary"),
    ("reports:notice_list", [], "", "parent"),
    ("reports:bulletin_list", [], "", "approver"),
    ("reports:job_list", [], "", "staff"),
]


@pytest.mark.parametrize(("name", "args", "query", "role"), PAGES)
def test_an_export_has_as_many_rows_as_its_page_lists(client, mw, name, args, query, role):
    values = [mw.past["C1"].pk if a == "past" else mw.orgs["B1"].pk for a in args]
    client.force_login(mw.users[role])
    page = client.get(reverse(name, args=values) + query).context["page"]
    rows = rows_of(client.get(reverse(f"{name}_export", args=values) + query))
    assert len(rows) == page.paginator.count
    assert page.paginator.count > 0, "a page with rows, or the comparison proves nothing"


# Every export as each committee's people: nothing of the other committee is named in it.
OWN_EXPORTS = {
    "reviews:cycle_list_export": ("approver", lambda w, c: []),
    "reviews:cycle_detail_export": ("approver", lambda w, c: [w.past[c].pk]),
    "reviews:cycle_decisions_export": ("approver", lambda w, c: [w.past[c].pk]),
    "reviews:cycle_publicity_export": ("approver", lambda w, c: [w.past[c].pk]),
    "reviews:team_overview_export": ("staff", lambda w, c: [w.past[c].pk]),
    "reviews:preliminary_queue_export": ("parent", lambda w, c: []),
    "reviews:preliminary_review_export": ("parent", lambda w, c: [w.past_assessments[BRANCH_OF[c]].pk]),
    "reviews:my_assignments_export": ("reviewer", lambda w, c: []),
    "reviews:appeal_list_export": ("approver", lambda w, c: []),
    "reviews:branch_detail_export": ("secretary", lambda w, c: [w.orgs[BRANCH_OF[c]].pk]),
    "reports:notice_list_export": ("secretary", lambda w, c: []),
    "reports:bulletin_list_export": ("staff", lambda w, c: []),
    "reports:job_list_export": ("staff", lambda w, c: []),
}
BRANCH_OF = {"C1": "B1", "C2": "D1"}
TWIN = {"approver": "c2_approver", "staff": "c2_staff", "parent": "q1_parent", "reviewer": "c2_reviewer"}
TWIN["secretary"] = "d1_secretary"
NAMES_OF = {"C1": {"C1", "P1", "P2", "B1", "B2", "B3"}, "C2": {"C2", "Q1", "D1"}}


@pytest.mark.parametrize("committee", ["C1", "C2"])
@pytest.mark.parametrize("name", sorted(OWN_EXPORTS))
def test_an_export_names_nothing_of_the_other_committee(client, mw, name, committee):
    role, args = OWN_EXPORTS[name]
    user = mw.users[role if committee == "C1" else TWIN[role]]
    sheets = sheets_of(export(client, user, name, *args(mw, committee)))
    text = {str(value) for rows in sheets.values() for row in rows for value in row if value is not None}
    other = NAMES_OF["C2" if committee == "C1" else "C1"]
    named = sorted(code for code in other if any(mw.orgs[code].name in value for value in text))
    assert not named, f"{name} for {committee} names {named}"
