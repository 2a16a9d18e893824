"""Rectification tasks through their services: opening, each step, who may take it, the sources."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from branches.errors import WorkflowError
from rectification.models import RectificationEvent, RectificationTask, SourceKind, TaskStatus
from rectification.services import (
    accept,
    confirm_proposed,
    dismiss,
    open_task,
    report_progress,
    send_back,
)
from reviews.models import StarEventKind
from reviews.services.decision import downgrade_branch, revoke_branch
from tests.rectification.helpers import certified, manual_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "private_media")]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def pdf(name="整改报告.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def actions(task):
    return list(
        RectificationEvent.objects.filter(task=task).order_by("at", "pk").values_list("action", "to_status")
    )


def test_a_downgrade_opens_a_task_for_the_branch_secretary_with_thirty_days(world):
    certified(world)
    event = downgrade_branch(
        branch=world.branch,
        actor=world.approver,
        to_stars=3,
        reason="组织生活不规范",
        violation="违反组织纪律",
    )
    task = RectificationTask.objects.get(branch=world.branch)
    assert task.source_kind == SourceKind.DOWNGRADE
    assert task.source == event
    assert task.status == TaskStatus.OPEN
    assert task.owner == world.secretary
    assert task.deadline == timezone.localdate() + datetime.timedelta(days=30)
    assert "违反组织纪律" in task.requirement
    assert actions(task) == [("open", TaskStatus.OPEN)]
    assert event.followups and "Rectification task" in event.followups[0]


def test_a_revocation_opens_a_task_of_its_own_kind(world):
    certified(world)
    event = revoke_branch(
        branch=world.branch, actor=world.approver, reason="严重违纪", violation="违反廉洁纪律"
    )
    task = RectificationTask.objects.get(branch=world.branch)
    assert (task.source_kind, task.source) == (SourceKind.REVOCATION, event)
    assert event.kind == StarEventKind.REVOCATION


def test_the_same_source_never_opens_two_tasks(world):
    certified(world)
    event = downgrade_branch(branch=world.branch, actor=world.approver, to_stars=3, reason="r", violation="v")
    again = open_task(
        committee=world.committee,
        branch=world.branch,
        title="again",
        requirement="again",
        owner=None,
        deadline=timezone.localdate(),
        source_kind=SourceKind.DOWNGRADE,
        source=event,
        actor=world.approver,
    )
    assert RectificationTask.objects.count() == 1
    assert again.title != "again"


def test_the_whole_way_report_send_back_report_accept(world):
    task = manual_task(world)
    report_progress(task=task, actor=world.secretary, text="已补齐一季度记录。", files=[pdf()])
    task.refresh_from_db()
    assert task.status == TaskStatus.REPORTED
    assert task.files.get().original_name == "整改报告.pdf"
    send_back(task=task, actor=world.parent_reviewer, reason="二季度记录仍缺。")
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    report_progress(task=task, actor=world.secretary, text="二季度也已补齐。")
    accept(task=task, actor=world.parent_reviewer)
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED and task.closed_at is not None
    assert [a for a, _ in actions(task)] == ["open", "report", "send_back", "report", "accept"]
    assert RectificationEvent.objects.get(task=task, action="send_back").note == "二季度记录仍缺。"


def test_sending_back_needs_a_reason(world):
    task = manual_task(world)
    report_progress(task=task, actor=world.secretary, text="done")
    with pytest.raises(ValidationError) as error:
        send_back(task=task, actor=world.parent_reviewer, reason=" ")
    assert "reason" in error.value.message_dict


def test_a_refused_file_loses_nothing_and_writes_nothing(world):
    task = manual_task(world)
    fake = SimpleUploadedFile("x.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    with pytest.raises(ValidationError):
        report_progress(task=task, actor=world.secretary, text="已整改", files=[fake])
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and not task.reports.exists()


@pytest.mark.parametrize("who", ["sibling_secretary", "outsider", "reviewer1"])
def test_only_the_owner_or_the_branch_secretary_reports(world, who):
    task = manual_task(world)
    with pytest.raises(PermissionDenied):
        report_progress(task=task, actor=world.people[who], text="x")


@pytest.mark.parametrize("who", ["secretary", "sibling_secretary", "reviewer1", "other_approver"])
def test_only_the_branchs_overseers_accept(world, who):
    task = manual_task(world)
    report_progress(task=task, actor=world.secretary, text="x")
    with pytest.raises(PermissionDenied):
        accept(task=task, actor=world.people[who])


@pytest.mark.parametrize("who", ["parent_reviewer", "approver", "staff"])
def test_parent_reviewer_approver_and_staff_accept(world, who):
    task = manual_task(world)
    report_progress(task=task, actor=world.secretary, text="x")
    assert accept(task=task, actor=world.people[who]).status == TaskStatus.ACCEPTED


def test_an_accepted_task_cannot_be_accepted_again(world):
    task = manual_task(world)
    report_progress(task=task, actor=world.secretary, text="x")
    accept(task=task, actor=world.parent_reviewer)
    with pytest.raises(WorkflowError):
        accept(task=task, actor=world.parent_reviewer)


def test_a_secretary_cannot_open_a_task_by_hand(world):
    with pytest.raises(PermissionDenied):
        manual_task(world, actor=world.secretary)


def test_the_owner_must_belong_to_the_branch(world):
    with pytest.raises(ValidationError) as error:
        manual_task(world, owner=world.sibling_secretary)
    assert "owner" in error.value.message_dict


def test_a_proposed_task_is_confirmed_with_owner_and_deadline_or_dismissed(world):
    proposed = open_task(
        committee=world.committee,
        branch=world.branch,
        title="失分",
        requirement="查找原因",
        owner=None,
        deadline=None,
        source_kind=SourceKind.MANUAL,
        actor=world.parent_reviewer,
        proposed=True,
    )
    assert proposed.status == TaskStatus.PROPOSED
    deadline = timezone.localdate() + datetime.timedelta(days=20)
    confirmed = confirm_proposed(
        task=proposed,
        actor=world.parent_reviewer,
        owner=world.secretary,
        deadline=deadline,
        requirement="补课",
    )
    assert (confirmed.status, confirmed.owner, confirmed.deadline) == (
        TaskStatus.OPEN,
        world.secretary,
        deadline,
    )
    other = open_task(
        committee=world.committee,
        branch=world.branch,
        title="失分2",
        requirement="查找原因",
        owner=None,
        deadline=None,
        source_kind=SourceKind.MANUAL,
        actor=world.parent_reviewer,
        proposed=True,
    )
    with pytest.raises(ValidationError):
        dismiss(task=other, actor=world.parent_reviewer, reason="")
    assert (
        dismiss(task=other, actor=world.parent_reviewer, reason="已在支部会议上纠正").status
        == TaskStatus.DISMISSED
    )


def test_a_substantiated_objection_opens_a_task_and_a_plain_resolution_does_not(world):
    from reviews.models import Objection
    from reviews.services.decision import resolve_objection
    from tests.factories import open_default_cycle

    cycle = open_default_cycle(world.committee, world.approver)
    assessment = cycle.assessments.get(branch=world.branch)
    first = Objection.objects.create(assessment=assessment, content="材料不实", recorded_by=world.staff)
    second = Objection.objects.create(assessment=assessment, content="另一条", recorded_by=world.staff)
    resolve_objection(objection=first, actor=world.approver, resolution="经核查属实", substantiated=True)
    resolve_objection(objection=second, actor=world.approver, resolution="不属实")
    task = RectificationTask.objects.get()
    assert (task.source_kind, task.source) == (SourceKind.OBJECTION, first)


def test_a_failing_receiver_never_refuses_the_downgrade(world, monkeypatch):
    from rectification.services import sources

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sources, "open_task", broken)
    certified(world)
    event = downgrade_branch(branch=world.branch, actor=world.approver, to_stars=3, reason="r", violation="v")
    assert event.pk and not RectificationTask.objects.exists()
