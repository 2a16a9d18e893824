"""Assessment-team scoring (考核组打分): assignment, conflicts, blind scoring, consolidation, revision."""

from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.errors import WorkflowError
from branches.models import Organization
from branches.roles import Role
from branches.services.organizations import assign_role
from reviews.models import (
    Assessment,
    AssessmentStatus,
    ReviewerAssignment,
    ReviewScore,
)
from reviews.selectors import scoring_summary
from reviews.services.scoring import (
    assign_reviewers,
    auto_assign,
    revise_scores,
    save_draft_scores,
    submit_scores,
)
from scoring.arithmetic import ScoreEntry, disagreement_limit, is_disagreement, majority_applies
from tests.factories import items_by_code, make_branch, make_cycle, make_submitted_assessment, make_user

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def items(default_standard):
    return items_by_code(default_standard)


@pytest.fixture
def branches(world) -> dict[str, list[Organization]]:
    """Four branches under P1 and three under P2: the world's, and two more under each."""
    p1, p2 = world.party_committee, world.second_party_committee
    return {
        "P1": [
            world.branch,
            world.sibling_branch,
            make_branch("教育局第三党支部", "B5", parent=p1),
            make_branch("教育局第四党支部", "B6", parent=p1),
        ],
        "P2": [
            world.cousin_branch,
            make_branch("卫健委第二党支部", "B7", parent=p2),
            make_branch("卫健委第三党支部", "B8", parent=p2),
        ],
    }


@pytest.fixture
def reviewers(world):
    """Five assessment-team members without any other role: the world's three and two more."""
    team = ((Role.ASSESSMENT_REVIEWER, world.committee),)
    return [
        *world.reviewers,
        make_user("qianjin", "钱进", roles=team),
        make_user("sunli", "孙丽", roles=team),
    ]


@pytest.fixture
def conflicted(world):
    """The preliminary reviewer of 市教育局机关党委, who also joins the assessment team."""
    assign_role(user=world.parent_reviewer, role=Role.ASSESSMENT_REVIEWER, organization=world.committee)
    return world.parent_reviewer


@pytest.fixture
def cycle(world, default_standard):
    return make_cycle(
        world.committee, name="2025年度星级评定", standard=default_standard, opened_by=world.approver
    )


def forwarded_assessment(cycle, branch, secretary, status=AssessmentStatus.FORWARDED) -> Assessment:
    """An assessment past the secretary's part, with full self-scores and one round."""
    recommendation = "建议评为五星" if status != AssessmentStatus.SUBMITTED else ""
    return make_submitted_assessment(cycle, branch, secretary, status=status, recommendation=recommendation)


@pytest.fixture
def forwarded(cycle, world):
    return forwarded_assessment(cycle, world.branch, world.secretary)


def sheet(items, **overrides) -> dict[int, ScoreEntry]:
    """Full marks everywhere except ``overrides``: code with dots as underscores → (score, comment)."""
    entries = {item.pk: ScoreEntry(item.max_score, "") for item in items.values()}
    for key, (score, comment) in overrides.items():
        item = items[key.replace("_", ".")]
        entries[item.pk] = ScoreEntry(None if score is None else Decimal(score), comment)
    return entries


def assigned(assessment, approver, users) -> list[ReviewerAssignment]:
    assign_reviewers(assessment=assessment, actor=approver, reviewers=users)
    return [ReviewerAssignment.objects.get(assessment=assessment, reviewer=user) for user in users]


# ---------------------------------------------------------------------------- assigning


def test_committee_assigns_reviewers_by_hand(world, forwarded, reviewers):
    assign_reviewers(assessment=forwarded, actor=world.approver, reviewers=reviewers[:3])

    forwarded.refresh_from_db()
    assert forwarded.status == AssessmentStatus.SCORING
    assert set(forwarded.assignments.values_list("reviewer_id", flat=True)) == {u.pk for u in reviewers[:3]}
    event = forwarded.events.get()
    assert (event.action, event.from_status, event.to_status) == ("assign", "forwarded", "scoring")


