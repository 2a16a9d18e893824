"""The demo command builds a believable committee with a past and a current cycle, once."""

import io

import pytest
from django.core.management import call_command

from branches.models import Organization, OrgKind, RoleAssignment, User
from reviews.models import (
    Appeal,
    AppealStatus,
    Assessment,
    AssessmentEvent,
    Certificate,
    Cycle,
    Objection,
    ReviewScore,
    SelfScore,
    StarEvent,
)
from scoring.models import ItemKind


def snapshot() -> dict[str, int]:
    models = [Organization, User, RoleAssignment, Cycle, Assessment, AssessmentEvent, Certificate, StarEvent]
    return {m.__name__: m.objects.count() for m in models}


@pytest.mark.django_db
def test_demo_data_is_believable_and_running_it_twice_changes_nothing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    first = snapshot()
    call_command("load_demo", stdout=io.StringIO())
    assert snapshot() == first

    assert Organization.objects.filter(kind=OrgKind.COMMITTEE, name="滨江市直机关工委").exists()
    assert 4 <= Organization.objects.filter(kind__in=["party_committee", "general_branch"]).count() <= 6
    assert 30 <= Organization.objects.filter(kind=OrgKind.BRANCH).count() <= 50
    roles = set(RoleAssignment.objects.values_list("role", flat=True))
    assert roles == {
        "branch_secretary",
        "parent_reviewer",
        "assessment_reviewer",
        "committee_approver",
        "staff",
    }

    past, current = Cycle.objects.order_by("opened_at")
    assert past.status == "closed" and current.status == "open"
    assert Certificate.objects.filter(assessment__cycle=past).count() == past.assessments.count()
    assert StarEvent.objects.filter(kind="downgrade").count() == 1
    states = set(current.assessments.values_list("status", flat=True))
    assert {
        "not_started",
        "draft",
        "submitted",
        "returned",
        "forwarded",
        "scoring",
        "scored",
        "decided",
    } <= states
    # Four results of the current cycle are under public notice, one with an objection lodged
    # online by a member; two more are decided and wait for the next batch.
    assert (
        current.assessments.filter(status="publicized", notice_batch__certified_at__isnull=True).count() == 4
    )
    assert Objection.objects.filter(assessment__cycle=current, lodged_by__username="shuji").count() == 1
    # The demo secretary's own branch is left for a newcomer to fill in.
    assert current.assessments.get(branch__code="BJ-FGW-01").status == "not_started"
    # A newcomer sees an appeal (the demo secretary's branch, last cycle) and a deduction item.
    appeal = Appeal.objects.get()
    assert (appeal.assessment.branch.code, appeal.assessment.cycle, appeal.status) == (
        "BJ-FGW-01",
        past,
        AppealStatus.REJECTED,
    )
    assert appeal.events.count() == 2
    # The current cycle runs on the committee's standard with a deduction item, and some
    # branches' sheets deduct points on it, with the reason, as the team confirms.
    assert current.standard.committee is not None
    deducted = SelfScore.objects.filter(
        assessment__cycle=current, item__kind=ItemKind.DEDUCTION, score__gt=0
    ).exclude(explanation="")
    assert deducted.exists()
    assert (
        ReviewScore.objects.filter(
            assignment__assessment__cycle=current, item__kind=ItemKind.DEDUCTION, score__gt=0
        )
        .exclude(comment="")
        .exists()
    )
    # --- official documents: the bulletin's 通报 and the past cycle's 表彰决定 issued (numbered,
    # stored), a 认定结果通知 to each party committee as a draft; the second run made none again.
    from reports.models import DocumentKind, OfficialDocument

    issued = OfficialDocument.objects.filter(status="issued").order_by("number")
    assert [(d.kind, d.document_number[:4]) for d in issued] == [
        (DocumentKind.BULLETIN, "滨直工委"),
        (DocumentKind.COMMENDATION, "滨直工委"),
    ]
    assert all(d.docx.name and d.docx.storage.exists(d.docx.name) for d in issued)
    notices = OfficialDocument.objects.filter(kind=DocumentKind.RESULTS_NOTICE)
    assert notices.count() >= 4 and set(notices.values_list("status", flat=True)) == {"draft"}
    # --- end of official documents
