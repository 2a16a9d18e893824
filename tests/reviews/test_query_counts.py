"""List pages run the same number of queries with 10 and with 200 branches."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.roles import Role
from reviews.models import Assessment, AssessmentStatus, ReviewerAssignment
from tests.factories import make_sized_committee, make_user, open_default_cycle

pytestmark = pytest.mark.django_db


def build(n: int, prefix: str) -> dict:
    """A committee with ``n`` branches in every stage of the cycle, and one user per role."""
    sized = make_sized_committee(prefix, n)
    committee, (parent,) = sized.committee, sized.party_committees

    def user(role, org):
        return make_user(f"{prefix}-{role}", role, roles=((role, org),))

    people = {
        "approver": user(Role.COMMITTEE_APPROVER, committee),
        "staff": user(Role.STAFF, committee),
        "reviewer": user(Role.ASSESSMENT_REVIEWER, committee),
        "parent": user(Role.PARENT_REVIEWER, parent),
    }
    day = datetime.date(2026, 11, 1)
    cycle = open_default_cycle(
        committee,
        people["approver"],
        name="本年度星级认定",
        self_assessment_deadline=day,
        preliminary_deadline=day + datetime.timedelta(days=10),
        scoring_deadline=day + datetime.timedelta(days=20),
    )
    # Test set-up only: spread the assessments over the states the pages list.
    states = [
        AssessmentStatus.SUBMITTED,
        AssessmentStatus.SCORING,
        AssessmentStatus.SCORED,
        AssessmentStatus.DRAFT,
    ]
    assessments = list(cycle.assessments.order_by("pk"))
    for i, a in enumerate(assessments):
        Assessment.objects.filter(pk=a.pk).update(status=states[i % len(states)])
    ReviewerAssignment.objects.bulk_create(
        ReviewerAssignment(
            assessment=a, cycle_id=a.cycle_id, reviewer=people["reviewer"], assigned_by=people["approver"]
        )
        for i, a in enumerate(assessments)
        if states[i % len(states)] in (AssessmentStatus.SCORING, AssessmentStatus.SCORED)
    )
    return {"cycle": cycle, **people}


PAGES = [
    ("approver", lambda w: reverse("reviews:cycle_list")),
    ("approver", lambda w: reverse("reviews:cycle_detail", args=[w["cycle"].pk])),
    ("staff", lambda w: reverse("reviews:team_overview", args=[w["cycle"].pk])),
    ("approver", lambda w: reverse("reviews:cycle_decisions", args=[w["cycle"].pk])),
    ("approver", lambda w: reverse("reviews:cycle_publicity", args=[w["cycle"].pk])),
    ("reviewer", lambda w: reverse("reviews:my_assignments")),
    ("parent", lambda w: reverse("reviews:preliminary_queue")),
    ("approver", lambda w: reverse("home")),
    ("parent", lambda w: reverse("home")),
    ("reviewer", lambda w: reverse("home")),
]


def count(client, world, who, url_of) -> int:
    client.force_login(world[who])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url_of(world))
    assert response.status_code == 200, url_of(world)
    return len(ctx.captured_queries)


def test_list_pages_run_a_fixed_number_of_queries_with_10_and_200_branches(client):
    small, large = build(10, "S"), build(200, "L")
    differing = []
    for who, url_of in PAGES:
        few, many = count(client, small, who, url_of), count(client, large, who, url_of)
        if few != many:
            differing.append(f"{url_of(small)} as {who}: {few} queries with 10 branches, {many} with 200")
    assert not differing, "\n".join(differing)
