"""A finding of a visit opens a rectification task in one step, linked to the visit."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from rectification.models import RectificationTask, SourceKind, TaskStatus
from supervision.models import VisitAction
from supervision.services.visits import open_task_from_finding

from .helpers import visit

pytestmark = pytest.mark.django_db


def _open(world, made, actor):
    return open_task_from_finding(
        visit=made,
        actor=actor,
        title="整改三会一课记录",
        requirement="补齐近三个月的会议记录。",
        owner=world.secretary,
        deadline=datetime.date.today() + datetime.timedelta(days=30),
    )


def test_a_finding_opens_a_task_linked_to_the_visit(world):
    made = visit(world)
    task = _open(world, made, world.reviewers[0])
    assert task.status == TaskStatus.OPEN
    assert (task.source_kind, task.source, task.branch, task.committee, task.owner) == (
        SourceKind.SUPERVISION,
        made,
        world.branch,
        world.committee,
        world.secretary,
    )
    assert made.events.filter(action=VisitAction.TASK_OPENED).count() == 1


def test_the_visit_page_links_the_task(client, world):
    made = visit(world)
    task = _open(world, made, world.approver)
    client.force_login(world.secretary)
    page = client.get(reverse("supervision:visit_detail", args=[made.pk]))
    assert page.status_code == 200
    assert [t.pk for t in page.context["tasks"]] == [task.pk]
    assert task.title in page.content.decode()


def test_the_task_is_opened_through_the_page(client, world):
    made = visit(world)
    client.force_login(world.reviewers[0])
    url = reverse("supervision:visit_open_task", args=[made.pk])
    form = client.get(url).context["form"]
    assert form.initial["owner"] == world.secretary.pk and form.initial["requirement"] == made.findings
    response = client.post(
        url,
        {
            "title": "整改",
            "requirement": "补齐记录",
            "owner": world.secretary.pk,
            "deadline": (datetime.date.today() + datetime.timedelta(days=10)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert RectificationTask.objects.get().source == made


def test_a_bad_deadline_keeps_what_was_typed(client, world):
    made = visit(world)
    client.force_login(world.reviewers[0])
    response = client.post(
        reverse("supervision:visit_open_task", args=[made.pk]),
        {
            "title": "整改标题",
            "requirement": "补齐记录",
            "owner": world.secretary.pk,
            "deadline": "2000-01-01",
        },
    )
    assert response.status_code == 400
    assert "整改标题" in response.content.decode()
    assert not RectificationTask.objects.exists()


def test_a_member_who_did_not_go_may_not_open_a_task(world):
    made = visit(world)
    with pytest.raises(PermissionDenied):
        _open(world, made, world.reviewers[1])
