"""The cycle-wide operations run the same number of queries for 50 and for 500 branches.

Opening a cycle, the automatic reviewer assignment, publishing a notice batch, certifying it
and the quarterly notices write their rows and event rows in bulk; only the number of rows
grows with the committee, never the number of statements.
"""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from branches.models import RoleAssignment, User
from branches.roles import Role
from reports.models import Notice
from reports.services.notices import send_quarterly_notices
from reviews.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Certificate,
    NoticeBatch,
    ReviewerAssignment,
    StarEvent,
    StarEventKind,
)
from reviews.services.decision import certify_batch, publicize_cycle
from reviews.services.scoring import auto_assign
from tests.factories import make_sized_committee, make_user, open_default_cycle

pytestmark = pytest.mark.django_db

SMALL, LARGE = 50, 500
PUBLISHED_AT = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)


def committee_of(prefix: str, n: int) -> dict:
    """``n`` branches, an approver, four team reviewers and a secretary per branch."""
    sized = make_sized_committee(prefix, n, party_committees=2)
    committee = sized.committee
    approver = make_user(f"{prefix}-approver", roles=((Role.COMMITTEE_APPROVER, committee),))
    reviewers = [
        make_user(f"{prefix}-reviewer-{i}", roles=((Role.ASSESSMENT_REVIEWER, committee),)) for i in range(4)
    ]
    # Test set-up only: one secretary per branch, in bulk (no passwords needed).
    secretaries = User.objects.bulk_create(
        User(username=f"{prefix}-secretary-{i}", real_name=f"书记{i}") for i in range(n)
    )
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=user, role=Role.BRANCH_SECRETARY, organization=branch)
        for user, branch in zip(secretaries, sized.branches, strict=True)
    )
    return {"committee": committee, "approver": approver, "reviewers": reviewers, "n": n}


def statements(queries: list[dict]) -> int:
    """The statements run, a bulk insert split by the driver into batches counting once.

    SQLite takes few bound parameters per statement, so Django splits one ``bulk_create``
    into consecutive INSERTs of the same table; PostgreSQL takes each batch of 1,000 at once.
    """
    count, previous = 0, None
    for query in queries:
        sql = query["sql"]
        table = sql.split("(", 1)[0] if sql.startswith("INSERT") else None
        if table is None or table != previous:
            count += 1
        previous = table
    return count


def counted(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as context:
        result = call()
    return statements(context.captured_queries), result


def open_and_forward(world: dict):
    queries, cycle = counted(lambda: open_default_cycle(world["committee"], world["approver"]))
    # Test set-up only: every branch's self-assessment is forwarded to the committee.
    cycle.assessments.update(status=AssessmentStatus.FORWARDED)
    return queries, cycle


def test_opening_a_cycle_runs_the_same_queries_for_50_and_500_branches():
    small, large = committee_of("S", SMALL), committee_of("L", LARGE)
    few, small_cycle = open_and_forward(small)
    many, large_cycle = open_and_forward(large)
    assert few == many
    assert small_cycle.assessments.count() == SMALL
    assert large_cycle.assessments.count() == LARGE


def test_automatic_assignment_runs_the_same_queries_and_records_every_move():
    counts = []
    for prefix, n in (("S", SMALL), ("L", LARGE)):
        world = committee_of(prefix, n)
        _queries, cycle = open_and_forward(world)
        queries, result = counted(lambda: auto_assign(cycle=cycle, actor=world["approver"]))  # noqa: B023
        counts.append(queries)
        assert result["assigned"] == n and result["reviewer_assignments"] == 3 * n and not result["short"]
        assert set(cycle.assessments.values_list("status", flat=True)) == {AssessmentStatus.SCORING}
        events = AssessmentEvent.objects.filter(assessment__cycle=cycle, action="assign")
        assert events.count() == n
        assert set(events.values_list("actor_id", "from_status", "to_status")) == {
            (world["approver"].pk, AssessmentStatus.FORWARDED, AssessmentStatus.SCORING)
        }
        assert all(
            note.startswith("自动分配") or "、" in note for note in events.values_list("note", flat=True)
        )
        # Least loaded first: four reviewers, three each, so loads differ by one at most.
        loads = [
            ReviewerAssignment.objects.filter(assessment__cycle=cycle, reviewer=r).count()
            for r in world["reviewers"]
        ]
        assert max(loads) - min(loads) <= 1 and sum(loads) == 3 * n
        # Pressing again changes nothing.
        again = auto_assign(cycle=cycle, actor=world["approver"])
        assert again["assigned"] == 0
        assert ReviewerAssignment.objects.filter(assessment__cycle=cycle).count() == 3 * n
    assert counts[0] == counts[1]


def decided(world: dict):
    _queries, cycle = open_and_forward(world)
    # Test set-up only: every assessment decided at four stars.
    cycle.assessments.update(status=AssessmentStatus.DECIDED, decided_stars=4, proposed_stars=4)
    return cycle


def test_publishing_and_certifying_run_the_same_queries_for_50_and_500_branches():
    publish_counts, certify_counts = [], []
    for prefix, n in (("S", SMALL), ("L", LARGE)):
        world = committee_of(prefix, n)
        cycle = decided(world)
        with time_machine.travel(PUBLISHED_AT, tick=False):
            queries, batch = counted(lambda: publicize_cycle(cycle=cycle, actor=world["approver"]))  # noqa: B023
        publish_counts.append(queries)
        assert cycle.assessments.filter(status=AssessmentStatus.PUBLICIZED, notice_batch=batch).count() == n
        assert AssessmentEvent.objects.filter(assessment__cycle=cycle, action="publicize").count() == n

        with time_machine.travel(batch.ends_at + datetime.timedelta(hours=1), tick=False):
            queries, _batch = counted(lambda: certify_batch(batch=batch, actor=world["approver"]))  # noqa: B023
        certify_counts.append(queries)
        assert cycle.assessments.filter(status=AssessmentStatus.CERTIFIED).count() == n
        assert Certificate.objects.filter(assessment__cycle=cycle, stars=4).count() == n
        stars = StarEvent.objects.filter(
            certificate__assessment__cycle=cycle, kind=StarEventKind.CERTIFICATION
        )
        assert set(stars.values_list("actor_id", "from_stars", "to_stars")) == {
            (world["approver"].pk, None, 4)
        }
        assert stars.count() == n
        assert NoticeBatch.objects.get(pk=batch.pk).certified_at is not None
    assert publish_counts[0] == publish_counts[1]
    assert certify_counts[0] == certify_counts[1]


def test_the_quarterly_notices_run_the_same_queries_for_50_and_500_branches():
    counts = []
    for prefix, n in (("S", SMALL), ("L", LARGE)):
        world = committee_of(prefix, n)
        open_and_forward(world)
        Assessment.objects.filter(cycle__committee=world["committee"]).update(status=AssessmentStatus.DRAFT)
        year = timezone.localdate().year
        queries, sent = counted(
            lambda: send_quarterly_notices(committee_id=world["committee"].pk, year=year, quarter=1)  # noqa: B023
        )
        counts.append(queries)
        assert sent >= n
        assert Notice.objects.filter(committee=world["committee"]).count() == sent
    assert counts[0] == counts[1]
