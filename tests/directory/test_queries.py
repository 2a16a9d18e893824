"""The directory's lists cost the same number of queries for 10 branches or people as for 50."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.roles import Role
from reviews.models import AssessmentStatus, CycleStatus
from tests.factories import (
    make_assessment,
    make_branch,
    make_certificate,
    make_cycle,
    make_party_committee,
    make_sized_committee,
    make_user,
)

pytestmark = pytest.mark.django_db


def grow(world, start: int, count: int) -> None:
    """``count`` more branches (each certified, each with a secretary) under new party committees."""
    cycle = make_cycle(
        world.committee, opened_by=world.approver, name=f"认定{start}", status=CycleStatus.CLOSED
    )
    parent = make_party_committee(f"增设党委{start}", f"GP{start}", parent=world.committee)
    for i in range(start, start + count):
        branch = make_branch(f"增设第{i}党支部", f"GB{i}", parent=parent)
        make_certificate(
            make_assessment(cycle, branch, status=AssessmentStatus.CERTIFIED, stars=1 + i % 5),
            stars=1 + i % 5,
            issued_at=timezone.now(),
            valid_until=timezone.localdate() + datetime.timedelta(days=365),
        )
        make_user(f"shuji{i}", f"书记{i}", roles=((Role.BRANCH_SECRETARY, branch),))


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("directory:org_tree", ()),
        ("directory:person_list", ()),
        ("directory:search", ()),
    ],
)
def test_a_list_costs_the_same_for_10_and_50_rows(client, world, django_assert_num_queries, name, args):
    client.force_login(world.staff)
    url = reverse(name, args=args) + ("?q=增设" if name == "directory:search" else "")
    grow(world, 0, 10)
    with CaptureQueriesContext(connection) as ten:
        assert client.get(url).status_code == 200
    grow(world, 100, 40)
    with django_assert_num_queries(len(ten.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200


def test_an_organizations_branch_list_costs_the_same_for_10_and_50_branches(
    client, world, django_assert_num_queries
):
    sized = make_sized_committee("Q", 10, party_committees=2)
    staff = make_user("qstaff", roles=((Role.STAFF, sized.committee),))
    client.force_login(staff)
    url = reverse("directory:org_detail", args=[sized.committee.pk])
    with CaptureQueriesContext(connection) as ten:
        assert client.get(url).status_code == 200
    for i in range(10, 50):
        make_branch(f"Q第{i}党支部", f"QB{i}", parent=sized.party_committees[i % 2])
    with django_assert_num_queries(len(ten.captured_queries)):
        response = client.get(url)
    assert response.context["page"].paginator.count == 50
    assert response.context["top"].branch_count == 50
