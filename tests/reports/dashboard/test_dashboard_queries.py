"""The dashboard runs a fixed number of queries whatever the size of the committee."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.roles import Role
from reports.figures import dashboard_figures
from tests.factories import make_sized_committee, make_user

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 7)


def sized(prefix: str, size: int):
    committee = make_sized_committee(prefix, size, party_committees=4)
    staff = make_user(f"{prefix}staff", "党务", roles=[(Role.STAFF, committee.committee)])
    return committee, staff


def test_the_figures_run_as_many_queries_for_200_branches_as_for_10():
    small, _staff = sized("S", 10)
    large, _staff = sized("L", 200)
    counts = []
    for committee in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            data = dashboard_figures(scope=committee.committee, today=TODAY)
        counts.append(len(ctx.captured_queries))
        assert data["stars"]["totals"]["branches"] == len(committee.branches)
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    "name", ["reports:dashboard", "reports:dashboard_branches", "reports:dashboard_screen"]
)
def test_the_pages_run_as_many_queries_for_200_branches_as_for_10(client, name, django_assert_num_queries):
    small, small_staff = sized("S", 10)
    large, large_staff = sized("L", 200)
    client.force_login(small_staff)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse(name, args=[small.committee.pk])).status_code == 200
    client.force_login(large_staff)
    with django_assert_num_queries(len(ctx.captured_queries)):
        assert client.get(reverse(name, args=[large.committee.pk])).status_code == 200
