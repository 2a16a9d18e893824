"""Item losses propose tasks: a decided certification and a published quarterly check."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from branches.models import CommitteePolicy
from rectification.models import RectificationEvent, RectificationTask, SourceKind, TaskStatus
from reviews.models import Assessment
from reviews.services.decision import decide_assessment
from tests.checks.helpers import build_check_world, run_quarter
from tests.factories import forward_and_assign, open_default_cycle, standard_items, submit_sheet

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_decided_certification_proposes_a_task_per_item_that_lost_more_than_the_share(world):
    cycle = open_default_cycle(world.committee, world.approver)
    items = standard_items(cycle.standard)
    assessment = Assessment.objects.get(cycle=cycle, branch=world.branch)
    forward_and_assign(
        assessment,
        secretary=world.secretary,
        parent=world.parent_reviewer,
        approver=world.approver,
        reviewers=[world.reviewers[0]],
        items=items,
    )
    by_code = {item.code: item for item in items}
    lost_all, lost_little = by_code["1.2"], by_code["4.1"]
    submit_sheet(
        assessment,
        world.reviewers[0],
        items,
        {lost_all.code: (lost_all.max_score, "没有记录"), lost_little.code: (Decimal("0.5"), "略有不足")},
    )
    assessment.refresh_from_db()
    decide_assessment(assessment=assessment, actor=world.approver, stars=assessment.proposed_stars)
    task = RectificationTask.objects.get()
    assert (task.source_kind, task.item, task.status) == (
        SourceKind.CERTIFICATION_ITEM,
        lost_all,
        TaskStatus.PROPOSED,
    )
    assert task.source == assessment and task.owner is None and task.deadline is None
    assert RectificationEvent.objects.get(task=task).action == "propose"
    # Deciding again (another level, with a reason) proposes nothing twice.
    decide_assessment(assessment=assessment, actor=world.approver, stars=1, reason="复议")
    assert RectificationTask.objects.count() == 1


def test_the_committee_share_decides_what_is_proposed(world):
    CommitteePolicy.objects.update_or_create(
        committee=world.committee, defaults={"rectification_loss_percent": 100}
    )
    cycle = open_default_cycle(world.committee, world.approver)
    items = standard_items(cycle.standard)
    assessment = Assessment.objects.get(cycle=cycle, branch=world.branch)
    forward_and_assign(
        assessment,
        secretary=world.secretary,
        parent=world.parent_reviewer,
        approver=world.approver,
        reviewers=[world.reviewers[0]],
        items=items,
    )
    item = next(item for item in items if item.code == "1.2")
    submit_sheet(assessment, world.reviewers[0], items, {item.code: (item.max_score, "没有记录")})
    assessment.refresh_from_db()
    decide_assessment(assessment=assessment, actor=world.approver, stars=assessment.proposed_stars)
    assert not RectificationTask.objects.exists()


def test_a_published_quarterly_check_proposes_tasks_for_items_lost(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel("2025-06-20 10:00 +0800", tick=False):
        cw = build_check_world()
        totals = dict.fromkeys("ABCDEF", "100")
        totals["A"] = "80"  # twenty points off the first items: the first ones lose everything
        check_round = run_quarter(cw, 2025, 2, totals)
        tasks = list(RectificationTask.objects.order_by("pk"))
        assert tasks and {task.branch for task in tasks} == {cw.branches["A"]}
        assert {task.source_kind for task in tasks} == {SourceKind.CHECK_ITEM}
        assert {task.status for task in tasks} == {TaskStatus.PROPOSED}
        assert RectificationEvent.objects.filter(task__in=tasks, action="propose").count() == len(tasks)
        assert all(task.source.round_id == check_round.pk for task in tasks)
        assert tasks[0].created_at.date() <= datetime.date(2025, 6, 20)


def test_a_check_item_tasks_source_links_each_reader_to_a_page_they_may_open(db, settings, tmp_path, client):
    from django.urls import reverse

    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel("2025-06-20 10:00 +0800", tick=False):
        cw = build_check_world()
        totals = dict.fromkeys("ABCDEF", "100")
        totals["A"] = "80"
        run_quarter(cw, 2025, 2, totals)
    task = RectificationTask.objects.filter(source_kind=SourceKind.CHECK_ITEM).first()
    for reader, view in [
        (cw.secretary_a, "checks:sheet_self_report"),
        (cw.p1_reviewer, "checks:sheet_score"),
        (cw.approver, "checks:sheet_score"),
    ]:
        client.force_login(reader)
        page = client.get(reverse("rectification:task_detail", args=[task.pk]))
        source_url = reverse(view, args=[task.source_id])
        assert source_url in page.content.decode(), reader
        assert client.get(source_url).status_code == 200, reader
        client.logout()
