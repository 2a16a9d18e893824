"""The workflow table and ``revise_scores`` agree on when a reviewer may revise scores."""

from decimal import Decimal

import pytest
from django.utils import timezone

from branches.errors import WorkflowError
from reviews.models import Assessment, AssessmentEvent, AssessmentStatus, ReviewerAssignment, ReviewScore
from reviews.services.scoring import revise_scores
from reviews.workflow import TRANSITIONS
from scoring.arithmetic import ScoreEntry
from scoring.models import ItemKind
from tests.factories import make_assessment, make_cycle, standard_items

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

STILL_SCORING = "Scores can be revised once every reviewer has submitted; the others are still scoring."


def full_marks(item) -> Decimal:
    return Decimal(0) if item.kind == ItemKind.VETO else item.max_score


@pytest.fixture
def submitted(world) -> ReviewerAssignment:
    """A reviewer's submitted full-marks sheet for the world's branch."""
    cycle = make_cycle(world.committee, opened_by=world.approver)
    assessment = make_assessment(cycle, world.branch, status=AssessmentStatus.SCORED)
    assignment = ReviewerAssignment.objects.create(
        assessment=assessment,
        reviewer=world.reviewers[0],
        assigned_by=world.approver,
        submitted_at=timezone.now(),
        version=1,
    )
    ReviewScore.objects.bulk_create(
        ReviewScore(assignment=assignment, item=item, version=1, score=full_marks(item))
        for item in standard_items(cycle.standard)
    )
    return assignment


def revise(assignment: ReviewerAssignment, world):
    """Take one point off the first normal item, with the comment a deduction needs."""
    items = standard_items(assignment.assessment.cycle.standard)
    first = next(item for item in items if item.kind == ItemKind.NORMAL)
    entries = {item.pk: ScoreEntry(full_marks(item)) for item in items}
    entries[first.pk] = ScoreEntry(first.max_score - 1, "经考核组讨论扣1分")
    return revise_scores(assignment=assignment, actor=world.reviewers[0], entries=entries)


def test_the_table_allows_revising_only_once_every_reviewer_has_submitted():
    assert TRANSITIONS["revise_scores"].sources == frozenset({AssessmentStatus.SCORED})


@pytest.mark.parametrize("status", AssessmentStatus.values)
def test_the_service_revises_exactly_where_the_table_allows(submitted, world, status):
    Assessment.objects.filter(pk=submitted.assessment_id).update(status=status)

    if status in TRANSITIONS["revise_scores"].sources:
        assert revise(submitted, world).status == TRANSITIONS["revise_scores"].target
        assert AssessmentEvent.objects.filter(action="revise_scores").count() == 1
    else:
        with pytest.raises(WorkflowError):
            revise(submitted, world)
        assert not AssessmentEvent.objects.exists()
        assert not ReviewScore.objects.filter(version=2).exists()


def test_revising_while_others_still_score_says_why(submitted, world):
    Assessment.objects.filter(pk=submitted.assessment_id).update(status=AssessmentStatus.SCORING)

    with pytest.raises(WorkflowError) as refusal:
        revise(submitted, world)

    assert refusal.value.message == STILL_SCORING
