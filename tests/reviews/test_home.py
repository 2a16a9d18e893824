"""The home page "我的工作" per role, and its fixed query count."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization
from reviews.services.cycles import open_cycle
from scoring.models import Standard


def build(n_branches: int, prefix: str = "H"):
    committee = create_organization(name="测试工委", code=f"{prefix}C", kind=OrgKind.COMMITTEE)
    parent = create_organization(
        name="测试党委", code=f"{prefix}P", kind=OrgKind.PARTY_COMMITTEE, parent=committee
    )
    branches = [
        create_organization(name=f"第{i}党支部", code=f"{prefix}B{i}", kind=OrgKind.BRANCH, parent=parent)
        for i in range(n_branches)
    ]
    user = User.objects.create_user(f"everyone-{prefix}", password="x-unused-x", real_name="全角色")
    for branch in branches[:2]:
        assign_role(user=user, role=Role.BRANCH_SECRETARY, organization=branch)
    assign_role(user=user, role=Role.PARENT_REVIEWER, organization=parent)
    for role in (Role.ASSESSMENT_REVIEWER, Role.COMMITTEE_APPROVER, Role.STAFF):
        assign_role(user=user, role=role, organization=committee)
    today = datetime.date(2026, 11, 1)
    open_cycle(
        committee=committee,
        actor=user,
        name="本年度星级认定",
        standard=Standard.objects.get(status="published"),
        self_assessment_deadline=today,
        preliminary_deadline=today + datetime.timedelta(days=10),
        scoring_deadline=today + datetime.timedelta(days=20),
    )
    return user


def home_queries(client, n_branches: int, prefix: str) -> tuple[int, str]:
    user = build(n_branches, prefix)
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


@pytest.mark.django_db
def test_home_runs_the_same_number_of_queries_with_10_and_200_branches(client):
    small, small_html = home_queries(client, 10, "S")
    large, large_html = home_queries(client, 200, "L")
    assert small == large
    assert "本年度星级认定" in small_html and "本年度星级认定" in large_html


@pytest.mark.django_db
def test_home_shows_each_role_its_section(client):
    user = build(3)
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    for heading in ("我的党支部", "初审", "考核打分", "概况", "星级分布"):
        assert heading in html, heading
    assert "未开始" in html  # the secretary's assessment state
    assert reverse("reviews:preliminary_queue") in html
    assert reverse("reviews:my_assignments") in html
