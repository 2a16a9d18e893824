"""Rectification reminders (in process): every N days to the owner and the secretary until done,
once to the parent reviewer after the deadline; never twice for the same interval."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from branches.models import CommitteePolicy
from rectification.services import accept, report_progress, send_back
from reports.models import Notice, NoticeKind
from reports.services.rectification import send_rectification_reminders
from tests.rectification.helpers import manual_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def reminders(kind=NoticeKind.RECT_DUE):
    return sorted(Notice.objects.filter(kind=kind).values_list("recipient__username", "slot"))


def test_the_owner_is_reminded_once_per_interval_and_not_after_acceptance(world):
    CommitteePolicy.objects.update_or_create(
        committee=world.committee, defaults={"rectification_reminder_days": 3}
    )
    task = manual_task(world, days=10)
    today = timezone.localdate()
    assert send_rectification_reminders(committee_id=world.committee.pk, today=today) == 1
    assert send_rectification_reminders(committee_id=world.committee.pk, today=today) == 0
    assert (
        send_rectification_reminders(
            committee_id=world.committee.pk, today=today + datetime.timedelta(days=2)
        )
        == 0
    )
    assert (
        send_rectification_reminders(
            committee_id=world.committee.pk, today=today + datetime.timedelta(days=3)
        )
        == 1
    )
    assert reminders() == [("zhangwei", 0), ("zhangwei", 1)]
    assert len(mail.outbox) == 2 and mail.outbox[0].to == ["zhangwei@example.cn"]
    assert "/rectification/" in mail.outbox[0].body

    report_progress(task=task, actor=world.secretary, text="已整改")
    assert (
        send_rectification_reminders(
            committee_id=world.committee.pk, today=today + datetime.timedelta(days=6)
        )
        == 0
    )
    send_back(task=task, actor=world.parent_reviewer, reason="不到位")
    assert (
        send_rectification_reminders(
            committee_id=world.committee.pk, today=today + datetime.timedelta(days=6)
        )
        == 1
    )
    report_progress(task=task, actor=world.secretary, text="再次整改")
    accept(task=task, actor=world.parent_reviewer)
    assert (
        send_rectification_reminders(
            committee_id=world.committee.pk, today=today + datetime.timedelta(days=30)
        )
        == 0
    )


def test_an_owner_other_than_the_secretary_and_the_secretary_are_both_reminded(world):
    from branches.roles import Role
    from tests.factories import make_user

    deputy = make_user(
        "deputy", "副书记", roles=((Role.BRANCH_SECRETARY, world.branch),), email="d@example.cn"
    )
    manual_task(world, owner=deputy)
    send_rectification_reminders(committee_id=world.committee.pk)
    assert {name for name, _slot in reminders()} == {"deputy", "zhangwei"}


def test_the_day_after_the_deadline_the_parent_reviewer_is_told_once(world):
    manual_task(world, days=1)
    today = timezone.localdate()
    send_rectification_reminders(committee_id=world.committee.pk, today=today + datetime.timedelta(days=1))
    assert reminders(NoticeKind.RECT_OVERDUE) == []
    send_rectification_reminders(committee_id=world.committee.pk, today=today + datetime.timedelta(days=2))
    send_rectification_reminders(committee_id=world.committee.pk, today=today + datetime.timedelta(days=5))
    assert reminders(NoticeKind.RECT_OVERDUE) == [("chenchushen", 0)]


def test_a_branch_under_the_committee_tells_the_committees_approver_and_staff(world):
    from branches.roles import Role
    from tests.factories import make_user

    secretary = make_user("b3sec", roles=((Role.BRANCH_SECRETARY, world.branch_under_committee),))
    manual_task(world, branch=world.branch_under_committee, owner=secretary, days=1, actor=world.approver)
    send_rectification_reminders(
        committee_id=world.committee.pk, today=timezone.localdate() + datetime.timedelta(days=3)
    )
    assert {name for name, _ in reminders(NoticeKind.RECT_OVERDUE)} == {"zhoushenpi", "wudangwu"}


def test_the_daily_job_is_scheduled_and_recorded(world, django_capture_on_commit_callbacks):
    from django_celery_beat.models import PeriodicTask

    from reports.models import JobRun, JobStatus
    from reports.tasks import rectification_reminders, send_rectification_reminders_task

    assert PeriodicTask.objects.filter(task="reports.tasks.rectification_reminders", enabled=True).exists()
    manual_task(world)
    with django_capture_on_commit_callbacks(execute=True):
        assert rectification_reminders.apply().get() == 1
    assert JobRun.objects.get(task_name=rectification_reminders.name).status == JobStatus.SUCCEEDED
    assert JobRun.objects.get(task_name=send_rectification_reminders_task.name).status == JobStatus.SUCCEEDED
    assert reminders() == [("zhangwei", 0)]


def test_the_committees_staff_see_the_reminder_runs_on_the_jobs_page(
    client, world, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from reports.tasks import rectification_reminders

    manual_task(world)
    with django_capture_on_commit_callbacks(execute=True):
        rectification_reminders.apply()
    client.force_login(world.staff)
    content = client.get(reverse("reports:job_list")).content.decode()
    assert "Reminders of rectification tasks" in content
    client.force_login(world.other_approver)
    assert "Reminders of rectification tasks" not in client.get(reverse("reports:job_list")).content.decode()