def test_the_overview_counts_follow_an_assignment_at_once(client, world, cycle, reviewers):
    """The overview's counts come from the cycle's status counts, kept in the cache: they follow
    every status move, and the pager counts what each tab lists."""
    first = forwarded_assessment(cycle, world.branch, world.secretary)
    forwarded_assessment(cycle, world.sibling_branch, world.sibling_secretary)
    url = reverse("reviews:team_overview", args=[cycle.pk])
    client.force_login(world.approver)

    def shown(tab):
        context = client.get(url, {"show": tab}).context
        return context["unassigned"], context["page"].paginator.count, len(context["page"].object_list)

    assert shown("all") == (2, 2, 2) and shown("unassigned") == (2, 2, 2) and shown("scoring") == (2, 0, 0)
    assign_reviewers(assessment=first, actor=world.approver, reviewers=reviewers[:3])
    assert shown("all") == (1, 2, 2) and shown("unassigned") == (1, 1, 1) and shown("scoring") == (1, 1, 1)


def test_scoring_before_forwarding_is_refused(world, cycle, reviewers, items):
    assessment = forwarded_assessment(cycle, world.branch, world.secretary, status=AssessmentStatus.SUBMITTED)

    with pytest.raises(WorkflowError):
        assign_reviewers(assessment=assessment, actor=world.approver, reviewers=reviewers[:3])
    # Even an assignment slipped in some other way cannot be scored before forwarding.
    assignment = ReviewerAssignment.objects.create(
        assessment=assessment, reviewer=reviewers[0], assigned_by=world.approver
    )
    with pytest.raises(WorkflowError):
        submit_scores(assignment=assignment, actor=reviewers[0], entries=sheet(items))

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert not ReviewScore.objects.exists()


def test_assigning_a_reviewer_with_a_role_above_the_branch_is_refused(
    world, forwarded, reviewers, conflicted
):
    with pytest.raises(ValidationError) as excinfo:
        assign_reviewers(assessment=forwarded, actor=world.approver, reviewers=[reviewers[0], conflicted])

    assert "市教育局机关党委" in str(excinfo.value)
    forwarded.refresh_from_db()
    assert forwarded.status == AssessmentStatus.FORWARDED
    assert not forwarded.assignments.exists()


def test_a_conflicted_reviewer_may_score_branches_elsewhere(world, cycle, conflicted):
    assessment = forwarded_assessment(cycle, world.cousin_branch, world.secretary)

    assign_reviewers(assessment=assessment, actor=world.approver, reviewers=[conflicted])

    assert assessment.assignments.get().reviewer == conflicted


def test_assigning_someone_outside_the_team_is_refused(world, forwarded):
    with pytest.raises(ValidationError):
        assign_reviewers(assessment=forwarded, actor=world.approver, reviewers=[world.secretary])


def test_staff_of_a_party_committee_cannot_assign_reviewers(world, forwarded, reviewers):
    staff = make_user("sunhua", "孙华", roles=((Role.STAFF, world.party_committee),))

    with pytest.raises(PermissionDenied):
        assign_reviewers(assessment=forwarded, actor=staff, reviewers=reviewers[:3])


def test_assignment_page_lists_the_excluded_reviewer_and_says_why(
    client, world, forwarded, reviewers, conflicted
):
    client.force_login(world.approver)

    response = client.get(reverse("reviews:assign_reviewers", args=[forwarded.pk]), **ENGLISH)

    assert response.status_code == 200
    text = response.text
    assert "Holds the role “Preliminary reviewer” on 市教育局机关党委." in text
    assert f'value="{reviewers[0].pk}"' in text
    assert f'value="{conflicted.pk}"' not in text


def test_assignment_page_saves_the_chosen_reviewers(client, world, forwarded, reviewers):
    client.force_login(world.approver)

    response = client.post(
        reverse("reviews:assign_reviewers", args=[forwarded.pk]),
        {"reviewers": [reviewers[0].pk, reviewers[1].pk]},
    )

    assert response.status_code == 302
    assert forwarded.assignments.count() == 2


def test_assignment_page_refuses_a_reviewer_of_the_team(client, forwarded, reviewers):
    client.force_login(reviewers[0])

    response = client.get(reverse("reviews:assign_reviewers", args=[forwarded.pk]))

    assert response.status_code == 403


