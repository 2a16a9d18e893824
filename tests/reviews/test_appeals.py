"""Appeals (复核申请): apply in the window, accept or reject, re-score blind by other reviewers, decide."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from branches.errors import WorkflowError
from branches.roles import Role
from reports.bulletin.data import bulletin_data
from reports.quarters import quarter_of
from reviews.demo import DEMO_PDF
from reviews.models import Appeal, AppealEvent, AppealReviewer, AppealStatus, AssessmentStatus
from reviews.selectors import (
    appeal_counts,
    appeal_deadline,
    appeal_reviewer_options,
    appeal_scores_visibility,
    appeal_summary,
    assessments_with_open_appeals,
)
from reviews.services.appeals import (
    accept_appeal,
    apply_for_appeal,
    assign_appeal_reviewers,
    decide_appeal,
    reject_appeal,
    save_appeal_scores,
)
from reviews.services.decision import certify_batch, publicize_cycle
from scoring.arithmetic import ScoreEntry
from tests.factories import (
    decide_all,
    forward_and_assign,
    items_by_code,
    make_user,
    open_default_cycle,
    standard_items,
    submit_sheet,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CONTESTED = ("1.1", "1.2")
REASON = "1.1、1.2 两项的会议记录已在自评时上传，考核组未予采信，申请复核。"


@pytest.fixture
def published(world, private_media):
    """B1 scored by one reviewer who took 10 points off 1.1 and 1.2 (90 → four stars), published."""
    cycle = open_default_cycle(world.committee, world.approver)
    items = standard_items(cycle.standard)
    assessment = cycle.assessments.get(branch=world.branch)
    first = world.reviewers[0]
    forward_and_assign(
        assessment,
        secretary=world.secretary,
        parent=world.parent_reviewer,
        approver=world.approver,
        reviewers=[first],
        items=items,
    )
    submit_sheet(assessment, first, items, {code: (Decimal(5), "未见会议记录。") for code in CONTESTED})
    decide_all(cycle, world.approver)
    publicize_cycle(cycle=cycle, actor=world.approver)
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.PUBLICIZED and assessment.decided_stars == 4
    return assessment


def contested(assessment):
    by_code = items_by_code(assessment.cycle.standard)
    return [by_code[code] for code in CONTESTED]


def apply(world, assessment, **extra):
    return apply_for_appeal(
        assessment=assessment,
        actor=world.secretary,
        reason=REASON,
        items=contested(assessment),
        files=[SimpleUploadedFile("会议记录.pdf", DEMO_PDF)],
        **extra,
    )


def accepted(world, assessment):
    appeal = apply(world, assessment)
    return accept_appeal(appeal=appeal, actor=world.approver, reason="理由充分，同意复核。")


def rescore(world, appeal, reviewer, score="5"):
    assignment = AppealReviewer.objects.get(appeal=appeal, reviewer=reviewer)
    entries = {item.pk: ScoreEntry(Decimal(score), "记录齐全。") for item in contested(appeal.assessment)}
    return save_appeal_scores(assignment=assignment, actor=reviewer, entries=entries, submit=True)


def rescored(world, assessment):
    appeal = accepted(world, assessment)
    second, third = world.reviewers[1:]
    assign_appeal_reviewers(appeal=appeal, actor=world.approver, reviewers=[second, third])
    rescore(world, appeal, second)
    return rescore(world, appeal, third)


# --- applying -------------------------------------------------------------------------------------


def test_the_secretary_may_appeal_during_the_window_with_reason_items_and_evidence(world, published):
    appeal = apply(world, published)
    assert appeal.status == AppealStatus.SUBMITTED
    assert appeal.original_stars == 4
    assert sorted(item.code for item in appeal.items.all()) == list(CONTESTED)
    (stored,) = appeal.files.all()
    assert stored.original_name == "会议记录.pdf" and stored.file.name.startswith(f"appeals/{appeal.pk}/")
    assert list(AppealEvent.objects.filter(appeal=appeal).values_list("action", "to_status")) == [
        ("apply", AppealStatus.SUBMITTED)
    ]


def test_an_appeal_after_the_window_is_refused_with_the_end_of_the_window(world, published):
    deadline = appeal_deadline(published)
    assert deadline - timezone.now() <= datetime.timedelta(days=published.cycle.appeal_days)
    later = time_machine.travel(deadline + datetime.timedelta(minutes=1), tick=False)
    with later, pytest.raises(WorkflowError, match="appeal period ended"):
        apply(world, published)
    assert not Appeal.objects.exists()


def test_an_appeal_before_the_result_is_published_is_refused(world, published):
    sibling = published.cycle.assessments.get(branch=world.sibling_branch)
    with pytest.raises(WorkflowError, match="under public notice"):
        apply_for_appeal(
            assessment=sibling, actor=world.sibling_secretary, reason=REASON, items=contested(published)
        )


def test_a_result_is_appealed_once(world, published):
    apply(world, published)
    with pytest.raises(WorkflowError, match="already been appealed"):
        apply(world, published)


def test_only_the_branch_secretary_appeals(world, published):
    for someone in (world.approver, world.parent_reviewer, world.sibling_secretary):
        with pytest.raises(PermissionDenied):
            apply_for_appeal(assessment=published, actor=someone, reason=REASON, items=contested(published))


def test_an_appeal_needs_a_reason_and_an_item(world, published):
    with pytest.raises(ValidationError) as error:
        apply_for_appeal(assessment=published, actor=world.secretary, reason="  ", items=contested(published))
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        apply_for_appeal(assessment=published, actor=world.secretary, reason=REASON, items=[])
    assert "items" in error.value.message_dict


# --- accepting or rejecting ----------------------------------------------------------------------


def test_the_approver_rejects_with_a_reason_and_the_appeal_is_closed(world, published):
    appeal = apply(world, published)
    with pytest.raises(ValidationError):
        reject_appeal(appeal=appeal, actor=world.approver, reason="")
    appeal = reject_appeal(appeal=appeal, actor=world.approver, reason="扣分依据充分，不予复核。")
    assert appeal.status == AppealStatus.REJECTED and appeal.review_reason == "扣分依据充分，不予复核。"
    assert not assessments_with_open_appeals().exists()
    with pytest.raises(WorkflowError, match="already been answered"):
        accept_appeal(appeal=appeal, actor=world.approver, reason="改为受理。")


def test_accepting_is_the_approvers_alone(world, published):
    appeal = apply(world, published)
    for someone in (world.staff, world.reviewers[1], world.secretary, world.other_approver):
        with pytest.raises(PermissionDenied):
            accept_appeal(appeal=appeal, actor=someone, reason="同意。")
    appeal = accept_appeal(appeal=appeal, actor=world.approver, reason="同意复核。")
    assert appeal.status == AppealStatus.ACCEPTED and appeal.reviewers_wanted == 2


def test_an_open_appeal_holds_its_assessment_back_from_certification(world, published):
    appeal = apply(world, published)
    assert list(assessments_with_open_appeals()) == [published]
    reject_appeal(appeal=appeal, actor=world.approver, reason="不予复核。")
    assert not assessments_with_open_appeals().exists()


# --- re-reviewers -----------------------------------------------------------------------------------


def test_re_reviewers_exclude_the_original_reviewers_and_the_conflicted(world, published):
    conflicted = make_user(
        "chongtu",
        "冲突者",
        roles=((Role.ASSESSMENT_REVIEWER, world.committee), (Role.PARENT_REVIEWER, world.party_committee)),
    )
    appeal = accepted(world, published)
    options = {option.user: option for option in appeal_reviewer_options(appeal)}
    assert [u for u, o in options.items() if o.eligible] == list(world.reviewers[1:])
    assert not options[world.reviewers[0]].eligible
    assert "Scored this result before." in options[world.reviewers[0]].reasons
    assert not options[conflicted].eligible
    for wrong in ([world.reviewers[0], world.reviewers[1]], [conflicted, world.reviewers[1]]):
        with pytest.raises(ValidationError):
            assign_appeal_reviewers(appeal=appeal, actor=world.approver, reviewers=wrong)
    with pytest.raises(ValidationError, match="exactly 2"):
        assign_appeal_reviewers(appeal=appeal, actor=world.approver, reviewers=[world.reviewers[1]])
    appeal = assign_appeal_reviewers(appeal=appeal, actor=world.staff, reviewers=world.reviewers[1:])
    assert appeal.status == AppealStatus.RESCORING


def test_re_scoring_is_blind_until_one_has_submitted(world, published):
    appeal = accepted(world, published)
    second, third = world.reviewers[1:]
    assign_appeal_reviewers(appeal=appeal, actor=world.approver, reviewers=[second, third])
    assert not appeal_scores_visibility(second, appeal).scores
    rescore(world, appeal, second)
    assert appeal_scores_visibility(second, appeal).scores
    assert not appeal_scores_visibility(third, appeal).scores
    assert not appeal_scores_visibility(world.secretary, appeal).scores
    assert appeal_scores_visibility(world.approver, appeal).names


def test_a_re_reviewer_scores_only_their_own_sheet_and_must_explain(world, published):
    appeal = accepted(world, published)
    second, third = world.reviewers[1:]
    assign_appeal_reviewers(appeal=appeal, actor=world.approver, reviewers=[second, third])
    assignment = AppealReviewer.objects.get(appeal=appeal, reviewer=second)
    entries = {item.pk: ScoreEntry(Decimal(5), "") for item in contested(published)}
    with pytest.raises(PermissionDenied):
        save_appeal_scores(assignment=assignment, actor=third, entries=entries, submit=True)
    with pytest.raises(ValidationError):
        save_appeal_scores(assignment=assignment, actor=second, entries=entries, submit=True)


def test_the_last_re_score_completes_the_re_scoring_with_the_new_total(world, published):
    appeal = rescored(world, published)
    assert appeal.status == AppealStatus.RESCORED
    assert appeal.rescore_total == Decimal("100.0") and appeal.proposed_stars == 5
    summary = appeal_summary(appeal)
    assert summary.original_total == Decimal("90.0")
    assert [(row.item.code, row.team_mean, row.mean) for row in summary.rows] == [
        ("1.1", Decimal("0.0"), Decimal("5.0")),
        ("1.2", Decimal("0.0"), Decimal("5.0")),
    ]


# --- the outcome ------------------------------------------------------------------------------------


def test_the_outcome_changes_the_decided_star_with_a_reason(world, published):
    appeal = rescored(world, published)
    with pytest.raises(PermissionDenied):
        decide_appeal(appeal=appeal, actor=world.staff, stars=5, reason="复核后改为五星。")
    with pytest.raises(ValidationError):
        decide_appeal(appeal=appeal, actor=world.approver, stars=5, reason="")
    appeal = decide_appeal(appeal=appeal, actor=world.approver, stars=5, reason="复核后改为五星。")
    published.refresh_from_db()
    assert appeal.status == AppealStatus.CHANGED and appeal.outcome_stars == 5
    assert published.decided_stars == 5 and published.status == AssessmentStatus.PUBLICIZED
    assert not assessments_with_open_appeals().exists()
    assert list(AppealEvent.objects.filter(appeal=appeal).values_list("action", flat=True)) == [
        "apply",
        "accept",
        "assign",
        "complete_rescoring",
        "change",
    ]


def test_the_same_star_upholds_the_result(world, published):
    appeal = rescored(world, published)
    appeal = decide_appeal(appeal=appeal, actor=world.approver, stars=4, reason="维持原评定。")
    published.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD and published.decided_stars == 4


def test_the_outcome_waits_for_the_re_scoring(world, published):
    appeal = accepted(world, published)
    with pytest.raises(WorkflowError, match="not been re-scored"):
        decide_appeal(appeal=appeal, actor=world.approver, stars=5, reason="改为五星。")


def test_the_bulletin_counts_appeals_by_outcome(world, published):
    appeal = rescored(world, published)
    decide_appeal(appeal=appeal, actor=world.approver, stars=5, reason="改为五星。")
    now = timezone.now()
    counts = appeal_counts(
        world.committee, now - datetime.timedelta(days=1), now + datetime.timedelta(days=1)
    )
    assert counts == {"total": 1, "rejected": 0, "upheld": 0, "changed": 1, "open": 0}


# --- the pages: out of scope 404, wrong role 403, refused step 409 ------------------------------


def test_the_pages_answer_404_out_of_scope_and_403_for_a_role_too_low(client, world, published):
    appeal = apply(world, published)
    client.force_login(world.sibling_secretary)
    assert client.get(reverse("reviews:appeal_detail", args=[appeal.pk])).status_code == 404
    client.force_login(world.other_approver)
    assert client.get(reverse("reviews:appeal_review", args=[appeal.pk])).status_code == 404
    client.force_login(world.staff)
    assert client.get(reverse("reviews:appeal_review", args=[appeal.pk])).status_code == 403
    client.force_login(world.secretary)
    assert client.get(reverse("reviews:appeal_detail", args=[appeal.pk])).status_code == 200
    assert client.get(reverse("reviews:appeal_review", args=[appeal.pk])).status_code == 403
    assert client.get(reverse("reviews:appeal_apply", args=[published.pk])).status_code == 409


def test_the_branch_sees_its_appeal_on_the_assessment_page_and_at_home(client, world, published):
    client.force_login(world.secretary)
    page = client.get(reverse("reviews:assessment_detail", args=[published.pk])).content.decode()
    assert reverse("reviews:appeal_apply", args=[published.pk]) in page
    appeal = apply(world, published)
    for url in (reverse("reviews:assessment_detail", args=[published.pk]), reverse("home")):
        page = client.get(url).content.decode()
        assert reverse("reviews:appeal_detail", args=[appeal.pk]) in page, url
        assert 'data-status="submitted"' in page, url


# --- the window is the cycle's; the to-dos are on the home page ----------------------------------


def test_the_appeal_period_is_set_when_the_cycle_opens(world):
    cycle = open_default_cycle(world.committee, world.approver, appeal_days=10)
    assert cycle.appeal_days == 10
    assert open_default_cycle(world.committee, world.approver, name="另一周期").appeal_days == 5


def test_the_home_page_tells_each_whom_an_appeal_waits_for(client, world, published):
    appeal = apply(world, published)
    client.force_login(world.approver)
    assert 'class="mb-1 appeals-to-act"' in client.get(reverse("home")).content.decode()
    accept_appeal(appeal=appeal, actor=world.approver, reason="同意复核。")
    client.force_login(world.staff)
    assert 'class="mb-1 appeals-to-assign"' in client.get(reverse("home")).content.decode()
    assign_appeal_reviewers(appeal=appeal, actor=world.staff, reviewers=world.reviewers[1:])
    client.force_login(world.reviewers[1])
    assert 'class="mb-1 appeals-to-score"' in client.get(reverse("home")).content.decode()
    client.force_login(world.reviewers[0])  # scored the result, re-scores nothing
    assert "sec-appeals" not in client.get(reverse("home")).content.decode()


def test_certification_of_the_batch_waits_until_its_appeal_is_closed(world, published):
    appeal = apply(world, published)
    batch = published.notice_batch
    after = time_machine.travel(batch.ends_at + datetime.timedelta(hours=1), tick=False)
    with after, pytest.raises(WorkflowError, match="appeals are not closed"):
        certify_batch(batch=batch, actor=world.approver)
    reject_appeal(appeal=appeal, actor=world.approver, reason="不予复核。")
    with time_machine.travel(batch.ends_at + datetime.timedelta(hours=1), tick=False):
        certify_batch(batch=batch, actor=world.approver)
    published.refresh_from_db()
    assert published.status == AssessmentStatus.CERTIFIED


def test_the_bulletin_of_the_quarter_carries_the_appeal_counts(world, published):
    apply(world, published)
    year, quarter = quarter_of(timezone.localdate())
    data = bulletin_data(committee=world.committee, year=year, quarter=quarter)
    assert data["appeals"] == {"total": 1, "rejected": 0, "upheld": 0, "changed": 0, "open": 1}


def test_a_re_reviewer_reads_the_self_assessment_and_its_evidence_but_not_before_assignment(
    client, world, published
):
    appeal = accepted(world, published)
    second = world.reviewers[1]
    client.force_login(second)
    detail = reverse("reviews:assessment_detail", args=[published.pk])
    assert client.get(detail).status_code == 404
    assign_appeal_reviewers(appeal=appeal, actor=world.approver, reviewers=world.reviewers[1:])
    assert client.get(detail).status_code == 200
    page = client.get(reverse("reviews:appeal_score", args=[appeal.pk]))
    assert page.status_code == 200
    evidence = published.evidence.first()
    assert reverse("reviews:evidence_download", args=[evidence.pk]) in page.content.decode()
    download = client.get(reverse("reviews:evidence_download", args=[evidence.pk]))
    assert download.status_code == 200
    b"".join(download.streaming_content)  # read to the end, so the file is closed
    download.close()
