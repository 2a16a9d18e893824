"""Reminders of rectification tasks (整改提醒): an in-app notice and an e-mail, repeated until done.

A daily job, per committee:

* every task being rectified (open, including one sent back) reminds its person responsible
  and the branch's secretaries every ``CommitteePolicy.rectification_reminder_days`` days
  from the day it was opened (interval slot 0 on that day, 1 after N days, …) until it is
  reported and accepted;
* a task past its deadline and not accepted (open or reported) tells the branch's parent
  reviewers once, from the day after the deadline (for a branch directly under the committee,
  the committee's approvers and staff).

A reminder is a ``Notice`` unique per (recipient, task, kind, slot), written with
``bulk_create(ignore_conflicts=True)``; e-mails go out through ``notices.email_notices``, which
stamps each notice as it is sent. So the job can run twice the same day, or at the same moment
on two workers, and each person still gets one reminder and one e-mail per interval.
"""

import datetime
from collections import defaultdict

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.models import CommitteePolicy, Organization, OrgKind, RoleAssignment, User
from branches.roles import COMMITTEE_MANAGERS, Role
from rectification.models import RUNNING, RectificationTask, TaskStatus

from ..models import Notice, NoticeKind
from ..quarters import quarter_of
from .notices import BULK_BATCH, _day, _Draft, _greeting, email_notices

TASK_BATCH = 2000


def committees_with_running_tasks() -> list[int]:
    return list(
        RectificationTask.objects.filter(status__in=RUNNING, committee__is_active=True)
        .order_by("committee_id")
        .values_list("committee_id", flat=True)
        .distinct()
    )


def reminder_interval(committee_id: int) -> int:
    policy = CommitteePolicy.objects.filter(committee_id=committee_id).first()
    return policy.rectification_reminder_days if policy else CommitteePolicy().rectification_reminder_days


def slot_of(task: RectificationTask, today: datetime.date, days: int) -> int:
    """Which reminder interval ``today`` is in, counted from the day the task was opened."""
    start = task.opened_on or timezone.localdate(task.created_at)
    return max(0, (today - start).days) // max(1, days)


def _task_paragraph(task: RectificationTask, today: datetime.date) -> str:
    lines = [
        _("%(branch)s — rectification task “%(title)s”") % {"branch": task.branch.name, "title": task.title},
        _("Requirement: %(requirement)s") % {"requirement": task.requirement},
    ]
    if task.deadline is not None:
        if task.deadline < today:
            lines.append(_("The deadline %(date)s has passed.") % {"date": _day(task.deadline)})
        else:
            lines.append(_("Deadline: %(date)s") % {"date": _day(task.deadline)})
    return "\n".join(lines)


def _secretaries(branch_ids: set[int]) -> dict[int, list[User]]:
    found: dict[int, list[User]] = defaultdict(list)
    rows = RoleAssignment.objects.filter(
        organization_id__in=branch_ids, role=Role.BRANCH_SECRETARY, user__is_active=True
    ).select_related("user")
    for row in rows.order_by("user_id"):
        found[row.organization_id].append(row.user)
    return found


