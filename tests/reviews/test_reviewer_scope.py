"""A reviewer's pages start from the reviewer's own assignments and still keep to their committee.

The score sheet, the assigned list, the home page's section and the assessment page a
reviewer reads all begin at ``ReviewerAssignment.reviewer``; the committee check is a literal
path prefix from the user's roles, read once per request. An assignment outside the
reviewer's committee (never made by the services, slipped in here by hand) or one whose
team role has since been removed is out of scope: 404, not listed.
"""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches import selectors as scoping
from branches.models import RoleAssignment
from branches.roles import Role
from reviews.models import AssessmentStatus, ReviewerAssignment
from reviews.selectors import get_assignment_for_reviewer_or_404, own_assignments, reviewer_section
from reviews.services.appeals import assign_appeal_reviewers
from tests.factories import make_assessment, make_cycle, make_user
from tests.reviews.test_appeals import accepted
from tests.reviews.test_appeals import published as published  # a fixture

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def cycle(world, default_standard):
    return make_cycle(world.committee, standard=default_standard, opened_by=world.approver)


@pytest.fixture
def mine(world, cycle):
    """李明's assignment on 教育局第一党支部, in scoring."""
    assessment = make_assessment(cycle, world.branch, status=AssessmentStatus.SCORING)
    return ReviewerAssignment.objects.create(
        assessment=assessment, reviewer=world.reviewers[0], assigned_by=world.approver
    )


@pytest.fixture
def foreign(world, default_standard):
    """An assignment of 李明 on a branch of the other committee, where he holds no role."""
    other_cycle = make_cycle(
        world.other_committee, name="区直2025年度", standard=default_standard, opened_by=world.other_approver
    )
    assessment = make_assessment(other_cycle, world.other_branch, status=AssessmentStatus.SCORING)
    return ReviewerAssignment.objects.create(
        assessment=assessment, reviewer=world.reviewers[0], assigned_by=world.other_approver
    )


def test_an_assignment_outside_the_committee_is_not_listed_and_is_404(client, world, mine, foreign):
    reviewer = world.reviewers[0]
    client.force_login(reviewer)

    listed = client.get(reverse("reviews:my_assignments") + "?cycle=all", **ENGLISH)
    home = client.get(reverse("home"), **ENGLISH)

    assert listed.status_code == 200
    assert [a.pk for a in listed.context["page"]] == [mine.pk]
    assert "区第一党支部" not in listed.text and "教育局第一党支部" in listed.text
    assert [c.pk for c in listed.context["cycles"]] == [mine.assessment.cycle_id]
    assert "区第一党支部" not in home.text
    assert client.get(reverse("reviews:score", args=[mine.assessment_id])).status_code == 200
    assert client.get(reverse("reviews:score", args=[foreign.assessment_id])).status_code == 404
    assert client.get(reverse("reviews:assessment_detail", args=[foreign.assessment_id])).status_code == 404
    assert client.get(reverse("reviews:assessment_detail", args=[mine.assessment_id])).status_code == 200


def test_removing_the_team_role_takes_the_assignments_out_of_scope(world, mine):
    reviewer = world.reviewers[0]
    assert list(own_assignments(reviewer)) == [mine]

    RoleAssignment.objects.filter(user=reviewer, role=Role.ASSESSMENT_REVIEWER).delete()
    reviewer = type(reviewer).objects.get(pk=reviewer.pk)  # a new request loads the user anew

    assert not own_assignments(reviewer).exists()
    assert reviewer_section(reviewer)["assignments"] == []
    with pytest.raises(Http404):
        get_assignment_for_reviewer_or_404(reviewer, mine.assessment_id)


def test_another_reviewers_sheet_stays_404(client, world, mine):
    client.force_login(world.reviewers[1])

    assert client.get(reverse("reviews:score", args=[mine.assessment_id])).status_code == 404


# Not "page": that name is pytest-playwright's fixture, and would pull this test among the browser tests.
@pytest.mark.parametrize("which", ["list", "sheet"])
def test_reviewer_pages_read_the_roles_once_and_scan_no_tree(client, world, mine, which):
    client.force_login(world.reviewers[0])
    url = (
        reverse("reviews:my_assignments")
        if which == "list"
        else reverse("reviews:score", args=[mine.assessment_id])
    )

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200

    sql = [q["sql"] for q in ctx.captured_queries]
    role_reads = [s for s in sql if "branches_roleassignment" in s]
    assert len(role_reads) == 1, role_reads
    # No path-prefix semi-join over the organizations: scope is a literal prefix on the row's branch.
    assert not [s for s in sql if "EXISTS" in s.upper() and "branches_organization" in s]


def test_the_role_cache_answers_every_check_of_a_request(world, django_assert_num_queries):
    approver = type(world.approver).objects.get(pk=world.approver.pk)
    with django_assert_num_queries(1):
        assert Role.COMMITTEE_APPROVER in scoping.role_set(approver)
        assert scoping.has_role_on(approver, Role.COMMITTEE_APPROVER, world.branch)
        assert not scoping.has_role_on(approver, Role.COMMITTEE_APPROVER, world.other_branch)
        assert not scoping.has_role_on(approver, Role.STAFF, world.branch)
        assert scoping.role_paths(approver, [Role.COMMITTEE_APPROVER]) == [world.committee.path]


@pytest.mark.usefixtures("english")
def test_a_re_reviewer_lists_and_re_scores_their_appeal_only_while_on_the_team(client, world, published):
    appeal = accepted(world, published)
    second, third = world.reviewers[1:]
    assign_appeal_reviewers(appeal=appeal, actor=world.approver, reviewers=[second, third])
    bystander = make_user("qianjin", "钱进", roles=((Role.ASSESSMENT_REVIEWER, world.committee),))
    client.force_login(second)

    assert [a.pk for a in client.get(reverse("reviews:appeal_list")).context["page"]] == [appeal.pk]
    assert client.get(reverse("reviews:appeal_score", args=[appeal.pk])).status_code == 200
    client.force_login(bystander)  # on the team, not a re-reviewer of this appeal
    assert list(client.get(reverse("reviews:appeal_list")).context["page"]) == []
    assert client.get(reverse("reviews:appeal_score", args=[appeal.pk])).status_code == 404

    # Moved to the other committee's team: the appeal of this committee is out of scope.
    RoleAssignment.objects.filter(user=second, role=Role.ASSESSMENT_REVIEWER).update(
        organization=world.other_committee
    )
    client.force_login(second)
    assert list(client.get(reverse("reviews:appeal_list")).context["page"]) == []
    assert client.get(reverse("reviews:appeal_score", args=[appeal.pk])).status_code == 404
    # The committee still lists it, whoever re-scores it.
    client.force_login(world.approver)
    assert [a.pk for a in client.get(reverse("reviews:appeal_list")).context["page"]] == [appeal.pk]