def test_auto_assign_spreads_the_load_evenly(world, cycle, reviewers, branches):
    seven = branches["P1"] + branches["P2"]
    assessments = [forwarded_assessment(cycle, branch, world.secretary) for branch in seven]

    result = auto_assign(cycle=cycle, actor=world.approver)

    assert result["assigned"] == 7
    assert result["reviewer_assignments"] == 21
    assert result["short"] == []
    for assessment in assessments:
        assessment.refresh_from_db()
        assert assessment.status == AssessmentStatus.SCORING
        assert assessment.assignments.count() == 3
    loads = Counter(ReviewerAssignment.objects.values_list("reviewer_id", flat=True))
    assert set(loads) == {u.pk for u in reviewers}
    assert max(loads.values()) - min(loads.values()) <= 1


def test_auto_assign_never_picks_a_conflicted_reviewer(world, cycle, reviewers, conflicted, branches):
    seven = branches["P1"] + branches["P2"]
    for branch in seven:
        forwarded_assessment(cycle, branch, world.secretary)

    auto_assign(cycle=cycle, actor=world.approver)

    conflicted_branches = set(
        ReviewerAssignment.objects.filter(reviewer=conflicted).values_list(
            "assessment__branch__code", flat=True
        )
    )
    assert conflicted_branches  # used where allowed…
    assert not conflicted_branches & {branch.code for branch in branches["P1"]}  # …never under P1


def test_auto_assign_reports_assessments_that_cannot_get_enough_reviewers(
    world, cycle, reviewers, conflicted
):
    cycle.reviewers_per_branch = 6  # five clean reviewers plus one conflicted under P1
    cycle.save()
    jia = forwarded_assessment(cycle, world.branch, world.secretary)
    yi = forwarded_assessment(cycle, world.cousin_branch, world.secretary)

    result = auto_assign(cycle=cycle, actor=world.approver)

    assert result["assigned"] == 1
    assert result["short"] == [jia]
    jia.refresh_from_db()
    yi.refresh_from_db()
    assert jia.status == AssessmentStatus.FORWARDED
    assert not jia.assignments.exists()
    assert yi.assignments.count() == 6


def test_auto_assign_from_the_page_needs_the_committee(client, world, cycle, forwarded, reviewers):
    client.force_login(reviewers[0])
    assert client.post(reverse("reviews:auto_assign", args=[cycle.pk])).status_code == 403

    client.force_login(world.approver)
    response = client.post(reverse("reviews:auto_assign", args=[cycle.pk]))

    assert response.status_code == 302
    assert forwarded.assignments.count() == 3


# ---------------------------------------------------------------------------- scoring


def test_submitting_needs_a_comment_where_the_reviewer_deducts(world, forwarded, reviewers, items):
    (assignment,) = assigned(forwarded, world.approver, reviewers[:1])

    with pytest.raises(ValidationError) as excinfo:
        submit_scores(assignment=assignment, actor=reviewers[0], entries=sheet(items, **{"1_1": ("4", "")}))

    assert list(excinfo.value.message_dict) == ["1.1"]
    assignment.refresh_from_db()
    assert assignment.submitted_at is None


def test_submitting_needs_every_item_scored(world, forwarded, reviewers, items):
    (assignment,) = assigned(forwarded, world.approver, reviewers[:1])

    with pytest.raises(ValidationError) as excinfo:
        submit_scores(assignment=assignment, actor=reviewers[0], entries=sheet(items, **{"2_2": (None, "")}))

    assert list(excinfo.value.message_dict) == ["2.2"]


def test_a_draft_may_be_incomplete_and_is_kept(world, forwarded, reviewers, items):
    (assignment,) = assigned(forwarded, world.approver, reviewers[:1])
    entries = {items["1.1"].pk: ScoreEntry(Decimal("3.5"), "")}

    save_draft_scores(assignment=assignment, actor=reviewers[0], entries=entries)

    row = ReviewScore.objects.get(assignment=assignment)
    assert (row.item_id, row.score, row.version) == (items["1.1"].pk, Decimal("3.5"), 1)
    assignment.refresh_from_db()
    assert assignment.submitted_at is None
    forwarded.refresh_from_db()
    assert forwarded.status == AssessmentStatus.SCORING


def test_only_the_assigned_reviewer_may_score(world, forwarded, reviewers, items):
    (assignment,) = assigned(forwarded, world.approver, reviewers[:1])

    with pytest.raises(PermissionDenied):
        submit_scores(assignment=assignment, actor=reviewers[1], entries=sheet(items))


