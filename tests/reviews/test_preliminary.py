"""The preliminary review (初审): the parent organization forwards or returns a submission."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.errors import WorkflowError
from branches.roles import Role
from reviews.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Evidence,
    SubmissionRound,
)
from reviews.services.preliminary import forward_assessment, return_assessment
from scoring.models import Standard
from tests.factories import items_by_code, make_branch, make_cycle, make_submitted_assessment, make_user

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def second_parent_reviewer(world):
    """Another preliminary reviewer of 市教育局机关党委."""
    return make_user("sunchushen", "孙初审", roles=((Role.PARENT_REVIEWER, world.party_committee),))


@pytest.fixture
def other_parent_reviewer(world):
    """The preliminary reviewer of the other party committee, 市卫健委机关党委."""
    return make_user("qianchushen", "钱初审", roles=((Role.PARENT_REVIEWER, world.second_party_committee),))


@pytest.fixture
def cycle(world, default_standard):
    return make_cycle(
        world.committee, name="2025年度星级评定", standard=default_standard, opened_by=world.approver
    )


def submitted(cycle, branch, secretary, *, rounds: int = 1) -> Assessment:
    """A SUBMITTED assessment with every self-score, 3 points short on 1.4; earlier rounds were returned."""
    return make_submitted_assessment(cycle, branch, secretary, rounds=rounds, short={"1.4": Decimal(3)})


@pytest.fixture
def assessment(cycle, world):
    return submitted(cycle, world.branch, world.secretary)


# ---------------------------------------------------------------------------- services


def test_parent_reviewer_forwards_with_a_recommendation(world, assessment):
    forward_assessment(assessment=assessment, actor=world.parent_reviewer, recommendation=" 建议评为五星 ")

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.FORWARDED
    assert assessment.recommendation == "建议评为五星"
    round_ = assessment.rounds.get()
    assert round_.outcome == SubmissionRound.Outcome.FORWARDED
    assert round_.reviewed_by == world.parent_reviewer
    assert round_.reviewed_at is not None
    assert round_.comment == "建议评为五星"
    event = assessment.events.get()
    assert (event.action, event.from_status, event.to_status) == ("forward", "submitted", "forwarded")
    assert event.actor == world.parent_reviewer
    assert event.note == "建议评为五星"


def test_parent_reviewer_returns_with_a_reason(world, assessment):
    return_assessment(assessment=assessment, actor=world.parent_reviewer, reason="缺少1.3会议记录")

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.RETURNED
    assert assessment.recommendation == ""
    round_ = assessment.rounds.get()
    assert round_.outcome == SubmissionRound.Outcome.RETURNED
    assert round_.comment == "缺少1.3会议记录"
    assert round_.reviewed_by == world.parent_reviewer
    event = assessment.events.get()
    assert (event.action, event.from_status, event.to_status) == ("return", "submitted", "returned")


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_return_needs_a_reason(world, assessment, reason):
    with pytest.raises(ValidationError) as excinfo:
        return_assessment(assessment=assessment, actor=world.parent_reviewer, reason=reason)

    assert "reason" in excinfo.value.message_dict
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert not assessment.events.exists()
    assert assessment.rounds.get().outcome == SubmissionRound.Outcome.PENDING


def test_forward_needs_a_recommendation(world, assessment):
    with pytest.raises(ValidationError) as excinfo:
        forward_assessment(assessment=assessment, actor=world.parent_reviewer, recommendation=" ")

    assert "recommendation" in excinfo.value.message_dict
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_second_parent_reviewer_pressing_forward_gets_a_workflow_error(
    world, assessment, second_parent_reviewer
):
    forward_assessment(assessment=assessment, actor=world.parent_reviewer, recommendation="推荐")

    with pytest.raises(WorkflowError):
        forward_assessment(assessment=assessment, actor=second_parent_reviewer, recommendation="也推荐")

    assessment.refresh_from_db()
    assert assessment.recommendation == "推荐"
    assert assessment.events.count() == 1
    assert assessment.rounds.get().reviewed_by == world.parent_reviewer


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_parent_reviewers_forwarding_at_once_make_one_change(world, second_parent_reviewer):
    # A transactional test sees no data-migration rows once an earlier one has flushed the
    # database, so it brings its own (empty) standard instead of the default one.
    standard = Standard.objects.create(name="并发测试标准", version=1)
    cycle = make_cycle(world.committee, name="并发测试", standard=standard, opened_by=world.approver)
    assessment = submitted(cycle, world.branch, world.secretary)
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def press(user):
        try:
            barrier.wait()
            forward_assessment(assessment=assessment, actor=user, recommendation=f"推荐 {user.username}")
            outcomes.append("forwarded")
        except WorkflowError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=press, args=(user,))
        for user in (world.parent_reviewer, second_parent_reviewer)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["forwarded", "refused"]
    assert AssessmentEvent.objects.filter(assessment=assessment, action="forward").count() == 1
    assert assessment.rounds.get().outcome == SubmissionRound.Outcome.FORWARDED


def test_secretary_cannot_forward_through_the_service(world, assessment):
    with pytest.raises(PermissionDenied):
        forward_assessment(assessment=assessment, actor=world.secretary, recommendation="自己推荐自己")

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_parent_reviewer_of_another_party_committee_cannot_forward_through_the_service(
    assessment, other_parent_reviewer
):
    with pytest.raises(PermissionDenied):
        forward_assessment(assessment=assessment, actor=other_parent_reviewer, recommendation="推荐")


# ---------------------------------------------------------------------------- pages


def test_forwarding_from_the_page_redirects_to_the_queue(client, world, assessment):
    client.force_login(world.parent_reviewer)

    response = client.post(
        reverse("reviews:preliminary_forward", args=[assessment.pk]), {"recommendation": "推荐为五星"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:preliminary_queue")
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.FORWARDED


def test_returning_without_a_reason_from_the_page_changes_nothing(client, world, assessment):
    client.force_login(world.parent_reviewer)

    response = client.post(
        reverse("reviews:preliminary_return", args=[assessment.pk]), {"reason": ""}, **ENGLISH
    )

    assert response.status_code == 400
    assert "is-invalid" in response.text
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert not assessment.events.exists()


def test_forwarding_an_already_forwarded_assessment_answers_409_and_changes_nothing(
    client, world, assessment
):
    client.force_login(world.parent_reviewer)
    url = reverse("reviews:preliminary_forward", args=[assessment.pk])
    client.post(url, {"recommendation": "第一次推荐"})

    response = client.post(url, {"recommendation": "第二次推荐"})

    assert response.status_code == 409
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.FORWARDED
    assert assessment.recommendation == "第一次推荐"
    assert assessment.events.count() == 1
    assert assessment.rounds.get().comment == "第一次推荐"


@pytest.mark.parametrize(
    "url_name,method,data",
    [
        ("reviews:preliminary_review", "get", None),
        ("reviews:preliminary_forward", "post", {"recommendation": "推荐"}),
        ("reviews:preliminary_return", "post", {"reason": "退回"}),
    ],
)
def test_parent_reviewer_of_a_sibling_organization_gets_404(
    client, assessment, url_name, method, data, other_parent_reviewer
):
    client.force_login(other_parent_reviewer)

    response = getattr(client, method)(reverse(url_name, args=[assessment.pk]), data)

    assert response.status_code == 404
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_unknown_assessment_answers_404_like_one_out_of_scope(client, world):
    client.force_login(world.parent_reviewer)

    response = client.get(reverse("reviews:preliminary_review", args=[999999]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    "url_name,method,data",
    [
        ("reviews:preliminary_review", "get", None),
        ("reviews:preliminary_forward", "post", {"recommendation": "推荐"}),
    ],
)
def test_secretary_trying_to_review_gets_403(client, world, assessment, url_name, method, data):
    client.force_login(world.secretary)

    response = getattr(client, method)(reverse(url_name, args=[assessment.pk]), data)

    assert response.status_code == 403
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_queue_needs_the_parent_reviewer_role(client, world):
    client.force_login(world.secretary)

    assert client.get(reverse("reviews:preliminary_queue")).status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in(client, assessment):
    response = client.get(reverse("reviews:preliminary_queue"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_queue_lists_the_submitted_assessments_of_the_reviewers_own_branches(client, world, cycle):
    submitted(cycle, world.branch, world.secretary)
    submitted(cycle, world.cousin_branch, world.secretary)
    Assessment.objects.create(cycle=cycle, branch=world.sibling_branch, status=AssessmentStatus.DRAFT)
    client.force_login(world.parent_reviewer)

    response = client.get(reverse("reviews:preliminary_queue"))

    assert response.status_code == 200
    assert "教育局第一党支部" in response.text
    assert "卫健委第一党支部" not in response.text
    assert "教育局第二党支部" not in response.text


def test_reviewed_tab_lists_what_was_forwarded(client, world, assessment):
    forward_assessment(assessment=assessment, actor=world.parent_reviewer, recommendation="推荐")
    client.force_login(world.parent_reviewer)

    pending = client.get(reverse("reviews:preliminary_queue"))
    done = client.get(reverse("reviews:preliminary_queue") + "?state=done")

    assert "教育局第一党支部" not in pending.text
    assert "教育局第一党支部" in done.text


def test_review_page_shows_items_self_scores_explanations_and_evidence(
    client, world, assessment, default_standard
):
    item = items_by_code(default_standard)["1.3"]
    Evidence.objects.create(
        assessment=assessment,
        item=item,
        file=f"evidence/{assessment.pk}/abc.pdf",
        original_name="支委会会议记录.pdf",
        content_type="application/pdf",
        size=2048,
        uploaded_by=world.secretary,
    )
    client.force_login(world.parent_reviewer)

    response = client.get(reverse("reviews:preliminary_review", args=[assessment.pk]), **ENGLISH)

    assert response.status_code == 200
    text = response.text
    assert "1.3 活动经常" in text
    assert "说明1.3" in text
    assert "支委会会议记录.pdf" in text
    assert text.count("5.0") >= 1  # self-scores of full marks
    assert reverse("reviews:preliminary_forward", args=[assessment.pk]) in text
    assert reverse("reviews:preliminary_return", args=[assessment.pk]) in text


def test_every_round_is_kept_and_shown_on_the_review_page(client, world, cycle):
    assessment = submitted(cycle, world.branch, world.secretary, rounds=2)
    return_assessment(assessment=assessment, actor=world.parent_reviewer, reason="第二轮还缺党费台账")
    client.force_login(world.parent_reviewer)

    response = client.get(reverse("reviews:preliminary_review", args=[assessment.pk]), **ENGLISH)

    assert list(assessment.rounds.order_by("number").values_list("outcome", flat=True)) == [
        "returned",
        "returned",
    ]
    assert "第1轮退回原因：缺少会议记录" in response.text
    assert "第二轮还缺党费台账" in response.text
    assert "Round 1" in response.text and "Round 2" in response.text
    # Returned: no decision forms any more.
    assert reverse("reviews:preliminary_forward", args=[assessment.pk]) not in response.text


def _fill(cycle, parent, secretary, start: int, count: int) -> None:
    for n in range(start, start + count):
        branch = make_branch(f"第{n}支部", f"Q{n}", parent=parent)
        assessment = Assessment.objects.create(
            cycle=cycle, branch=branch, status=AssessmentStatus.SUBMITTED, declared_stars=4, self_total=91
        )
        SubmissionRound.objects.create(
            assessment=assessment,
            number=1,
            submitted_by=secretary,
            submitted_at=timezone.now(),
            declared_stars=4,
            self_total=91,
        )


def test_queue_runs_the_same_number_of_queries_for_10_and_200_branches(
    client, world, cycle, django_assert_num_queries
):
    client.force_login(world.parent_reviewer)
    url = reverse("reviews:preliminary_queue")
    _fill(cycle, world.party_committee, world.secretary, 1, 10)
    with CaptureQueriesContext(connection) as ten:
        response = client.get(url)
    assert response.text.count("第") >= 10

    _fill(cycle, world.party_committee, world.secretary, 11, 190)
    with django_assert_num_queries(len(ten.captured_queries)):
        response = client.get(url)

    assert response.status_code == 200
    assert response.context["page"].paginator.count == 200
