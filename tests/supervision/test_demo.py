"""The demo's supervision: liaison branches, visits this quarter and last, a task, stage applications."""

import pytest
from django.utils import timezone

from branches import demo as branches_demo
from branches.models import BranchStage, Organization, StageChange, User
from rectification.models import RectificationTask, SourceKind
from supervision import demo
from supervision.models import (
    ApplicationStatus,
    LiaisonAssignment,
    StageApplication,
    SupervisionVisit,
    calendar_quarter,
)
from supervision.selectors import coverage_for, unvisited_liaisons

pytestmark = pytest.mark.django_db


def test_the_demo_shows_supervision_and_stages_and_running_it_twice_changes_nothing(private_media):
    branches_demo.load_demo()
    created = demo.load_demo()
    assert created["liaison branches"] == 14 and created["stage applications"] == 2
    year, quarter = calendar_quarter(timezone.localdate())
    this_quarter = SupervisionVisit.objects.filter(year=year, quarter=quarter)
    assert this_quarter.count() == len(demo.THIS_QUARTER)
    assert SupervisionVisit.objects.exclude(year=year, quarter=quarter).count() == len(demo.LAST_QUARTER)
    kaohe1 = User.objects.get(username="kaohe1")
    assert [row.branch.code for row in unvisited_liaisons(kaohe1)] == ["BJ-FGW-03", "BJ-CZJ-01"]
    (coverage,) = coverage_for([Organization.objects.get(code=branches_demo.COMMITTEE_CODE)], year, quarter)
    assert 0 < coverage.visited < coverage.liaison_branches
    task = RectificationTask.objects.get(source_kind=SourceKind.SUPERVISION)
    assert task.source.branch.code == "BJ-FGW-01" and task.source.photos.count() == 2
    branch = Organization.objects.get(code="BJ-FGW-01")
    assert branch.stage == BranchStage.DISTINCTIVE
    assert StageChange.objects.get(branch=branch).at.year < timezone.localdate().year + 1
    statuses = sorted(StageApplication.objects.values_list("status", flat=True))
    assert statuses == [ApplicationStatus.APPROVED, ApplicationStatus.SUBMITTED]
    before = (
        LiaisonAssignment.objects.count(),
        SupervisionVisit.objects.count(),
        StageApplication.objects.count(),
    )
    assert set(demo.load_demo().values()) == {0}
    after = (
        LiaisonAssignment.objects.count(),
        SupervisionVisit.objects.count(),
        StageApplication.objects.count(),
    )
    assert after == before