def test_last_reviewer_completes_scoring_with_the_mean_rounded_half_up(world, forwarded, reviewers, items):
    first, second = assigned(forwarded, world.approver, reviewers[:2])
    submit_scores(assignment=first, actor=reviewers[0], entries=sheet(items, **{"1_1": ("4.2", "记录不全")}))
    forwarded.refresh_from_db()
    assert forwarded.status == AssessmentStatus.SCORING

    submit_scores(assignment=second, actor=reviewers[1], entries=sheet(items, **{"1_1": ("4.3", "分工不明")}))

    forwarded.refresh_from_db()
    assert forwarded.status == AssessmentStatus.SCORED
    # Mean of 4.2 and 4.3 is 4.25 → 4.3 (half up, not to even); 95 + 4.3 from the other items.
    assert forwarded.consolidated_score == Decimal("99.3")
    assert forwarded.proposed_stars == 5
    event = forwarded.events.order_by("-pk").first()
    assert (event.action, event.to_status, event.actor) == ("complete_scoring", "scored", reviewers[1])


def test_consolidated_score_decides_the_proposed_star_level(world, forwarded, reviewers, items):
    first, second = assigned(forwarded, world.approver, reviewers[:2])
    low = {"1_1": ("1", "差"), "1_2": ("1", "差"), "1_3": ("3", "差")}  # 10 points off
    submit_scores(assignment=first, actor=reviewers[0], entries=sheet(items, **low))
    submit_scores(
        assignment=second, actor=reviewers[1], entries=sheet(items, **low, **{"2_1": ("4.9", "少一次")})
    )

    forwarded.refresh_from_db()
    # 90 and 89.9 → per-item means → 89.9 + (2.1 mean 4.95 → 5.0) = 90.0 → four stars.
    assert forwarded.consolidated_score == Decimal("90.0")
    assert forwarded.proposed_stars == 4


def test_scoring_page_is_blind_until_the_reviewer_submits(client, world, forwarded, reviewers, items):
    mine, theirs = assigned(forwarded, world.approver, reviewers[:2])
    submit_scores(
        assignment=theirs, actor=reviewers[1], entries=sheet(items, **{"1_1": ("1.7", "OTHER-REVIEWER-NOTE")})
    )
    client.force_login(reviewers[0])
    url = reverse("reviews:score", args=[forwarded.pk])

    before = client.get(url, **ENGLISH)

    assert before.status_code == 200
    assert "OTHER-REVIEWER-NOTE" not in before.text
    assert "1.7" not in before.text
    assert "王芳" not in before.text
    assert before.context.get("summary") is None

    submit_scores(assignment=mine, actor=reviewers[0], entries=sheet(items))
    after = client.get(url, **ENGLISH)

    assert "OTHER-REVIEWER-NOTE" in after.text
    assert "王芳" in after.text


def test_reviewer_submits_from_the_page_and_submitting_again_answers_409(
    client, world, forwarded, reviewers, items
):
    assigned(forwarded, world.approver, reviewers[:2])
    client.force_login(reviewers[0])
    url = reverse("reviews:score", args=[forwarded.pk])
    data = {"action": "submit"}
    for item in items.values():
        data[f"score_{item.pk}"] = str(item.max_score)
        data[f"comment_{item.pk}"] = ""
    data[f"score_{items['1.1'].pk}"] = "4.5"

    missing_comment = client.post(url, data, **ENGLISH)
    assert missing_comment.status_code == 400
    assert "Explain the deduction" in missing_comment.text

    data[f"comment_{items['1.1'].pk}"] = "支委分工未公开"
    assert client.post(url, data).status_code == 302
    assert ReviewerAssignment.objects.get(reviewer=reviewers[0]).submitted_at is not None

    assert client.post(url, data).status_code == 409


def test_reviewer_cannot_open_a_sheet_not_assigned_to_them(client, world, forwarded, reviewers):
    assigned(forwarded, world.approver, reviewers[:1])
    client.force_login(reviewers[1])

    assert client.get(reverse("reviews:score", args=[forwarded.pk])).status_code == 404


# ---------------------------------------------------------------------------- disagreement


