"""The pages of rectification: list scoped by role, filters, export, the task page, each step."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from rectification.models import RectificationTask, TaskStatus
from rectification.services import report_progress
from tests.factories import make_sized_committee, make_user
from tests.rectification.helpers import certified, manual_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "private_media")]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def titles(response):
    return sorted(task.title for task in response.context["page"].object_list)


@pytest.fixture
def tasks(world):
    return {
        "own": manual_task(world, title="本支部"),
        "sibling": manual_task(
            world, branch=world.sibling_branch, owner=world.sibling_secretary, title="兄弟支部"
        ),
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("secretary", ["本支部"]),
        ("sibling_secretary", ["兄弟支部"]),
        ("parent_reviewer", ["兄弟支部", "本支部"]),
        ("approver", ["兄弟支部", "本支部"]),
        ("staff", ["兄弟支部", "本支部"]),
        ("other_approver", []),
    ],
)
def test_the_list_shows_each_role_its_own_scope(client, world, tasks, who, expected):
    client.force_login(world.people[who])
    response = client.get(reverse("rectification:task_list"))
    assert response.status_code == 200
    assert titles(response) == sorted(expected)


@pytest.mark.parametrize("who", ["reviewer1", "outsider"])
def test_the_list_is_refused_to_roles_without_tasks(client, world, who):
    client.force_login(world.people[who])
    assert client.get(reverse("rectification:task_list")).status_code == 403


def test_the_list_filters_overdue_and_shows_them_red(client, world, tasks):
    late = tasks["own"]
    RectificationTask.objects.filter(pk=late.pk).update(
        deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    client.force_login(world.parent_reviewer)
    response = client.get(reverse("rectification:task_list"), {"overdue": "1"})
    assert titles(response) == ["本支部"]
    assert b"rect-overdue" in response.content
    response = client.get(reverse("rectification:task_list"), {"source": "downgrade"})
    assert titles(response) == []


def test_the_export_has_the_lists_rows_as_data(client, world, tasks):
    RectificationTask.objects.filter(pk=tasks["own"].pk).update(title='=HYPERLINK("x")')
    client.force_login(world.parent_reviewer)
    response = client.get(reverse("rectification:task_list_export"))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert "兄弟支部" in [cell.value for cell in cells]
    link = next(cell for cell in cells if cell.value == '=HYPERLINK("x")')
    assert link.data_type == "s" and all(cell.data_type != "f" for cell in cells)


def test_outside_the_scope_a_task_is_404(client, world, tasks):
    client.force_login(world.sibling_secretary)
    assert client.get(reverse("rectification:task_detail", args=[tasks["own"].pk])).status_code == 404
    client.force_login(world.other_approver)
    assert client.get(reverse("rectification:task_detail", args=[tasks["own"].pk])).status_code == 404


def test_the_secretary_reports_with_a_file_and_the_parent_reviewer_sends_back_then_accepts(
    client, world, tasks
):
    task = tasks["own"]
    client.force_login(world.secretary)
    page = client.get(reverse("rectification:task_detail", args=[task.pk]))
    assert reverse("rectification:task_report", args=[task.pk]).encode() in page.content
    response = client.post(
        reverse("rectification:task_report", args=[task.pk]),
        {
            "text": "已补齐记录",
            "files": [SimpleUploadedFile("记录.pdf", PDF, content_type="application/pdf")],
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.REPORTED
    file = task.files.get()
    download = client.get(reverse("rectification:task_file", args=[file.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF

    client.force_login(world.parent_reviewer)
    response = client.post(reverse("rectification:task_send_back", args=[task.pk]), {"reason": ""})
    assert response.status_code == 400
    response = client.post(reverse("rectification:task_send_back", args=[task.pk]), {"reason": "不完整"})
    assert response.status_code == 302
    report_progress(task=task, actor=world.secretary, text="再次补齐")
    response = client.post(reverse("rectification:task_accept", args=[task.pk]), {"note": ""})
    assert response.status_code == 400  # the confirmation box is not ticked
    response = client.post(reverse("rectification:task_accept", args=[task.pk]), {"confirm": "on"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    page = client.get(reverse("rectification:task_detail", args=[task.pk]))
    for action in ("open", "report", "send_back", "accept"):
        assert f'data-action="{action}"'.encode() in page.content


def test_a_bad_report_keeps_what_was_typed(client, world, tasks):
    client.force_login(world.secretary)
    response = client.post(
        reverse("rectification:task_report", args=[tasks["own"].pk]),
        {
            "text": "我写的整改说明",
            "files": [SimpleUploadedFile("a.pdf", b"<html></html>", content_type="application/pdf")],
        },
    )
    assert response.status_code == 400
    assert "我写的整改说明" in response.content.decode()


def test_the_parent_reviewer_opens_a_task_by_hand_for_the_branch_secretary(client, world):
    client.force_login(world.parent_reviewer)
    assert client.get(reverse("rectification:task_new"), {"branch": world.branch.pk}).status_code == 200
    response = client.post(
        reverse("rectification:task_new"),
        {
            "branch": world.branch.pk,
            "title": "党费收缴",
            "requirement": "按月收缴",
            "deadline": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
        },
    )
    assert response.status_code == 302
    task = RectificationTask.objects.get()
    assert task.owner == world.secretary and task.opened_by == world.parent_reviewer


def test_a_downgrade_through_the_branch_page_opens_a_task_shown_on_the_timeline(client, world):
    certified(world)
    client.force_login(world.approver)
    response = client.post(
        reverse("reviews:branch_downgrade", args=[world.branch.pk]),
        {"to_stars": 3, "violation": "违反组织纪律", "reason": "多次缺席", "confirm": "on"},
        follow=True,
    )
    task = RectificationTask.objects.get()
    text = response.content.decode()
    assert task.title in text
    assert reverse("rectification:task_detail", args=[task.pk]) in text


def test_home_shows_the_rectification_counts_and_overdue_in_red(client, world, tasks):
    RectificationTask.objects.filter(pk=tasks["own"].pk).update(
        deadline=timezone.localdate() - datetime.timedelta(days=2)
    )
    for who in ("secretary", "parent_reviewer", "approver"):
        client.force_login(world.people[who])
        content = client.get(reverse("home")).content.decode()
        assert 'id="sec-rectification"' in content
        assert "rect-home-overdue" in content
    client.force_login(world.reviewers[0])
    assert 'id="sec-rectification"' not in client.get(reverse("home")).content.decode()


def _tasks_for(count: int, prefix: str):
    sized = make_sized_committee(prefix, count, party_committees=2)
    reviewer = make_user(f"{prefix}_p", roles=(("parent_reviewer", sized.party_committees[0]),))
    approver = make_user(f"{prefix}_a", roles=(("committee_approver", sized.committee),))
    deadline = timezone.localdate() + datetime.timedelta(days=5)
    RectificationTask.objects.bulk_create(
        RectificationTask(
            committee=sized.committee,
            branch=branch,
            title=f"任务{i}",
            requirement="r",
            deadline=deadline if i % 2 else timezone.localdate() - datetime.timedelta(days=1),
            source_kind="manual",
            status=TaskStatus.OPEN,
        )
        for i, branch in enumerate(sized.branches)
    )
    return reviewer, approver


@pytest.mark.parametrize("who", [0, 1])
def test_the_list_and_home_run_the_same_queries_at_10_and_200_tasks(client, django_assert_num_queries, who):
    small = _tasks_for(10, "QS")[who]
    large = _tasks_for(200, "QL")[who]
    counts = []
    for user in (small, large):
        client.force_login(user)
        for url in (reverse("rectification:task_list"), reverse("home")):
            client.get(url)  # warm the session and caches
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as listed:
            assert client.get(reverse("rectification:task_list")).status_code == 200
        with CaptureQueriesContext(connection) as home:
            assert client.get(reverse("home")).status_code == 200
        counts.append((len(listed), len(home)))
    assert counts[0] == counts[1]
    with django_assert_num_queries(counts[1][0]):
        client.get(reverse("rectification:task_list"))
