"""The preliminary review (初审): the parent organization forwards or returns a submission."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.errors import WorkflowError
from branches.models import OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization
from reviews.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Cycle,
    Evidence,
    SelfScore,
    SubmissionRound,
)
from reviews.services.preliminary import forward_assessment, return_assessment
from scoring.models import Item, Standard

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def standard(db):
    return Standard.objects.get(status="published")


@pytest.fixture
def tree(db):
    """工委 → 甲党委 (甲一支部, 甲二支部) and 乙党委 (乙一支部)."""
    committee = create_organization(name="市直机关工委", code="C", kind=OrgKind.COMMITTEE)
    jia = create_organization(name="甲党委", code="P1", kind=OrgKind.PARTY_COMMITTEE, parent=committee)
    yi = create_organization(name="乙党委", code="P2", kind=OrgKind.PARTY_COMMITTEE, parent=committee)
    return {
        "committee": committee,
        "jia": jia,
        "yi": yi,
        "jia_one": create_organization(name="甲一支部", code="B1", kind=OrgKind.BRANCH, parent=jia),
        "jia_two": create_organization(name="甲二支部", code="B2", kind=OrgKind.BRANCH, parent=jia),
        "yi_one": create_organization(name="乙一支部", code="B3", kind=OrgKind.BRANCH, parent=yi),
    }


def _user(username: str, role=None, org=None) -> User:
    user = User.objects.create_user(username, password="x-unused-x", real_name=username)
    if role:
        assign_role(user=user, role=role, organization=org)
    return user


@pytest.fixture
def people(tree):
    return {
        "secretary": _user("secretary", Role.BRANCH_SECRETARY, tree["jia_one"]),
        "jia_reviewer": _user("jia_reviewer", Role.PARENT_REVIEWER, tree["jia"]),
        "jia_reviewer_2": _user("jia_reviewer_2", Role.PARENT_REVIEWER, tree["jia"]),
        "yi_reviewer": _user("yi_reviewer", Role.PARENT_REVIEWER, tree["yi"]),
        "approver": _user("approver", Role.COMMITTEE_APPROVER, tree["committee"]),
    }


@pytest.fixture
def cycle(tree, standard, people):
    return Cycle.objects.create(
        committee=tree["committee"],
        name="2025年度星级评定",
        standard=standard,
        self_assessment_deadline=datetime.date(2025, 3, 31),
        preliminary_deadline=datetime.date(2025, 4, 30),
        scoring_deadline=datetime.date(2025, 5, 31),
        opened_by=people["approver"],
    )


def submitted(cycle, branch, secretary, *, rounds: int = 1) -> Assessment:
    """A SUBMITTED assessment with every self-score; earlier rounds were returned."""
    items = list(Item.objects.filter(dimension__standard=cycle.standard))
    assessment = Assessment.objects.create(
        cycle=cycle,
        branch=branch,
        status=AssessmentStatus.SUBMITTED,
        declared_stars=5,
        self_total=Decimal("97.0"),
    )
    SelfScore.objects.bulk_create(
        SelfScore(
            assessment=assessment,
            item=item,
            score=item.max_score if item.code != "1.4" else item.max_score - 3,
            explanation=f"说明{item.code}",
        )
        for item in items
    )
    now = timezone.now()
    for number in range(1, rounds + 1):
        last = number == rounds
        SubmissionRound.objects.create(
            assessment=assessment,
            number=number,
            submitted_by=secretary,
            submitted_at=now - datetime.timedelta(days=rounds - number),
            declared_stars=5,
            self_total=Decimal("97.0"),
            outcome=SubmissionRound.Outcome.PENDING if last else SubmissionRound.Outcome.RETURNED,
            comment="" if last else f"第{number}轮退回原因：缺少会议记录",
        )
    return assessment


@pytest.fixture
def assessment(cycle, tree, people):
    return submitted(cycle, tree["jia_one"], people["secretary"])


# ---------------------------------------------------------------------------- services


def test_parent_reviewer_forwards_with_a_recommendation(assessment, people):
    forward_assessment(assessment=assessment, actor=people["jia_reviewer"], recommendation=" 建议评为五星 ")

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.FORWARDED
    assert assessment.recommendation == "建议评为五星"
    round_ = assessment.rounds.get()
    assert round_.outcome == SubmissionRound.Outcome.FORWARDED
    assert round_.reviewed_by == people["jia_reviewer"]
    assert round_.reviewed_at is not None
    assert round_.comment == "建议评为五星"
    event = assessment.events.get()
    assert (event.action, event.from_status, event.to_status) == ("forward", "submitted", "forwarded")
    assert event.actor == people["jia_reviewer"]
    assert event.note == "建议评为五星"


def test_parent_reviewer_returns_with_a_reason(assessment, people):
    return_assessment(assessment=assessment, actor=people["jia_reviewer"], reason="缺少1.3会议记录")

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.RETURNED
    assert assessment.recommendation == ""
    round_ = assessment.rounds.get()
    assert round_.outcome == SubmissionRound.Outcome.RETURNED
    assert round_.comment == "缺少1.3会议记录"
    assert round_.reviewed_by == people["jia_reviewer"]
    event = assessment.events.get()
    assert (event.action, event.from_status, event.to_status) == ("return", "submitted", "returned")


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_return_needs_a_reason(assessment, people, reason):
    with pytest.raises(ValidationError) as excinfo:
        return_assessment(assessment=assessment, actor=people["jia_reviewer"], reason=reason)

    assert "reason" in excinfo.value.message_dict
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert not assessment.events.exists()
    assert assessment.rounds.get().outcome == SubmissionRound.Outcome.PENDING


def test_forward_needs_a_recommendation(assessment, people):
    with pytest.raises(ValidationError) as excinfo:
        forward_assessment(assessment=assessment, actor=people["jia_reviewer"], recommendation=" ")

    assert "recommendation" in excinfo.value.message_dict
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_second_parent_reviewer_pressing_forward_gets_a_workflow_error(assessment, people):
    forward_assessment(assessment=assessment, actor=people["jia_reviewer"], recommendation="推荐")

    with pytest.raises(WorkflowError):
        forward_assessment(assessment=assessment, actor=people["jia_reviewer_2"], recommendation="也推荐")

    assessment.refresh_from_db()
    assert assessment.recommendation == "推荐"
    assert assessment.events.count() == 1
    assert assessment.rounds.get().reviewed_by == people["jia_reviewer"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_parent_reviewers_forwarding_at_once_make_one_change(tree, people):
    # A transactional test sees no data-migration rows once an earlier one has flushed the
    # database, so it brings its own (empty) standard instead of the default one.
    standard = Standard.objects.create(name="并发测试标准", version=1)
    cycle = Cycle.objects.create(
        committee=tree["committee"],
        name="并发测试",
        standard=standard,
        self_assessment_deadline=datetime.date(2025, 3, 31),
        preliminary_deadline=datetime.date(2025, 4, 30),
        scoring_deadline=datetime.date(2025, 5, 31),
        opened_by=people["approver"],
    )
    assessment = submitted(cycle, tree["jia_one"], people["secretary"])
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
        threading.Thread(target=press, args=(people[key],)) for key in ("jia_reviewer", "jia_reviewer_2")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["forwarded", "refused"]
    assert AssessmentEvent.objects.filter(assessment=assessment, action="forward").count() == 1
    assert assessment.rounds.get().outcome == SubmissionRound.Outcome.FORWARDED


def test_secretary_cannot_forward_through_the_service(assessment, people):
    with pytest.raises(PermissionDenied):
        forward_assessment(assessment=assessment, actor=people["secretary"], recommendation="自己推荐自己")

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_parent_reviewer_of_another_party_committee_cannot_forward_through_the_service(assessment, people):
    with pytest.raises(PermissionDenied):
        forward_assessment(assessment=assessment, actor=people["yi_reviewer"], recommendation="推荐")


# ---------------------------------------------------------------------------- pages


def test_forwarding_from_the_page_redirects_to_the_queue(client, assessment, people):
    client.force_login(people["jia_reviewer"])

    response = client.post(
        reverse("reviews:preliminary_forward", args=[assessment.pk]), {"recommendation": "推荐为五星"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:preliminary_queue")
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.FORWARDED


def test_returning_without_a_reason_from_the_page_changes_nothing(client, assessment, people):
    client.force_login(people["jia_reviewer"])

    response = client.post(
        reverse("reviews:preliminary_return", args=[assessment.pk]), {"reason": ""}, **ENGLISH
    )

    assert response.status_code == 400
    assert "is-invalid" in response.text
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert not assessment.events.exists()


def test_forwarding_an_already_forwarded_assessment_answers_409_and_changes_nothing(
    client, assessment, people
):
    client.force_login(people["jia_reviewer"])
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
    client, assessment, people, url_name, method, data
):
    client.force_login(people["yi_reviewer"])

    response = getattr(client, method)(reverse(url_name, args=[assessment.pk]), data)

    assert response.status_code == 404
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_unknown_assessment_answers_404_like_one_out_of_scope(client, people):
    client.force_login(people["jia_reviewer"])

    response = client.get(reverse("reviews:preliminary_review", args=[999999]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    "url_name,method,data",
    [
        ("reviews:preliminary_review", "get", None),
        ("reviews:preliminary_forward", "post", {"recommendation": "推荐"}),
    ],
)
def test_secretary_trying_to_review_gets_403(client, assessment, people, url_name, method, data):
    client.force_login(people["secretary"])

    response = getattr(client, method)(reverse(url_name, args=[assessment.pk]), data)

    assert response.status_code == 403
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_queue_needs_the_parent_reviewer_role(client, people):
    client.force_login(people["secretary"])

    assert client.get(reverse("reviews:preliminary_queue")).status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in(client, assessment):
    response = client.get(reverse("reviews:preliminary_queue"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_queue_lists_the_submitted_assessments_of_the_reviewers_own_branches(client, cycle, tree, people):
    submitted(cycle, tree["jia_one"], people["secretary"])
    submitted(cycle, tree["yi_one"], people["secretary"])
    Assessment.objects.create(cycle=cycle, branch=tree["jia_two"], status=AssessmentStatus.DRAFT)
    client.force_login(people["jia_reviewer"])

    response = client.get(reverse("reviews:preliminary_queue"))

    assert response.status_code == 200
    assert "甲一支部" in response.text
    assert "乙一支部" not in response.text
    assert "甲二支部" not in response.text


def test_reviewed_tab_lists_what_was_forwarded(client, assessment, people):
    forward_assessment(assessment=assessment, actor=people["jia_reviewer"], recommendation="推荐")
    client.force_login(people["jia_reviewer"])

    pending = client.get(reverse("reviews:preliminary_queue"))
    done = client.get(reverse("reviews:preliminary_queue") + "?state=done")

    assert "甲一支部" not in pending.text
    assert "甲一支部" in done.text


def test_review_page_shows_items_self_scores_explanations_and_evidence(client, assessment, people, standard):
    item = Item.objects.get(dimension__standard=standard, code="1.3")
    Evidence.objects.create(
        assessment=assessment,
        item=item,
        file=f"evidence/{assessment.pk}/abc.pdf",
        original_name="支委会会议记录.pdf",
        content_type="application/pdf",
        size=2048,
        uploaded_by=people["secretary"],
    )
    client.force_login(people["jia_reviewer"])

    response = client.get(reverse("reviews:preliminary_review", args=[assessment.pk]), **ENGLISH)

    assert response.status_code == 200
    text = response.text
    assert "1.3 活动经常" in text
    assert "说明1.3" in text
    assert "支委会会议记录.pdf" in text
    assert text.count("5.0") >= 1  # self-scores of full marks
    assert reverse("reviews:preliminary_forward", args=[assessment.pk]) in text
    assert reverse("reviews:preliminary_return", args=[assessment.pk]) in text


def test_every_round_is_kept_and_shown_on_the_review_page(client, cycle, tree, people):
    assessment = submitted(cycle, tree["jia_one"], people["secretary"], rounds=2)
    return_assessment(assessment=assessment, actor=people["jia_reviewer"], reason="第二轮还缺党费台账")
    client.force_login(people["jia_reviewer"])

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
        branch = create_organization(name=f"第{n}支部", code=f"Q{n}", kind=OrgKind.BRANCH, parent=parent)
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
    client, cycle, tree, people, django_assert_num_queries
):
    client.force_login(people["jia_reviewer"])
    url = reverse("reviews:preliminary_queue")
    _fill(cycle, tree["jia"], people["secretary"], 1, 10)
    with CaptureQueriesContext(connection) as ten:
        response = client.get(url)
    assert response.text.count("第") >= 10

    _fill(cycle, tree["jia"], people["secretary"], 11, 190)
    with django_assert_num_queries(len(ten.captured_queries)):
        response = client.get(url)

    assert response.status_code == 200
    assert response.context["page"].paginator.count == 200
