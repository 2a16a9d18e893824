"""The home page "我的工作" per role, and its fixed query count."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.roles import Role
from tests.factories import make_sized_committee, make_user, open_default_cycle


def build(n_branches: int, prefix: str = "H"):
    """A committee of ``n_branches`` branches with a cycle open, and one user holding every role in it."""
    sized = make_sized_committee(prefix, n_branches)
    committee, (parent,) = sized.committee, sized.party_committees
    user = make_user(
        f"everyone-{prefix}",
        "全角色",
        roles=(
            *((Role.BRANCH_SECRETARY, branch) for branch in sized.branches[:2]),
            (Role.PARENT_REVIEWER, parent),
            *((role, committee) for role in (Role.ASSESSMENT_REVIEWER, Role.COMMITTEE_APPROVER, Role.STAFF)),
        ),
    )
    today = datetime.date(2026, 11, 1)
    open_default_cycle(
        committee,
        user,
        name="本年度星级认定",
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
