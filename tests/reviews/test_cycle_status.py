"""A cycle's own status moves only through ``move_cycle``: guarded, locked and recorded."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from branches.errors import WorkflowError
from reviews.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Cycle,
    CycleEvent,
    CycleStatus,
    NoticeBatch,
)
from reviews.services.core import move_cycle
from reviews.services.decision import certify_batch, decide_assessment, publicize_cycle
from reviews.workflow import CYCLE_TRANSITIONS, TRANSITIONS
from tests.factories import make_cycle, open_default_cycle

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NOTICE_STARTS = datetime.datetime(2025, 6, 10, 9, 0, tzinfo=datetime.UTC)
AFTER_NOTICE = NOTICE_STARTS + datetime.timedelta(days=5, hours=1)


@pytest.fixture
def cycle(world) -> Cycle:
    """The committee's cycle with one branch decided at four stars, ready for the public notice."""
    cycle = open_default_cycle(world.committee, world.approver)
    Assessment.objects.filter(cycle=cycle, branch=world.branch).update(
        status=AssessmentStatus.SCORED,
        consolidated_score=Decimal("92.0"),
        self_total=Decimal("93.0"),
        proposed_stars=4,
        declared_stars=4,
    )
    decide_assessment(assessment=cycle.assessments.get(branch=world.branch), actor=world.approver, stars=4)
    return cycle


@pytest.fixture
def publicized(cycle, world) -> NoticeBatch:
    """Batch 1 of the cycle's public notice; the committee's other branches have not started."""
    with time_machine.travel(NOTICE_STARTS, tick=False):
        return publicize_cycle(cycle=cycle, actor=world.staff)


def status_of(cycle: Cycle) -> str:
    return Cycle.objects.values_list("status", flat=True).get(pk=cycle.pk)


# --- allowed moves --------------------------------------------------------------------------


def test_publishing_the_notice_writes_one_cycle_event_and_keeps_the_cycle_open(publicized, world):
    event = CycleEvent.objects.get()

    assert (event.cycle, event.actor, event.action) == (publicized.cycle, world.staff, "publicize")
    assert (event.from_status, event.to_status) == (CycleStatus.OPEN, CycleStatus.OPEN)
    assert status_of(publicized.cycle) == CycleStatus.OPEN


def test_certifying_a_batch_after_its_notice_writes_one_more_event_and_the_cycle_stays_open(
    publicized, world
):
    with time_machine.travel(AFTER_NOTICE, tick=False):
        certify_batch(batch=publicized, actor=world.approver)

    event = CycleEvent.objects.order_by("pk").last()
    assert CycleEvent.objects.count() == 2
    assert (event.actor, event.action) == (world.approver, "certify")
    assert (event.from_status, event.to_status) == (CycleStatus.OPEN, CycleStatus.OPEN)
    # The committee's other branches have not started: the cycle goes on.
    assert status_of(publicized.cycle) == CycleStatus.OPEN


def test_the_notice_period_starts_when_the_move_is_recorded(publicized):
    publicized.refresh_from_db()
    assert publicized.started_at == NOTICE_STARTS == CycleEvent.objects.get().at
    assert publicized.ends_at - publicized.started_at == datetime.timedelta(days=5)


# --- illegal moves ----------------------------------------------------------------------------


def test_certifying_a_batch_under_notice_is_refused_with_its_reason_and_writes_nothing(publicized, world):
    with (
        time_machine.travel(NOTICE_STARTS + datetime.timedelta(days=1), tick=False),
        pytest.raises(WorkflowError, match="certification is possible only after it ends"),
    ):
        certify_batch(batch=publicized, actor=world.approver)

    assert CycleEvent.objects.count() == 1
    assert not NoticeBatch.objects.filter(certified_at__isnull=False).exists()


def test_publishing_again_with_nothing_newly_decided_is_refused_and_writes_nothing(publicized, world):
    with pytest.raises(WorkflowError, match="nothing to publish"):
        publicize_cycle(cycle=publicized.cycle, actor=world.approver)

    assert CycleEvent.objects.count() == 1
    assert NoticeBatch.objects.count() == 1


def test_certifying_twice_is_refused_and_writes_nothing(publicized, world):
    with time_machine.travel(AFTER_NOTICE, tick=False):
        certify_batch(batch=publicized, actor=world.approver)
        with pytest.raises(WorkflowError, match="already been certified"):
            certify_batch(batch=publicized, actor=world.approver)

    assert CycleEvent.objects.count() == 2


@pytest.mark.parametrize("action", ["publicize", "certify", "close"])
def test_the_move_itself_refuses_a_status_outside_the_table(cycle, world, action):
    Cycle.objects.filter(pk=cycle.pk).update(status=CycleStatus.CLOSED)

    with pytest.raises(WorkflowError):
        move_cycle(cycle_id=cycle.pk, action=action, actor=world.approver)

    assert status_of(cycle) == CycleStatus.CLOSED
    assert not CycleEvent.objects.exists()


def test_a_refusal_inside_the_move_leaves_the_cycle_and_its_assessments_as_they_were(world):
    cycle = open_default_cycle(world.committee, world.approver)  # nothing decided yet

    with pytest.raises(WorkflowError, match="nothing to publish"):
        publicize_cycle(cycle=cycle, actor=world.approver)

    assert status_of(cycle) == CycleStatus.OPEN
    assert not CycleEvent.objects.exists()
    assert not NoticeBatch.objects.exists()
    assert not AssessmentEvent.objects.filter(action="publicize").exists()


# --- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["secretary", "parent_reviewer", "reviewer", "other_approver", "outsider"])
def test_only_the_committees_managers_publish_the_notice(cycle, world, who):
    actor = world.reviewers[0] if who == "reviewer" else getattr(world, who)

    with pytest.raises(PermissionDenied):
        publicize_cycle(cycle=cycle, actor=actor)

    assert status_of(cycle) == CycleStatus.OPEN
    assert not CycleEvent.objects.exists()
    assert cycle.assessments.get(branch=world.branch).status == AssessmentStatus.DECIDED


@pytest.mark.parametrize("who", ["staff", "other_approver", "outsider"])
def test_only_the_committees_approver_certifies(publicized, world, who):
    with time_machine.travel(AFTER_NOTICE, tick=False), pytest.raises(PermissionDenied):
        certify_batch(batch=publicized, actor=getattr(world, who))

    assert CycleEvent.objects.count() == 1
    assert publicized.assessments.get().status == AssessmentStatus.PUBLICIZED


# --- the tables -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "inside"), [("publicize", "publicize"), ("certify", "certify"), ("close", "close_out")]
)
def test_a_cycle_move_is_taken_by_the_same_roles_as_the_assessment_moves_inside_it(action, inside):
    assert CYCLE_TRANSITIONS[action].roles == TRANSITIONS[inside].roles


def test_the_cycle_event_admin_lists_only_the_events_of_visible_committees(client, publicized, world):
    other = make_cycle(world.other_committee, opened_by=world.other_approver, name="区直机关工委认定")
    CycleEvent.objects.create(
        cycle=other, action="publicize", from_status=CycleStatus.OPEN, to_status=CycleStatus.OPEN
    )
    world.staff.user_permissions.add(Permission.objects.get(codename="view_cycleevent"))
    client.force_login(world.staff)

    page = client.get(reverse("admin:reviews_cycleevent_changelist")).content.decode()

    assert publicized.cycle.name in page
    assert other.name not in page