def _overseers(committee: Organization, tasks: list[RectificationTask]) -> dict[int, list[User]]:
    """Per task: the parent reviewers above its branch; the committee's managers for a branch
    directly under the committee."""
    ancestors = {ancestor for task in tasks for ancestor in task.branch.ancestor_ids[1:-1]}
    reviewers: dict[int, list[User]] = defaultdict(list)
    for row in (
        RoleAssignment.objects.filter(
            organization_id__in=ancestors, role=Role.PARENT_REVIEWER, user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
    ):
        reviewers[row.organization_id].append(row.user)
    managers = [
        row.user
        for row in RoleAssignment.objects.filter(
            organization_id=committee.pk, role__in=COMMITTEE_MANAGERS, user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
    ]
    found = {}
    for task in tasks:
        if task.branch.parent_id == committee.pk or task.branch.parent.kind == OrgKind.COMMITTEE:
            people = managers
        else:
            people = [
                user for ancestor in task.branch.ancestor_ids[1:-1] for user in reviewers.get(ancestor, ())
            ]
        found[task.pk] = list({user.pk: user for user in people}.values())
    return found


def _notice(
    recipient: User,
    task: RectificationTask,
    *,
    kind: str,
    slot: int,
    title: str,
    paragraphs: list[str],
    year,
    quarter,
) -> Notice:
    draft = _Draft(recipient=recipient, paragraphs=[_greeting(recipient), *paragraphs])
    draft.link(
        _("Rectification task: %(title)s") % {"title": task.title},
        reverse("rectification:task_detail", args=[task.pk]),
    )
    notice = draft.notice(committee_id=task.committee_id, year=year, quarter=quarter, kind=kind, title=title)
    notice.task_id = task.pk
    notice.slot = slot
    return notice


def send_rectification_reminders(*, committee_id: int, today: datetime.date | None = None) -> int:
    """Remind who has a rectification task of the committee to finish; returns how many were new."""
    committee = Organization.objects.get(pk=committee_id, kind=OrgKind.COMMITTEE)
    today = today or timezone.localdate()
    year, quarter = quarter_of(today)
    days = reminder_interval(committee.pk)
    created = 0
    with translation.override(settings.LANGUAGE_CODE):
        tasks_of_committee = (
            RectificationTask.objects.filter(committee_id=committee.pk, status__in=RUNNING)
            .select_related("branch__parent", "owner")
            .order_by("pk")
        )
        last = 0
        while True:
            tasks = list(tasks_of_committee.filter(pk__gt=last)[:TASK_BATCH])
            if not tasks:
                break
            last = tasks[-1].pk
            created += _remind_batch(committee, tasks, today=today, days=days, year=year, quarter=quarter)
    email_notices(committee_id=committee.pk, year=year, quarter=quarter)
    return created


def _remind_batch(committee, tasks, *, today, days, year, quarter) -> int:
    existing = set(
        Notice.objects.filter(
            task_id__in=[task.pk for task in tasks], kind__in=[NoticeKind.RECT_DUE, NoticeKind.RECT_OVERDUE]
        ).values_list("recipient_id", "task_id", "kind", "slot")
    )
    secretaries = _secretaries({task.branch_id for task in tasks if task.status == TaskStatus.OPEN})
    late = [task for task in tasks if task.deadline is not None and task.deadline < today]
    overseers = _overseers(committee, late) if late else {}
    notices = []
    for task in tasks:
        if task.status == TaskStatus.OPEN:
            slot = slot_of(task, today, days)
            people = ([task.owner] if task.owner_id and task.owner.is_active else []) + secretaries.get(
                task.branch_id, []
            )
            title = _("Rectification reminder: %(branch)s — %(title)s") % {
                "branch": task.branch.name,
                "title": task.title,
            }
            for user in {user.pk: user for user in people}.values():
                if (user.pk, task.pk, NoticeKind.RECT_DUE, slot) in existing:
                    continue
                notices.append(
                    _notice(
                        user,
                        task,
                        kind=NoticeKind.RECT_DUE,
                        slot=slot,
                        title=title,
                        paragraphs=[
                            _task_paragraph(task, today),
                            _("Please rectify and report the progress with evidence on the task's page."),
                        ],
                        year=year,
                        quarter=quarter,
                    )
                )
    for task in late:
        title = _("Rectification overdue: %(branch)s — %(title)s") % {
            "branch": task.branch.name,
            "title": task.title,
        }
        for user in overseers.get(task.pk, []):
            if (user.pk, task.pk, NoticeKind.RECT_OVERDUE, 0) in existing:
                continue
            notices.append(
                _notice(
                    user,
                    task,
                    kind=NoticeKind.RECT_OVERDUE,
                    slot=0,
                    title=title,
                    paragraphs=[
                        _task_paragraph(task, today),
                        _("The branch has not finished this rectification in time; please follow it up."),
                    ],
                    year=year,
                    quarter=quarter,
                )
            )
    # The unique constraint, not the ``existing`` set, keeps a reminder single.
    Notice.objects.bulk_create(notices, batch_size=BULK_BATCH, ignore_conflicts=True)
    return len(notices)


__all__ = ["committees_with_running_tasks", "reminder_interval", "send_rectification_reminders", "slot_of"]
