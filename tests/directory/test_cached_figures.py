"""Committee-wide figures kept in the cache (``branches.selectors.cached_figures``): the organization
tree's counts and the committee dashboard on the home page are counted once, and counted again
as soon as a star, a status or the tree changes, or the day turns."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.services.organizations import save_organization
from reviews.models import AssessmentStatus
from reviews.services.decision import downgrade_branch, revoke_branch
from tests.factories import certify_branch, make_assessment, make_branch, make_cycle

pytestmark = pytest.mark.django_db


def tree(client):
    with CaptureQueriesContext(connection) as queries:
        nodes = client.get(reverse("directory:org_tree")).context["nodes"]
    return {node.org.code: node for node in nodes}, len(queries)


def test_the_tree_counts_once_then_reads_the_cache(client, world):
    certify_branch(world, world.branch, 5)
    client.force_login(world.staff)
    first, first_queries = tree(client)
    second, second_queries = tree(client)
    assert first["C1"].star_counts == second["C1"].star_counts == {5: 1}
    assert second["C1"].branch_count == first["C1"].branch_count == 4
    # The two counts over every branch are not asked again.
    assert second_queries == first_queries - 2


def test_a_downgrade_or_a_revocation_shows_at_once(client, world):
    certify_branch(world, world.branch, 5)
    client.force_login(world.staff)
    assert tree(client)[0]["P1"].star_counts == {5: 1}
    downgrade_branch(
        branch=world.branch, actor=world.approver, to_stars=3, reason="整改不到位", violation="组织生活不规范"
    )
    assert tree(client)[0]["P1"].star_counts == {3: 1}
    revoke_branch(branch=world.branch, actor=world.approver, reason="严重违纪", violation="违反纪律")
    nodes = tree(client)[0]
    assert nodes["P1"].star_counts == {} and nodes["P1"].unrated == 2


def test_a_new_branch_and_a_new_certificate_show_at_once(client, world):
    client.force_login(world.staff)
    assert tree(client)[0]["P2"].branch_count == 1
    newcomer = make_branch("卫健委第二党支部", "B5", parent=world.second_party_committee)
    assert tree(client)[0]["P2"].branch_count == 2
    certify_branch(world, newcomer, 4)  # written outside the services: the certificate's own signal
    assert tree(client)[0]["P2"].star_counts == {4: 1}
    newcomer.is_active = False
    save_organization(org=newcomer)
    assert tree(client)[0]["P2"].branch_count == 1


def test_a_certificate_lapses_when_the_day_turns(client, world, monkeypatch):
    certificate = certify_branch(world, world.branch, 5)
    client.force_login(world.staff)
    assert tree(client)[0]["P1"].star_counts == {5: 1}
    tomorrow = certificate.valid_until + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    assert tree(client)[0]["P1"].star_counts == {}


def test_two_staff_of_different_scopes_never_share_figures(client, world):
    from branches.roles import Role
    from tests.factories import make_user

    certify_branch(world, world.cousin_branch, 4)
    client.force_login(world.staff)
    assert tree(client)[0]["C1"].star_counts == {4: 1}
    local = make_user("jiaoyu", roles=((Role.STAFF, world.party_committee),))
    client.force_login(local)
    nodes = tree(client)[0]
    assert set(nodes) == {"P1"} and nodes["P1"].star_counts == {}


def test_the_committee_dashboard_follows_a_status_move(client, world):
    cycle = make_cycle(world.committee, opened_by=world.approver, name="本期")
    assessment = make_assessment(cycle, world.branch, status=AssessmentStatus.FORWARDED)
    client.force_login(world.approver)

    def unassigned():
        return client.get(reverse("home")).context["sections"]["committee"].unassigned

    assert unassigned() == 1
    assert unassigned() == 1  # from the cache
    from reviews.services.scoring import assign_reviewers

    assign_reviewers(assessment=assessment, actor=world.approver, reviewers=list(world.reviewers))
    assert unassigned() == 0


def test_without_a_shared_cache_the_figures_are_counted_every_time(client, world, settings):
    """A local-memory cache is each process's own: a change made in one would leave the others'
    figures stale, so without CACHE_URL (CACHE_FIGURES false) nothing is kept."""
    settings.CACHE_FIGURES = False
    certify_branch(world, world.branch, 5)
    client.force_login(world.staff)
    _first, first_queries = tree(client)
    second, second_queries = tree(client)
    assert second_queries == first_queries and second["C1"].star_counts == {5: 1}
