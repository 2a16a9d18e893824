"""The branch's self-assessment (支部自评): drafts, submission, returns, scope and roles."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.errors import WorkflowError
from branches.models import User
from reviews.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Cycle,
    CycleStatus,
    Evidence,
    ReviewerAssignment,
    SelfScore,
    SubmissionRound,
)
from reviews.services.assessment import save_self_assessment, submit_self_assessment
from scoring.arithmetic import VETO_APPLIES, total_score
from scoring.models import Dimension, Item, ItemKind, Standard, StarThreshold
from scoring.selectors import rules_from_standard
from scoring.services import standards as scoring_services
from tests.factories import make_assessment, make_cycle, standard_items

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "private_media")]

D = Decimal


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def cycle(world, default_standard) -> Cycle:
    return make_cycle(
        world.committee,
        name="2025年度星级认定",
        standard=default_standard,
        opened_by=world.approver,
        self_assessment_deadline=datetime.date(2025, 10, 31),
        preliminary_deadline=datetime.date(2025, 11, 15),
        scoring_deadline=datetime.date(2025, 11, 30),
    )


@pytest.fixture
def assessment(cycle, world) -> Assessment:
    return make_assessment(cycle, world.branch)


@pytest.fixture
def items(default_standard) -> list[Item]:
    return standard_items(default_standard)


def by_code(items: list[Item]) -> dict[str, Item]:
    return {item.code: item for item in items}


def full_marks(items: list[Item], **overrides: str) -> dict:
    """A service payload scoring every item with its maximum, except the codes overridden."""
    return {item.pk: (overrides.get(item.code.replace(".", "_"), str(item.max_score)), "") for item in items}


def attach_required_evidence(assessment: Assessment, items: list[Item], user) -> None:
    """Evidence rows for every item that needs one (the file itself is irrelevant to submission)."""
    Evidence.objects.bulk_create(
        Evidence(
            assessment=assessment,
            item=item,
            file=f"evidence/{assessment.pk}/placeholder-{item.pk}.pdf",
            original_name=f"{item.code}.pdf",
            content_type="application/pdf",
            size=100,
            uploaded_by=user,
        )
        for item in items
        if item.evidence_required
    )


def ready_to_submit(assessment, items, secretary, **overrides) -> None:
    save_self_assessment(assessment=assessment, actor=secretary, scores=full_marks(items, **overrides))
    attach_required_evidence(assessment, items, secretary)


def form_data(items: list[Item], **values: str) -> dict:
    """POST data for the page: every field empty except the ones given (score_1_1="4.5")."""
    data = {}
    for item in items:
        key = item.code.replace(".", "_")
        data[f"score_{item.pk}"] = values.get(f"score_{key}", "")
        data[f"explanation_{item.pk}"] = values.get(f"explanation_{key}", "")
    data["declared_stars"] = values.get("declared_stars", "")
    data["action"] = values.get("action", "save")
    return data


def self_url(assessment) -> str:
    return reverse("reviews:self_assessment", args=[assessment.pk])


def detail_url(assessment) -> str:
    return reverse("reviews:assessment_detail", args=[assessment.pk])


def db_scores(assessment) -> dict[str, tuple]:
    return {
        row.item.code: (row.score, row.explanation)
        for row in SelfScore.objects.filter(assessment=assessment).select_related("item")
    }


# --- drafts --------------------------------------------------------------------------------


def test_first_save_moves_the_assessment_from_not_started_to_draft_with_one_event(world, assessment, items):
    first = items[0]
    save_self_assessment(assessment=assessment, actor=world.secretary, scores={first.pk: ("4.5", "按期换届")})

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT
    event = AssessmentEvent.objects.get(assessment=assessment)
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "start",
        AssessmentStatus.NOT_STARTED,
        AssessmentStatus.DRAFT,
        world.secretary,
    )
    assert db_scores(assessment) == {"1.1": (D("4.5"), "按期换届")}


def test_later_saves_keep_the_status_and_write_no_event(world, assessment, items):
    save_self_assessment(assessment=assessment, actor=world.secretary, scores={items[0].pk: ("4", "")})
    save_self_assessment(assessment=assessment, actor=world.secretary, scores={items[0].pk: ("5", "改")})

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT
    assert AssessmentEvent.objects.filter(assessment=assessment).count() == 1
    assert db_scores(assessment) == {"1.1": (D("5.0"), "改")}


def test_service_refuses_an_invalid_score_and_saves_nothing(world, assessment, items):
    with pytest.raises(ValidationError) as excinfo:
        save_self_assessment(
            assessment=assessment,
            actor=world.secretary,
            scores={items[0].pk: ("4.5", ""), items[1].pk: ("6", "")},
        )

    assert excinfo.value.message_dict == {
        str(items[1].pk): ["A score of 6 is above the item's maximum of 5.0."]
    }
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.NOT_STARTED
    assert not SelfScore.objects.exists()


def test_service_refuses_someone_who_is_not_the_branch_secretary(world, assessment, items):
    with pytest.raises(PermissionDenied):
        save_self_assessment(
            assessment=assessment, actor=world.parent_reviewer, scores={items[0].pk: ("4", "")}
        )


def test_draft_save_keeps_valid_values_and_reports_invalid_ones_without_losing_others(
    client, world, assessment, items
):
    codes = by_code(items)
    save_self_assessment(
        assessment=assessment, actor=world.secretary, scores={codes["1.3"].pk: ("3", "旧说明")}
    )
    client.force_login(world.secretary)

    response = client.post(
        self_url(assessment),
        form_data(
            items,
            score_1_1="4.5",
            explanation_1_1="选举批复齐全",
            score_1_2="4.55",
            explanation_1_2="每半年一次组织生活会",
            score_1_3="6",
            score_1_4="-1",
            score_1_5="abc",
            score_2_1="5",
            declared_stars="4",
        ),
    )

    assert response.status_code == 200
    page = response.text
    assert "Everything valid was saved" in page
    assert "A score may have at most one decimal place." in page
    assert "A score of 6 is above the item&#x27;s maximum of 5.0." in page
    assert "A score cannot be negative." in page
    assert "“abc” is not a number." in page
    # The typed values come back in their boxes, the invalid ones included.
    for pk, typed in [(codes["1.2"].pk, "4.55"), (codes["1.3"].pk, "6"), (codes["1.4"].pk, "-1")]:
        assert f'name="score_{pk}" id="id_score_{pk}" value="{typed}"' in page
    assert f'name="score_{codes["1.5"].pk}" id="id_score_{codes["1.5"].pk}" value="abc"' in page
    assert "每半年一次组织生活会" in page
    # Valid fields were saved; an invalid score left the saved one alone; its explanation was kept.
    assert db_scores(assessment) == {
        "1.1": (D("4.5"), "选举批复齐全"),
        "1.2": (None, "每半年一次组织生活会"),
        "1.3": (D("3.0"), ""),
        "2.1": (D("5.0"), ""),
    }
    assessment.refresh_from_db()
    assert assessment.declared_stars == 4
    assert assessment.status == AssessmentStatus.DRAFT


def test_a_valid_draft_save_redirects_back_with_a_message(client, world, assessment, items):
    client.force_login(world.secretary)

    session_before = dict(client.session)
    response = client.post(self_url(assessment), form_data(items, score_1_1="4"), follow=True)

    [(url, status)] = response.redirect_chain
    assert status == 302 and url.startswith(self_url(assessment) + "?saved=")
    assert "The draft was saved." in response.text
    # The page tells the script to drop the browser's unsaved copy, once: the signed token is
    # in the address (which the script then drops), not in the session, which stays as it was.
    assert '"clearDraft": true' in response.text
    assert '"clearDraft": false' in client.get(self_url(assessment)).text
    assert dict(client.session) == session_before


def test_only_a_genuine_saved_token_of_this_assessment_clears_the_browser_copy(
    client, world, assessment, items
):
    from django.core import signing

    client.force_login(world.secretary)
    response = client.post(self_url(assessment), form_data(items, score_1_1="4"))
    token = response["Location"].split("?saved=")[1]
    salt = "reviews.self_assessment.saved"

    assert '"clearDraft": true' in client.get(f"{self_url(assessment)}?saved={token}").text
    for forged in (token[:-3] + "abc", signing.dumps(assessment.pk + 1, salt=salt), "1", ""):
        assert '"clearDraft": false' in client.get(self_url(assessment), {"saved": forged}).text


def test_full_width_digits_from_a_chinese_keyboard_are_accepted(client, world, assessment, items):
    client.force_login(world.secretary)

    client.post(self_url(assessment), form_data(items, score_1_1="４．５"))

    assert db_scores(assessment) == {"1.1": (D("4.5"), "")}


def test_the_page_passes_the_standards_rules_to_the_script(client, default_standard, world, assessment):
    client.force_login(world.secretary)

    response = client.get(self_url(assessment))

    script = re.search(
        r'<script id="self-assessment-config" type="application/json">(.*?)</script>', response.text
    )
    config = json.loads(script.group(1))
    assert config["maxScore"] == "100.0"
    assert config["thresholds"] == [[5, "95.0"], [4, "90.0"], [3, "80.0"], [2, "70.0"], [1, "0.0"]]
    assert len(config["items"]) == 19
    assert config["assessmentId"] == assessment.pk
    assert 'inputmode="decimal"' in response.text
    assert "js/self_assessment.js" in response.text


def test_an_expired_session_sends_the_post_to_the_login_page_and_changes_nothing(client, assessment, items):
    response = client.post(self_url(assessment), form_data(items, score_1_1="4"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not SelfScore.objects.exists()


# --- submission --------------------------------------------------------------------------------


def test_submit_refuses_missing_scores_missing_evidence_and_a_missing_declared_star_listing_them(
    world, assessment, items
):
    codes = by_code(items)
    scores = full_marks(items)
    del scores[codes["1.1"].pk], scores[codes["3.2"].pk]
    save_self_assessment(assessment=assessment, actor=world.secretary, scores=scores)
    attach_required_evidence(assessment, items, world.secretary)
    Evidence.objects.filter(assessment=assessment, item=codes["1.2"]).delete()

    with pytest.raises(ValidationError) as excinfo:
        submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=None)

    assert excinfo.value.messages == [
        "Item 1.1 “支部设置合理” has no score.",
        "Item 1.2 “班子团结” needs evidence: attach at least one file.",
        "Item 3.2 “工作机制完善” has no score.",
        "Choose the star level the branch applies for (1 to 5 stars).",
    ]
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT
    assert not SubmissionRound.objects.exists()


def test_submitting_over_http_lists_what_is_missing_and_keeps_the_draft(client, world, assessment, items):
    client.force_login(world.secretary)

    response = client.post(self_url(assessment), form_data(items, score_1_1="4", action="submit"))

    assert response.status_code == 200
    assert "The draft was saved, but it cannot be submitted yet:" in response.text
    assert "Item 1.2 “班子团结” has no score." in response.text
    assert "Item 1.2 “班子团结” needs evidence: attach at least one file." in response.text
    assert "Choose the star level the branch applies for (1 to 5 stars)." in response.text
    assert db_scores(assessment) == {"1.1": (D("4.0"), "")}
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT


def test_submit_creates_round_one_with_a_snapshot_self_total_and_an_event(
    default_standard, world, assessment, items
):
    ready_to_submit(assessment, items, world.secretary, **{"1_1": "4.5", "4_2": "6"})

    submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=4)

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert assessment.declared_stars == 4
    expected_total = total_score(
        rules_from_standard(default_standard),
        {item.code: D({"1.1": "4.5", "4.2": "6"}.get(item.code, str(item.max_score))) for item in items},
    )
    assert expected_total == D("98.5")
    assert assessment.self_total == expected_total
    round_one = SubmissionRound.objects.get(assessment=assessment)
    assert (round_one.number, round_one.declared_stars, round_one.self_total) == (1, 4, D("98.5"))
    assert round_one.submitted_by == world.secretary
    assert round_one.outcome == SubmissionRound.Outcome.PENDING
    snapshot = round_one.snapshot
    assert snapshot["self_total"] == "98.5"
    assert snapshot["self_stars"] == 5
    assert snapshot["declared_stars"] == 4
    assert [entry["code"] for entry in snapshot["items"]] == [item.code for item in items]
    assert snapshot["items"][0]["score"] == "4.5"
    assert snapshot["items"][0]["evidence"] == []
    assert snapshot["items"][1]["evidence"] == [
        {"id": Evidence.objects.get(item=items[1]).pk, "name": "1.2.pdf", "size": 100}
    ]
    event = AssessmentEvent.objects.filter(assessment=assessment).last()
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "submit",
        AssessmentStatus.DRAFT,
        AssessmentStatus.SUBMITTED,
        world.secretary,
    )


def test_submitting_over_http_redirects_to_the_read_only_view(client, world, assessment, items):
    ready_to_submit(assessment, items, world.secretary)
    client.force_login(world.secretary)
    data = form_data(items, declared_stars="5", action="submit")
    data.update({f"score_{item.pk}": str(item.max_score) for item in items})

    response = client.post(self_url(assessment), data, follow=True)

    [(url, status)] = response.redirect_chain
    assert status == 302 and url.startswith(detail_url(assessment) + "?saved=")
    assert '"clearDraft": true' in response.text  # the browser's copy is dropped there too
    assert "The self-assessment was submitted for preliminary review." in response.text
    assert "Submitted: the self-assessment can no longer be changed by the branch." in response.text
    assert 'id="self-assessment-form"' not in response.text
    assessment.refresh_from_db()
    assert (assessment.status, assessment.self_total, assessment.declared_stars) == (
        AssessmentStatus.SUBMITTED,
        D("100.0"),
        5,
    )


def test_editing_after_submit_is_refused_by_the_service_and_nothing_changes(world, assessment, items):
    ready_to_submit(assessment, items, world.secretary)
    submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=5)
    before = db_scores(assessment)

    with pytest.raises(WorkflowError):
        save_self_assessment(assessment=assessment, actor=world.secretary, scores={items[0].pk: ("1", "改")})
    with pytest.raises(WorkflowError):
        submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=5)

    assert db_scores(assessment) == before
    assert SubmissionRound.objects.count() == 1


def test_editing_after_submit_is_refused_over_http_with_409_and_nothing_changes(
    client, world, assessment, items
):
    ready_to_submit(assessment, items, world.secretary)
    submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=5)
    before = db_scores(assessment)
    client.force_login(world.secretary)

    response = client.post(self_url(assessment), form_data(items, score_1_1="1", declared_stars="1"))

    assert response.status_code == 409
    assert "the branch can no longer change it" in response.text
    assert db_scores(assessment) == before
    assessment.refresh_from_db()
    assert (assessment.status, assessment.declared_stars) == (AssessmentStatus.SUBMITTED, 5)


def test_opening_the_edit_page_after_submit_shows_the_read_only_view(client, world, assessment, items):
    ready_to_submit(assessment, items, world.secretary)
    submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=5)
    client.force_login(world.secretary)

    response = client.get(self_url(assessment))

    assert response.status_code == 302
    assert response["Location"] == detail_url(assessment)


def return_to_branch(assessment, reviewer, reason: str) -> None:
    """What the preliminary review does when it returns a submission (written elsewhere)."""
    SubmissionRound.objects.filter(assessment=assessment).update(
        outcome=SubmissionRound.Outcome.RETURNED, comment=reason, reviewed_by=reviewer
    )
    Assessment.objects.filter(pk=assessment.pk).update(status=AssessmentStatus.RETURNED)
    assessment.refresh_from_db()


def test_a_returned_assessment_shows_the_reason_and_is_editable_again(client, world, assessment, items):
    ready_to_submit(assessment, items, world.secretary)
    submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=5)
    return_to_branch(assessment, world.parent_reviewer, "2.4 发展党员材料不全，请补充公示记录。")
    client.force_login(world.secretary)

    response = client.get(self_url(assessment))

    assert response.status_code == 200
    assert 'id="returned-reason"' in response.text
    assert "2.4 发展党员材料不全，请补充公示记录。" in response.text
    assert 'id="self-assessment-form"' in response.text


def test_resubmitting_creates_round_two_with_a_new_snapshot(world, assessment, items):
    ready_to_submit(assessment, items, world.secretary)
    submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=5)
    return_to_branch(assessment, world.parent_reviewer, "请核实得分")

    save_self_assessment(assessment=assessment, actor=world.secretary, scores={items[0].pk: ("3", "已核实")})
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.RETURNED
    submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=4)

    rounds = list(SubmissionRound.objects.filter(assessment=assessment).order_by("number"))
    assert [(r.number, r.outcome, r.declared_stars, r.self_total) for r in rounds] == [
        (1, SubmissionRound.Outcome.RETURNED, 5, D("100.0")),
        (2, SubmissionRound.Outcome.PENDING, 4, D("98.0")),
    ]
    assert rounds[0].snapshot["items"][0]["score"] == "5.0"
    assert rounds[1].snapshot["items"][0] == {
        **rounds[1].snapshot["items"][0],
        "score": "3.0",
        "explanation": "已核实",
    }
    assessment.refresh_from_db()
    assert (assessment.status, assessment.self_total) == (AssessmentStatus.SUBMITTED, D("98.0"))


# --- veto and bonus items ---------------------------------------------------------------------


@pytest.fixture
def veto_standard(db) -> Standard:
    """20 points + a 3-point bonus (capped at 2) + a veto capping at one star; thresholds 19/18/16/14/0."""
    standard = scoring_services.create_standard(name="带否决项的细则", max_score=D("20"), bonus_cap=D("2"))
    for stars, minimum in [(5, "19"), (4, "18"), (3, "16"), (2, "14"), (1, "0")]:
        scoring_services.save_threshold(
            threshold=StarThreshold(standard=standard, stars=stars, min_score=D(minimum))
        )
    dimension = scoring_services.save_dimension(
        dimension=Dimension(standard=standard, order=1, code="1", title="综合", max_score=D("20"))
    )
    for order, (code, points, kind, cap) in enumerate(
        [
            ("1.1", "10", ItemKind.NORMAL, None),
            ("1.2", "10", ItemKind.NORMAL, None),
            ("B1", "3", ItemKind.BONUS, None),
            ("V1", "0", ItemKind.VETO, 1),
        ]
    ):
        scoring_services.save_item(
            item=Item(
                dimension=dimension,
                order=order,
                code=code,
                title=f"项目{code}",
                max_score=D(points),
                kind=kind,
                veto_star_cap=cap,
            )
        )
    root = User.objects.create_superuser("standard-publisher", password=None)
    return scoring_services.publish_standard(standard=standard, actor=root)


@pytest.fixture
def veto_assessment(cycle, world, veto_standard) -> Assessment:
    cycle.standard = veto_standard
    cycle.save()
    return make_assessment(cycle, world.branch)


def test_a_veto_item_is_a_checkbox_stored_as_the_veto_mark_when_it_applies(
    client, world, veto_assessment, veto_standard
):
    codes = by_code(list(Item.objects.filter(dimension__standard=veto_standard)))
    client.force_login(world.secretary)
    page = client.get(self_url(veto_assessment)).text
    assert f'type="checkbox" name="applies_{codes["V1"].pk}"' in page

    client.post(
        self_url(veto_assessment),
        {
            f"score_{codes['1.1'].pk}": "10",
            f"score_{codes['1.2'].pk}": "9.5",
            f"score_{codes['B1'].pk}": "3",
            f"applies_{codes['V1'].pk}": "on",
            "action": "save",
        },
    )

    assert db_scores(veto_assessment) == {
        "1.1": (D("10.0"), ""),
        "1.2": (D("9.5"), ""),
        "B1": (D("3.0"), ""),
        "V1": (VETO_APPLIES, ""),
    }

    client.post(self_url(veto_assessment), {f"score_{codes['1.1'].pk}": "10", "action": "save"})
    # Unticked: "does not apply" is stored as no score.
    assert db_scores(veto_assessment)["V1"] == (None, "")


def test_an_applying_veto_needs_an_explanation_and_caps_the_star_level(world, veto_assessment, veto_standard):
    codes = by_code(list(Item.objects.filter(dimension__standard=veto_standard)))
    scores = {
        codes["1.1"].pk: ("10", ""),
        codes["1.2"].pk: ("9.5", ""),
        codes["B1"].pk: ("3", ""),
        codes["V1"].pk: (True, ""),
    }
    save_self_assessment(assessment=veto_assessment, actor=world.secretary, scores=scores)

    with pytest.raises(ValidationError) as excinfo:
        submit_self_assessment(assessment=veto_assessment, actor=world.secretary, declared_stars=5)
    assert excinfo.value.messages == ["Item V1 “项目V1” applies: explain what happened."]

    scores[codes["V1"].pk] = (True, "一名党员受到党内警告处分")
    save_self_assessment(assessment=veto_assessment, actor=world.secretary, scores=scores)
    submit_self_assessment(assessment=veto_assessment, actor=world.secretary, declared_stars=5)

    snapshot = SubmissionRound.objects.get(assessment=veto_assessment).snapshot
    # 19.5 + bonus 3 capped at 2 = 21.5, capped at the maximum of 20: five stars, vetoed to one.
    assert snapshot["self_total"] == "20.0"
    assert snapshot["self_stars"] == 1
    assert snapshot["applied_vetoes"] == ["V1"]
    assert snapshot["items"][-1]["applies"] is True
    assert snapshot["items"][-1]["score"] is None


# --- scope and roles ----------------------------------------------------------------------------


def test_a_secretary_of_another_branch_gets_404(client, world, assessment):
    client.force_login(world.sibling_secretary)

    assert client.get(self_url(assessment)).status_code == 404
    assert client.post(self_url(assessment), {"action": "save"}).status_code == 404
    assert client.get(detail_url(assessment)).status_code == 404


def test_an_unknown_assessment_gets_404(client, world, db):
    client.force_login(world.secretary)

    assert client.get(reverse("reviews:self_assessment", args=[999999])).status_code == 404


def test_the_parent_reviewer_opening_the_edit_page_gets_403_but_may_read_it(client, world, assessment, items):
    client.force_login(world.parent_reviewer)

    assert client.get(self_url(assessment)).status_code == 403
    assert client.post(self_url(assessment), form_data(items, score_1_1="1")).status_code == 403
    assert client.get(detail_url(assessment)).status_code == 200
    assert not SelfScore.objects.exists()


def test_an_assessment_reviewer_reads_only_assignments(client, world, assessment):
    client.force_login(world.reviewers[0])
    assert client.get(detail_url(assessment)).status_code == 404

    ReviewerAssignment.objects.create(
        assessment=assessment, reviewer=world.reviewers[0], assigned_by=world.secretary
    )

    assert client.get(detail_url(assessment)).status_code == 200
    assert client.get(self_url(assessment)).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, assessment):
    response = client.get(self_url(assessment))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={self_url(assessment)}"


def test_a_closed_cycle_is_not_editable(client, world, assessment, items, cycle):
    Cycle.objects.filter(pk=cycle.pk).update(status=CycleStatus.CLOSED)
    client.force_login(world.secretary)

    assert client.post(self_url(assessment), form_data(items, score_1_1="4")).status_code == 409
    assert not SelfScore.objects.exists()


# --- queries ---------------------------------------------------------------------------------------


def test_the_self_assessment_page_runs_a_fixed_number_of_queries(
    client, world, assessment, items, django_assert_max_num_queries
):
    save_self_assessment(assessment=assessment, actor=world.secretary, scores=full_marks(items[:3]))
    client.force_login(world.secretary)
    client.get(self_url(assessment))  # warm up the session and the content types

    with CaptureQueriesContext(connection) as few:
        client.get(self_url(assessment))
    save_self_assessment(assessment=assessment, actor=world.secretary, scores=full_marks(items))
    attach_required_evidence(assessment, items, world.secretary)
    attach_required_evidence(assessment, items, world.secretary)
    with django_assert_max_num_queries(13), CaptureQueriesContext(connection) as many:
        response = client.get(self_url(assessment))

    assert response.status_code == 200
    assert response.text.count("bi-paperclip") == 2 * sum(item.evidence_required for item in items)
    assert len(many) == len(few)


def test_the_read_only_page_runs_a_fixed_number_of_queries(
    client, world, assessment, items, django_assert_max_num_queries
):
    client.force_login(world.secretary)
    client.get(detail_url(assessment))
    with CaptureQueriesContext(connection) as few:
        client.get(detail_url(assessment))
    ready_to_submit(assessment, items, world.secretary)
    submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=5)

    with django_assert_max_num_queries(13), CaptureQueriesContext(connection) as many:
        client.get(detail_url(assessment))

    assert len(many) == len(few)