def test_a_spread_of_exactly_one_third_of_the_points_is_not_a_disagreement(
    world, forwarded, reviewers, items
):
    first, second = assigned(forwarded, world.approver, reviewers[:2])
    submit_scores(assignment=first, actor=reviewers[0], entries=sheet(items))  # 4.1 worth 6: 6.0
    submit_scores(assignment=second, actor=reviewers[1], entries=sheet(items, **{"4_1": ("4", "特色不足")}))

    summary = scoring_summary(forwarded)

    row = next(r for r in summary.items if r.item.code == "4.1")
    assert row.spread == Decimal("2.0")
    assert row.disagreement is False
    assert summary.flagged == ()


def test_a_spread_above_one_third_of_the_points_is_flagged_for_discussion(
    client, world, forwarded, reviewers, items
):
    first, second = assigned(forwarded, world.approver, reviewers[:2])
    submit_scores(assignment=first, actor=reviewers[0], entries=sheet(items))
    submit_scores(assignment=second, actor=reviewers[1], entries=sheet(items, **{"4_1": ("3.9", "特色不足")}))

    summary = scoring_summary(forwarded)

    assert [r.item.code for r in summary.flagged] == ["4.1"]
    client.force_login(world.approver)
    committee_page = client.get(reverse("reviews:team_scores", args=[forwarded.pk]), **ENGLISH)
    assert committee_page.status_code == 200
    assert "Reviewers disagree (spread 2.1)" in committee_page.text
    client.force_login(reviewers[0])
    reviewer_page = client.get(reverse("reviews:score", args=[forwarded.pk]), **ENGLISH)
    assert "Reviewers disagree (spread 2.1)" in reviewer_page.text


@pytest.mark.parametrize(
    "scores,item_max,flagged",
    [
        (["5", "3.4"], "5", False),  # 1.6 ≤ 5/3
        (["5", "3.3"], "5", True),  # 1.7 > 5/3
        (["7", "4.7"], "7", False),  # 2.3 ≤ 7/3
        (["7", "4.6"], "7", True),  # 2.4 > 7/3
        (["5"], "5", False),  # one reviewer never disagrees
    ],
)
def test_the_one_third_rule_on_other_item_sizes(scores, item_max, flagged):
    values = [Decimal(s) for s in scores]

    assert is_disagreement(values, Decimal(item_max), Decimal("0.333")) is flagged


def test_a_fraction_that_is_not_a_written_third_is_taken_as_it_is():
    assert disagreement_limit(Decimal("0.25"), Decimal("4")) == 1
    assert disagreement_limit(Decimal("0.33"), Decimal("100")) == 33


@pytest.mark.parametrize(
    "marks,applies",
    [([True, True, False], True), ([True, False], False), ([True, False, False], False), ([True], True)],
)
def test_a_veto_applies_only_when_most_reviewers_mark_it(marks, applies):
    assert majority_applies(marks) is applies


# ---------------------------------------------------------------------------- revision


def test_revising_keeps_the_old_version_and_recomputes(client, world, forwarded, reviewers, items):
    first, second = assigned(forwarded, world.approver, reviewers[:2])
    submit_scores(assignment=first, actor=reviewers[0], entries=sheet(items))
    submit_scores(assignment=second, actor=reviewers[1], entries=sheet(items, **{"4_1": ("3", "特色不足")}))
    forwarded.refresh_from_db()
    assert forwarded.consolidated_score == Decimal("98.5")  # 4.1: mean of 6 and 3 = 4.5

    revise_scores(
        assignment=second,
        actor=reviewers[1],
        entries=sheet(items, **{"4_1": ("5", "讨论后认可品牌做法")}),
        note="经考核组讨论",
    )

    second.refresh_from_db()
    assert second.version == 2
    versions = ReviewScore.objects.filter(assignment=second, item=items["4.1"]).order_by("version")
    assert [(v.version, v.score) for v in versions] == [(1, Decimal("3.0")), (2, Decimal("5.0"))]
    forwarded.refresh_from_db()
    assert forwarded.status == AssessmentStatus.SCORED
    assert forwarded.consolidated_score == Decimal("99.5")
    event = forwarded.events.order_by("-pk").first()
    assert event.action == "revise_scores"
    assert "4.1" in event.note and "经考核组讨论" in event.note
    client.force_login(world.approver)
    page = client.get(reverse("reviews:team_scores", args=[forwarded.pk]), **ENGLISH)
    assert "讨论后认可品牌做法" in page.text
    assert "<s>3.0</s>" in page.text  # the old version, struck through


