"""Scoped reads of rectification: 404 outside the user's scope, 403 when the role is too low.

A task is read by whoever reaches its branch through the tree as a secretary, parent reviewer,
approver or staff (``TREE_READERS``); assessment-team reviewers hold their role on the
committee for scoring only and see no tasks.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import timeline
from branches.models import Organization, User
from branches.roles import TREE_READERS, Role
from branches.selectors import has_role_on, role_paths, role_set

from .models import RUNNING, RectificationEvent, RectificationFile, RectificationTask, TaskStatus
from .workflow import OVERSEERS


def _scope(user: User, roles) -> Q | None:
    """A filter on the task's branch path for ``roles``; None when the user reaches nothing."""
    paths = role_paths(user, roles)
    if not paths:
        return None
    query = Q()
    for path in paths:
        query |= Q(branch__path__startswith=path)
    return query


def tasks_visible_to(user: User) -> QuerySet[RectificationTask]:
    if not user.is_authenticated or not user.is_active:
        return RectificationTask.objects.none()
    if user.is_superuser:
        return RectificationTask.objects.all()
    scope = _scope(user, TREE_READERS)
    if scope is None:
        return RectificationTask.objects.none()
    return RectificationTask.objects.filter(scope)


def may_read_tasks(user: User) -> bool:
    """Whether the task list is for this user at all (else 403)."""
    return user.is_superuser or bool(role_set(user) & TREE_READERS)


def require_task_reader(user: User) -> None:
    if not may_read_tasks(user):
        raise PermissionDenied(_("Your role does not allow this action."))


def may_open_tasks(user: User) -> bool:
    return user.is_superuser or bool(role_set(user) & OVERSEERS)


def branches_to_open_for(user: User) -> QuerySet[Organization]:
    """The branches a user may open a task for by hand: those they look after."""
    from branches.selectors import branches_visible_to

    return (
        branches_visible_to(user, OVERSEERS)
        .select_related("parent")
        .order_by("order_key")  # under the parent, both by ORG_ORDER (branch_order)
    )


def get_task_for_user_or_404(user: User, pk) -> RectificationTask:
    try:
        return (
            tasks_visible_to(user)
            .select_related("branch__parent", "committee", "owner", "opened_by", "item")
            .get(pk=pk)
        )
    except (RectificationTask.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_file_for_user_or_404(user: User, pk) -> RectificationFile:
    try:
        return RectificationFile.objects.select_related("task").get(
            pk=pk, task__in=tasks_visible_to(user).values("pk")
        )
    except (RectificationFile.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def may_oversee(user: User, task: RectificationTask) -> bool:
    return any(has_role_on(user, role, task.branch) for role in OVERSEERS)


def may_report(user: User, task: RectificationTask) -> bool:
    return task.owner_id == user.pk or has_role_on(user, Role.BRANCH_SECRETARY, task.branch)


# ---------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class TaskFilters:
    state: str = ""  # a TaskStatus, "active" (default) or "all"
    overdue: bool = False
    source: str = ""
    branch: int | None = None


def filtered_tasks(user: User, filters: TaskFilters) -> QuerySet[RectificationTask]:
    tasks = tasks_visible_to(user)
    today = timezone.localdate()
    if filters.state in TaskStatus.values:
        tasks = tasks.filter(status=filters.state)
    elif filters.state != "all":
        tasks = tasks.filter(status__in=[TaskStatus.PROPOSED, TaskStatus.OPEN, TaskStatus.REPORTED])
    if filters.overdue:
        tasks = tasks.filter(status__in=RUNNING, deadline__lt=today)
    if filters.source:
        tasks = tasks.filter(source_kind=filters.source)
    if filters.branch:
        tasks = tasks.filter(branch_id=filters.branch)
    return tasks.select_related("branch__parent", "owner").order_by("-created_at", "-pk")


# ---------------------------------------------------------------------------- the home page


@dataclass(frozen=True)
class RectificationSection:
    proposed: int
    open: int
    reported: int
    overdue: int
    mine: int  # running tasks the user owns
    overdue_tasks: tuple[RectificationTask, ...]

    @property
    def any(self) -> bool:
        return bool(self.proposed or self.open or self.reported or self.overdue)


def home_section(user: User, *, show: int = 5) -> RectificationSection:
    """Counts of the tasks the user reaches and the most overdue ones (two queries at most)."""
    today = timezone.localdate()
    tasks = tasks_visible_to(user)
    running = Q(status__in=RUNNING)
    counts = tasks.aggregate(
        proposed=Count("pk", filter=Q(status=TaskStatus.PROPOSED)),
        open=Count("pk", filter=Q(status=TaskStatus.OPEN)),
        reported=Count("pk", filter=Q(status=TaskStatus.REPORTED)),
        overdue=Count("pk", filter=running & Q(deadline__lt=today)),
        mine=Count("pk", filter=running & Q(owner_id=user.pk)),
    )
    overdue = ()
    if counts["overdue"]:  # most users have none: the list is read only when there is one
        overdue = tuple(
            tasks.filter(running, deadline__lt=today)
            .select_related("branch")
            .order_by("deadline", "pk")[:show]
        )
    return RectificationSection(overdue_tasks=overdue, **counts)


# ---------------------------------------------------------------------------- the branch timeline


def action_label(action: str) -> str:
    """What a step of a task was, for its list of steps."""
    return {
        "open": _("Task opened"),
        "propose": _("Task proposed"),
        "confirm": _("Task confirmed"),
        "dismiss": _("Proposal dismissed"),
        "report": _("Progress reported"),
        "send_back": _("Sent back"),
        "accept": _("Rectification accepted"),
    }.get(action, action)


def event_title(action: str, task_title: str) -> str:
    titles = {
        "open": _("Rectification task opened: %(title)s"),
        "propose": _("Rectification task proposed: %(title)s"),
        "confirm": _("Rectification task confirmed: %(title)s"),
        "dismiss": _("Rectification proposal dismissed: %(title)s"),
        "report": _("Rectification reported: %(title)s"),
        "send_back": _("Rectification sent back: %(title)s"),
        "accept": _("Rectification accepted: %(title)s"),
    }
    return titles.get(action, "%(title)s") % {"title": task_title}


def timeline_entries(branch: Organization, user: User) -> list[timeline.TimelineEntry]:
    """The branch's task events for the branch page (one query), for those who may read its tasks."""
    if not (user.is_superuser or any(has_role_on(user, role, branch) for role in TREE_READERS)):
        return []
    events = (
        RectificationEvent.objects.filter(task__branch_id=branch.pk)
        .select_related("actor", "task")
        .order_by("-at", "-pk")[: timeline.LIMIT]
    )
    return [
        timeline.TimelineEntry(
            at=event.at,
            kind="rectification",
            title=event_title(event.action, event.task.title),
            detail=event.note[:300],
            actor=event.actor.display_name if event.actor_id else "",
            url=reverse("rectification:task_detail", args=[event.task_id]),
        )
        for event in events
    ]


__all__ = [
    "TaskFilters",
    "action_label",
    "branches_to_open_for",
    "filtered_tasks",
    "get_file_for_user_or_404",
    "get_task_for_user_or_404",
    "home_section",
    "may_open_tasks",
    "may_oversee",
    "may_read_tasks",
    "may_report",
    "require_task_reader",
    "tasks_visible_to",
    "timeline_entries",
]
