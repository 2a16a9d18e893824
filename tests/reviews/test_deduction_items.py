"""Deduction items (扣分项) on every sheet: the self-assessment, the reviewers' sheets, the 评定表.

The standard is ``make_standard_with_deduction``: 20 points (1.1, 1.2 of 5; 2.1 of 10), the
bonus item B1 (cap 2), the veto V1 and the deduction item K1, up to 3 points off.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from reports import branch_pdfs
from reviews.models import (
    Assessment,
    AssessmentStatus,
    Evidence,
    ReviewerAssignment,
    ReviewScore,
    SelfScore,
)
from reviews.selectors import ScoresVisibility, scoring_summary
from reviews.services.assessment import save_self_assessment, submit_self_assessment
from reviews.services.scoring import assign_reviewers, save_draft_scores, submit_scores
from scoring.arithmetic import ScoreEntry
from scoring.models import Item, ItemKind
from tests.factories import (
    full_marks,
    items_by_code,
    make_assessment,
    make_cycle,
    make_standard_with_deduction,
    make_submitted_assessment,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "private_media")]

D = Decimal


@pytest.fixture
def standard(world):
    return make_standard_with_deduction(committee=world.committee, actor=world.approver)


@pytest.fixture
def items(standard) -> dict[str, Item]:
    return items_by_code(standard)


@pytest.fixture
def cycle(world, standard):
    return make_cycle(
        world.committee,
        name="2025年度星级认定",
        standard=standard,
        opened_by=world.approver,
        self_assessment_deadline=datetime.date(2025, 10, 31),
        preliminary_deadline=datetime.date(2025, 11, 15),
        scoring_deadline=datetime.date(2025, 11, 30),
    )


@pytest.fixture
def assessment(cycle, world) -> Assessment:
    return make_assessment(cycle, world.branch)


def self_scores(items, **overrides) -> dict[int, ScoreEntry]:
    """Full marks, nothing deducted, vetoes not applying; ``overrides``: code → (score, explanation)."""
    entries = {
        item.pk: ScoreEntry(False, "")
        if item.kind == ItemKind.VETO
        else ScoreEntry(str(full_marks(item)), "")
        for item in items.values()
    }
    for code, (score, explanation) in overrides.items():
        entries[items[code].pk] = ScoreEntry(score, explanation)
    return entries


# ---------------------------------------------------------------------------- self-assessment


def test_a_deduction_without_a_reason_is_refused_and_nothing_is_saved(world, assessment, items):
    with pytest.raises(ValidationError) as error:
        save_self_assessment(
            assessment=assessment, actor=world.secretary, scores=self_scores(items, K1=("2", "  "))
        )

    assert "Points deducted need a reason" in " ".join(error.value.message_dict[str(items["K1"].pk)])
    assert not SelfScore.objects.filter(assessment=assessment).exists()


def test_a_deduction_with_a_reason_is_saved_and_taken_off_the_total(world, assessment, items):
    save_self_assessment(
        assessment=assessment,
        actor=world.secretary,
        scores=self_scores(items, K1=("2", "两次材料迟报。")),
    )

    row = SelfScore.objects.get(assessment=assessment, item=items["K1"])
    assert (row.score, row.explanation) == (D("2.0"), "两次材料迟报。")


def test_nothing_deducted_needs_no_reason(world, assessment, items):
    save_self_assessment(assessment=assessment, actor=world.secretary, scores=self_scores(items))

    assert SelfScore.objects.get(assessment=assessment, item=items["K1"]).score == D("0.0")


def test_submitting_records_the_total_after_the_deduction(world, assessment, items):
    save_self_assessment(
        assessment=assessment,
        actor=world.secretary,
        scores=self_scores(items, K1=("1.5", "一次迟报。"), B1=("1", "市级表彰。")),
    )
    Evidence.objects.create(
        assessment=assessment,
        item=items["1.1"],
        file="evidence/placeholder.pdf",
        original_name="选举批复.pdf",
        content_type="application/pdf",
        size=10,
        uploaded_by=world.secretary,
    )

    submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=5)

    assessment.refresh_from_db()
    # 20 normal points + 1 bonus, capped at the maximum of 20, then 1.5 off.
    assert assessment.self_total == D("18.5")
    round_ = assessment.rounds.get()
    k1 = next(entry for entry in round_.snapshot["items"] if entry["code"] == "K1")
    assert (k1["kind"], k1["score"], round_.snapshot["self_total"]) == ("deduction", "1.5", "18.5")


def test_an_unscored_deduction_item_blocks_the_submission(world, assessment, items):
    scores = self_scores(items)
    scores[items["K1"].pk] = ScoreEntry(None, "")
    save_self_assessment(assessment=assessment, actor=world.secretary, scores=scores)

    with pytest.raises(ValidationError) as error:
        submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=5)

    assert "Item K1 “材料报送不及时” has no score." in error.value.messages


def page_data(items, **values) -> dict[str, str]:
    data = {"action": "save", "declared_stars": ""}
    for item in items.values():
        if item.kind == ItemKind.VETO:
            continue
        data[f"score_{item.pk}"] = str(full_marks(item))
        data[f"explanation_{item.pk}"] = ""
    data.update(values)
    return data


def test_the_page_refuses_a_deduction_without_a_reason_and_keeps_what_was_typed(
    client, world, assessment, items
):
    k1 = items["K1"].pk
    client.force_login(world.secretary)

    response = client.post(
        reverse("reviews:self_assessment", args=[assessment.pk]),
        page_data(items, **{f"score_{k1}": "2", f"score_{items['1.2'].pk}": "4.5"}),
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "Points deducted need a reason" in content
    assert f'name="score_{k1}" id="id_score_{k1}" value="2"' in content
    # Every other field was saved; the deduction keeps its saved state (none) until it has a reason.
    saved = {row.item.code: row.score for row in SelfScore.objects.filter(assessment=assessment)}
    assert saved["1.2"] == D("4.5")
    assert "K1" not in saved


def test_the_page_saves_a_deduction_with_its_reason(client, world, assessment, items):
    k1 = items["K1"].pk
    client.force_login(world.secretary)

    response = client.post(
        reverse("reviews:self_assessment", args=[assessment.pk]),
        page_data(items, **{f"score_{k1}": "2", f"explanation_{k1}": "两次材料迟报。"}),
    )

    assert response.status_code == 302
    page = client.get(reverse("reviews:self_assessment", args=[assessment.pk])).content.decode()
    assert 'id="running-total">18.0<' in page
    assert 'id="running-deducted">−2.0<' in page
    assert "Deduction, up to −3" in page and "Points deducted" in page
    detail = client.get(reverse("reviews:assessment_detail", args=[assessment.pk])).content.decode()
    assert "−2.0 / −3" in detail


def test_clearing_the_reason_of_a_saved_deduction_keeps_the_saved_pair(client, world, assessment, items):
    k1 = items["K1"].pk
    save_self_assessment(
        assessment=assessment, actor=world.secretary, scores=self_scores(items, K1=("2", "两次材料迟报。"))
    )
    client.force_login(world.secretary)

    response = client.post(
        reverse("reviews:self_assessment", args=[assessment.pk]),
        page_data(items, **{f"score_{k1}": "3", f"explanation_{k1}": ""}),
    )

    assert response.status_code == 200
    row = SelfScore.objects.get(assessment=assessment, item_id=k1)
    assert (row.score, row.explanation) == (D("2.0"), "两次材料迟报。")


# ---------------------------------------------------------------------------- the assessment team


@pytest.fixture
def scoring(cycle, world) -> Assessment:
    assessment = make_submitted_assessment(
        cycle, world.branch, world.secretary, status=AssessmentStatus.FORWARDED, short={"K1": D("1")}
    )
    assign_reviewers(assessment=assessment, actor=world.approver, reviewers=world.reviewers[:2])
    return assessment


def reviewer_sheet(items, **overrides) -> dict[int, ScoreEntry]:
    entries = {
        item.pk: ScoreEntry(D(0) if item.kind == ItemKind.VETO else full_marks(item), "")
        for item in items.values()
    }
    for code, (score, comment) in overrides.items():
        entries[items[code].pk] = ScoreEntry(None if score is None else D(score), comment)
    return entries


def assignment_of(assessment, reviewer) -> ReviewerAssignment:
    return ReviewerAssignment.objects.get(assessment=assessment, reviewer=reviewer)


def test_a_reviewer_cannot_submit_a_deduction_without_a_comment(world, scoring, items):
    first = world.reviewers[0]

    with pytest.raises(ValidationError) as error:
        submit_scores(
            assignment=assignment_of(scoring, first), actor=first, entries=reviewer_sheet(items, K1=("1", ""))
        )

    assert error.value.message_dict == {"K1": ["Give the reason for the deduction in the comment."]}


def test_a_reviewers_draft_may_hold_a_deduction_without_a_comment_yet(world, scoring, items):
    first = world.reviewers[0]

    save_draft_scores(
        assignment=assignment_of(scoring, first), actor=first, entries=reviewer_sheet(items, K1=("1", ""))
    )

    assert ReviewScore.objects.get(assignment__reviewer=first, item=items["K1"]).score == D("1.0")


def test_a_reviewer_must_enter_0_on_a_deduction_item_with_nothing_to_deduct(world, scoring, items):
    first = world.reviewers[0]

    with pytest.raises(ValidationError) as error:
        submit_scores(
            assignment=assignment_of(scoring, first),
            actor=first,
            entries=reviewer_sheet(items, K1=(None, "")),
        )

    assert error.value.message_dict == {"K1": ["Score this item."]}


def test_the_consolidated_score_takes_off_the_mean_of_the_reviewers_deductions(world, scoring, items):
    first, second = world.reviewers[:2]
    submit_scores(
        assignment=assignment_of(scoring, first),
        actor=first,
        entries=reviewer_sheet(items, K1=("1", "一次迟报。")),
    )
    submit_scores(
        assignment=assignment_of(scoring, second),
        actor=second,
        entries=reviewer_sheet(items, K1=("2", "两次迟报。")),
    )

    summary = scoring_summary(scoring)
    k1 = next(row for row in summary.items if row.item.code == "K1")
    assert k1.mean == D("1.5")
    assert summary.consolidated_score == D("18.5")
    assert [total.total for total in summary.reviewer_totals] == [D("19.0"), D("18.0")]
    scoring.refresh_from_db()
    assert (scoring.status, scoring.consolidated_score, scoring.proposed_stars) == (
        AssessmentStatus.SCORED,
        D("18.5"),
        4,
    )


def test_the_score_sheet_shows_the_deduction_item_and_its_missing_reason(client, world, scoring, items):
    first = world.reviewers[0]
    k1 = items["K1"].pk
    client.force_login(first)
    url = reverse("reviews:score", args=[scoring.pk])
    data = {"action": "submit"}
    for item in items.values():
        if item.kind != ItemKind.VETO:
            data[f"score_{item.pk}"] = str(full_marks(item))
        data[f"comment_{item.pk}"] = ""
    data[f"score_{k1}"] = "1"

    page = client.get(url).content.decode()
    response = client.post(url, data)

    assert "Deduction, up to −3" in page and "Points deducted" in page
    assert "Reason (required for a deduction)" in page
    assert response.status_code == 400
    assert response.context["form"].errors == {
        f"comment_{k1}": ["Give the reason for the deduction in the comment."]
    }


def test_the_committees_scores_page_prints_the_deductions_with_a_minus(client, world, scoring, items):
    first, second = world.reviewers[:2]
    for reviewer, points in ((first, "1"), (second, "2")):
        submit_scores(
            assignment=assignment_of(scoring, reviewer),
            actor=reviewer,
            entries=reviewer_sheet(items, K1=(points, "迟报。")),
        )
    client.force_login(world.approver)

    page = client.get(reverse("reviews:team_scores", args=[scoring.pk])).content.decode()

    assert "Deduction item" in page
    assert "Self −1.0 / −3" in page
    assert "−1.0" in page and "−2.0" in page
    assert 'Mean deduction: <span class="fw-semibold">−1.5</span>' in page
    assert "18.5" in page


# ---------------------------------------------------------------------------- the 评定表


def test_the_assessment_form_prints_the_deduction_with_a_minus(world, scoring, items):
    first, second = world.reviewers[:2]
    for reviewer, points in ((first, "1"), (second, "2")):
        submit_scores(
            assignment=assignment_of(scoring, reviewer),
            actor=reviewer,
            entries=reviewer_sheet(items, K1=(points, "迟报。")),
        )

    data = branch_pdfs.assessment_report_data(
        Assessment.objects.get(pk=scoring.pk), visibility=ScoresVisibility(scores=True, names=True)
    )

    k1 = next(item for dimension in data["dimensions"] for item in dimension["items"] if item["code"] == "K1")
    assert k1 == {
        **k1,
        "max": "−3",
        "is_deduction": True,
        "self_score": "−1.0",
        "scores": ["−1.0", "−2.0"],
        "result": "−1.5",
    }
    assert (data["consolidated_score"], data["consolidated_deducted"]) == ("18.5", "−1.5")
    html = branch_pdfs.render_to_string("reports/branch/assessment_report.html", {"data": data})
    assert "deduction item" in html and "deductions −1.5 included" in html


def test_the_assessment_form_with_a_deduction_renders_without_missing_glyphs(world, scoring, items, tmp_path):
    for reviewer in world.reviewers[:2]:
        submit_scores(
            assignment=assignment_of(scoring, reviewer),
            actor=reviewer,
            entries=reviewer_sheet(items, K1=("1", "迟报。")),
        )
    data = branch_pdfs.assessment_report_data(
        Assessment.objects.get(pk=scoring.pk), visibility=ScoresVisibility(scores=True, names=True)
    )

    with translation.override("zh-hans"):
        result = branch_pdfs.render_assessment_report(data, tmp_path)

    assert result.notdef_warnings == []
    assert result.path.read_bytes().startswith(b"%PDF")
