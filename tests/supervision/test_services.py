"""Liaison branches, visits and stage applications through their services."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from branches import timeline
from branches.audit import AuditAction
from branches.errors import WorkflowError
from branches.models import AuditEntry, BranchStage, StageChange
from supervision.models import (
    ApplicationStatus,
    LiaisonAssignment,
    StageApplicationEvent,
    SupervisionVisit,
    VisitAction,
    VisitPhoto,
)
from supervision.selectors import coverage_for, unvisited_liaisons
from supervision.services.liaisons import assign_liaisons, remove_liaison
from supervision.services.stages import (
    decide_stage_application,
    submit_stage_application,
    withdraw_stage_application,
)
from supervision.services.visits import record_visit

from .helpers import liaise, pdf, photo, visit

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(private_media):
    return private_media


# ---------------------------------------------------------------------------- liaisons


def test_a_manager_gives_a_member_several_branches_at_once_with_one_audit_row(world):
    reviewer = world.reviewers[0]
    made = liaise(world, reviewer, world.branch, world.sibling_branch, world.cousin_branch)
    assert {row.branch for row in made} == {world.branch, world.sibling_branch, world.cousin_branch}
    # Again, with one more: only the new one is written.
    again = liaise(world, reviewer, world.branch, world.branch_under_committee)
    assert [row.branch for row in again] == [world.branch_under_committee]
    assert LiaisonAssignment.objects.filter(member=reviewer).count() == 4
    assert AuditEntry.objects.filter(target_type="liaisonassignment", action=AuditAction.CREATE).count() == 2


@pytest.mark.parametrize("who", ["secretary", "parent_reviewer", "reviewer1", "other_approver", "outsider"])
def test_only_the_committees_approver_or_staff_give_liaison_branches(world, who):
    with pytest.raises(PermissionDenied):
        assign_liaisons(
            committee=world.committee,
            member=world.reviewers[0],
            branches=[world.branch],
            actor=world.people[who],
        )


def test_a_liaison_member_must_be_on_the_committee_and_the_branches_in_it(world):
    with pytest.raises(ValidationError) as refused:
        assign_liaisons(
            committee=world.committee,
            member=world.parent_reviewer,
            branches=[world.branch],
            actor=world.staff,
        )
    assert "member" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        assign_liaisons(
            committee=world.committee,
            member=world.reviewers[0],
            branches=[world.other_branch],
            actor=world.staff,
        )
    assert "branches" in refused.value.message_dict
    assert not LiaisonAssignment.objects.exists()


def test_removing_a_liaison_branch_keeps_its_visits(world):
    (row,) = liaise(world, world.reviewers[0], world.branch)
    visit(world)
    remove_liaison(assignment=row, actor=world.staff)
    assert not LiaisonAssignment.objects.exists()
    assert SupervisionVisit.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.DELETE, target_type="liaisonassignment").exists()


# ---------------------------------------------------------------------------- visits


def test_a_visit_takes_the_quarter_of_its_date_and_keeps_its_photos(world):
    made = visit(world, on=datetime.date(2026, 9, 30), photos=[photo(), photo("公示栏.png")])
    assert (made.year, made.quarter) == (2026, 3)
    assert list(made.members.all()) == [world.reviewers[0]]
    assert [p.original_name for p in made.photos.all()] == ["现场.png", "公示栏.png"]
    assert made.events.get().action == VisitAction.RECORDED


def test_a_photo_that_is_not_an_image_is_refused_and_nothing_is_written(world):
    with pytest.raises(ValidationError) as refused:
        visit(world, photos=[photo(), pdf("照片.pdf")])
    assert "photos" in refused.value.message_dict
    assert not SupervisionVisit.objects.exists() and not VisitPhoto.objects.exists()


def test_a_visit_in_the_future_or_without_what_was_checked_is_refused(world):
    with pytest.raises(ValidationError) as refused:
        record_visit(
            branch=world.branch,
            actor=world.approver,
            visited_on=datetime.date(2026, 12, 1),
            members=[world.approver],
            checked=" ",
        )
    assert set(refused.value.message_dict) == {"visited_on", "checked"}


@pytest.mark.parametrize("who", ["secretary", "parent_reviewer", "other_approver", "outsider"])
def test_only_the_committees_members_record_visits(world, who):
    with pytest.raises(PermissionDenied):
        visit(world, by=world.people[who])


def test_who_went_must_be_members_of_the_committee(world):
    with pytest.raises(ValidationError) as refused:
        record_visit(
            branch=world.branch,
            actor=world.approver,
            visited_on=datetime.date(2026, 11, 1),
            members=[world.approver, world.parent_reviewer],
            checked="查阅台账",
        )
    assert "members" in refused.value.message_dict


def test_a_visit_shows_on_the_branch_timeline(world):
    made = visit(world)
    entries = [
        entry for entry in timeline.entries_for(world.branch, world.secretary) if entry.kind == "visit"
    ]
    assert [entry.url for entry in entries] == [reverse("supervision:visit_detail", args=[made.pk])]
    assert entries[0].detail == "三会一课记录不全。"


def test_liaison_branches_without_a_visit_this_quarter(world):
    reviewer = world.reviewers[0]
    liaise(world, reviewer, world.branch, world.sibling_branch)
    assert [row.branch for row in unvisited_liaisons(reviewer)] == [world.branch, world.sibling_branch]
    visit(world, on=datetime.date(2026, 9, 30))  # last quarter: still to visit
    assert len(unvisited_liaisons(reviewer)) == 2
    # A visit by someone else counts too: the branch was visited.
    visit(world, by=world.approver, on=datetime.date(2026, 10, 8))
    assert [row.branch for row in unvisited_liaisons(reviewer)] == [world.sibling_branch]
    (coverage,) = coverage_for([world.committee], 2026, 4)
    assert (coverage.visited, coverage.liaison_branches, coverage.percent) == (1, 2, 50)


# ---------------------------------------------------------------------------- stage applications


def _apply(world, **extra):
    return submit_stage_application(
        branch=world.branch,
        actor=world.secretary,
        name="“红色课堂”特色品牌",
        description="每月开展一次红色课堂。",
        files=[pdf()],
        **extra,
    )


def test_a_secretary_applies_to_move_up_one_stage(world):
    application = _apply(world)
    assert (application.from_stage, application.to_stage, application.status) == (
        BranchStage.BASIC,
        BranchStage.DISTINCTIVE,
        ApplicationStatus.SUBMITTED,
    )
    assert application.files.get().original_name == "特色材料.pdf"
    assert application.events.get().to_status == ApplicationStatus.SUBMITTED


def test_approval_moves_the_branch_up_with_a_stage_change_on_its_timeline(world):
    application = _apply(world)
    decide_stage_application(
        application=application, actor=world.approver, approve=True, reason="特色鲜明，同意。"
    )
    world.branch.refresh_from_db()
    assert world.branch.stage == BranchStage.DISTINCTIVE
    change = StageChange.objects.get(branch=world.branch)
    assert (change.from_stage, change.to_stage, change.actor) == (
        BranchStage.BASIC,
        BranchStage.DISTINCTIVE,
        world.approver,
    )
    stages = [entry for entry in timeline.entries_for(world.branch, world.secretary) if entry.kind == "stage"]
    assert len(stages) == 1 and "特色鲜明" in stages[0].detail
    moves = list(StageApplicationEvent.objects.values_list("from_status", "to_status", "actor"))
    assert moves == [("", "submitted", world.secretary.pk), ("submitted", "approved", world.approver.pk)]


def test_a_rejection_keeps_the_stage(world):
    application = _apply(world)
    decided = decide_stage_application(
        application=application, actor=world.approver, approve=False, reason="材料不足"
    )
    world.branch.refresh_from_db()
    assert decided.status == ApplicationStatus.REJECTED and world.branch.stage == BranchStage.BASIC
    assert not StageChange.objects.exists()


def test_a_second_decision_in_the_same_year_is_refused_with_a_clear_message(world, english):
    decide_stage_application(
        application=_apply(world), actor=world.approver, approve=False, reason="材料不足"
    )
    with pytest.raises(ValidationError) as refused:
        _apply(world)
    assert "once a year" in refused.value.messages[0]
    # Next year the branch may apply again.
    with time_machine.travel(datetime.datetime(2027, 1, 5, 10, 0, tzinfo=datetime.UTC), tick=False):
        assert _apply(world).status == ApplicationStatus.SUBMITTED


def test_only_one_application_waits_at_a_time_and_a_withdrawn_one_can_be_followed(world):
    application = _apply(world)
    with pytest.raises(ValidationError):
        _apply(world)
    withdraw_stage_application(application=application, actor=world.secretary)
    assert _apply(world).status == ApplicationStatus.SUBMITTED


def test_a_decided_application_cannot_be_decided_or_withdrawn_again(world):
    application = _apply(world)
    decide_stage_application(application=application, actor=world.approver, approve=True, reason="同意")
    with pytest.raises(WorkflowError):
        decide_stage_application(application=application, actor=world.approver, approve=False, reason="改判")
    with pytest.raises(WorkflowError):
        withdraw_stage_application(application=application, actor=world.secretary)


@pytest.mark.parametrize("who", ["secretary", "parent_reviewer", "staff", "reviewer1", "other_approver"])
def test_only_the_committees_approver_decides(world, who):
    application = _apply(world)
    with pytest.raises(PermissionDenied):
        decide_stage_application(
            application=application, actor=world.people[who], approve=True, reason="同意"
        )


def test_a_model_branch_cannot_apply_and_a_reason_is_required(world):
    application = _apply(world)
    with pytest.raises(ValidationError) as refused:
        decide_stage_application(application=application, actor=world.approver, approve=True, reason=" ")
    assert "reason" in refused.value.message_dict
    world.sibling_branch.stage = BranchStage.MODEL
    world.sibling_branch.save()
    with pytest.raises(ValidationError):
        submit_stage_application(
            branch=world.sibling_branch, actor=world.sibling_secretary, name="品牌", description="说明"
        )