def test_revising_while_others_still_score_is_refused(world, forwarded, reviewers, items):
    first, _second = assigned(forwarded, world.approver, reviewers[:2])
    submit_scores(assignment=first, actor=reviewers[0], entries=sheet(items))

    with pytest.raises(WorkflowError):
        revise_scores(assignment=first, actor=reviewers[0], entries=sheet(items, **{"1_1": ("4", "再看")}))

    forwarded.refresh_from_db()
    assert forwarded.status == AssessmentStatus.SCORING
    assert not ReviewScore.objects.filter(version=2).exists()


def test_revising_with_nothing_changed_is_refused(world, forwarded, reviewers, items):
    (assignment,) = assigned(forwarded, world.approver, reviewers[:1])
    submit_scores(assignment=assignment, actor=reviewers[0], entries=sheet(items))

    with pytest.raises(ValidationError):
        revise_scores(assignment=assignment, actor=reviewers[0], entries=sheet(items))


def test_revising_after_the_decision_answers_409(client, world, forwarded, reviewers, items):
    (assignment,) = assigned(forwarded, world.approver, reviewers[:1])
    submit_scores(assignment=assignment, actor=reviewers[0], entries=sheet(items))
    Assessment.objects.filter(pk=forwarded.pk).update(status=AssessmentStatus.DECIDED)
    client.force_login(reviewers[0])
    data = {"action": "revise"}
    for item in items.values():
        data[f"score_{item.pk}"] = str(item.max_score)
    data[f"score_{items['1.1'].pk}"] = "4"
    data[f"comment_{items['1.1'].pk}"] = "改分"

    response = client.post(reverse("reviews:score", args=[forwarded.pk]), data)

    assert response.status_code == 409
    assert not ReviewScore.objects.filter(version=2).exists()


# ---------------------------------------------------------------------------- lists and reads


def test_my_assignments_lists_deadline_and_whether_submitted(
    client, world, cycle, reviewers, items, branches
):
    done = forwarded_assessment(cycle, world.cousin_branch, world.secretary)
    todo = forwarded_assessment(cycle, branches["P2"][1], world.secretary)
    (finished,) = assigned(done, world.approver, reviewers[:1])
    assigned(todo, world.approver, reviewers[:1])
    submit_scores(assignment=finished, actor=reviewers[0], entries=sheet(items))
    client.force_login(reviewers[0])

    response = client.get(reverse("reviews:my_assignments"), **ENGLISH)

    assert response.status_code == 200
    text = response.text
    assert "卫健委第一党支部" in text and "卫健委第二党支部" in text
    assert "2025-05-31" in text
    assert "Submitted" in text and "To score" in text
    assert text.index("卫健委第二党支部") < text.index("卫健委第一党支部")  # still to score comes first


def test_my_assignments_needs_the_reviewer_role(client, world):
    client.force_login(world.secretary)

    assert client.get(reverse("reviews:my_assignments")).status_code == 403


def test_scoring_summary_runs_the_same_queries_for_one_or_three_reviewers(
    world, cycle, reviewers, items, branches
):
    one = forwarded_assessment(cycle, world.cousin_branch, world.secretary)
    three = forwarded_assessment(cycle, branches["P2"][1], world.secretary)
    for assignment in assigned(one, world.approver, reviewers[:1]):
        submit_scores(assignment=assignment, actor=assignment.reviewer, entries=sheet(items))
    for assignment in assigned(three, world.approver, reviewers[:3]):
        submit_scores(assignment=assignment, actor=assignment.reviewer, entries=sheet(items))
    one = Assessment.objects.select_related("cycle__standard").get(pk=one.pk)
    three = Assessment.objects.select_related("cycle__standard").get(pk=three.pk)

    with CaptureQueriesContext(connection) as small:
        scoring_summary(one)
    with CaptureQueriesContext(connection) as large:
        summary = scoring_summary(three)

    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(summary.submitted) == 3
    assert summary.consolidated_score == Decimal("100.0")
