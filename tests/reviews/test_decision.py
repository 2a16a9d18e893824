"""The committee's decision, the public notice (公示), objections and certification."""

import datetime
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.errors import WorkflowError
from branches.models import Organization
from branches.roles import Role
from reviews.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    Cycle,
    CycleStatus,
    NoticeBatch,
    Objection,
    ReviewerAssignment,
    ReviewScore,
    StarEvent,
    StarEventKind,
)
from reviews.services.decision import (
    certify_batch,
    decide_assessment,
    publicize_cycle,
    record_objection,
    resolve_objection,
)
from scoring.models import Item, ItemKind
from tests.factories import decide_all, make_sized_committee, make_user, open_default_cycle

pytestmark = pytest.mark.usefixtures("english")

SHANGHAI = ZoneInfo("Asia/Shanghai")
PUBLISHED_AT = datetime.datetime(2025, 6, 10, 9, 0, tzinfo=SHANGHAI)
DURING_NOTICE = PUBLISHED_AT + datetime.timedelta(days=2)
AFTER_NOTICE = PUBLISHED_AT + datetime.timedelta(days=5, hours=1)


@pytest.fixture
def second_approver(world):
    """Another approver of the committee, for two decisions at once."""
    return make_user("sunshenpi", "孙审批", roles=((Role.COMMITTEE_APPROVER, world.committee),))


@pytest.fixture
def cycle(world, default_standard):
    return open_default_cycle(world.committee, world.approver, standard=default_standard)


def scored(cycle, branch, *, score="92.0", proposed=4, declared=4) -> Assessment:
    """Put the branch's assessment where the assessment team leaves it: SCORED, with a proposal."""
    assessment = Assessment.objects.get(cycle=cycle, branch=branch)
    assessment.status = AssessmentStatus.SCORED
    assessment.consolidated_score = Decimal(score)
    assessment.self_total = Decimal(score) + 1
    assessment.proposed_stars = proposed
    assessment.declared_stars = declared
    assessment.save()
    return assessment


@pytest.fixture
def publicized(cycle, world):
    """B1 (4★) and B2 (5★) under public notice since PUBLISHED_AT; B3 and B4 never took part."""
    scored(cycle, world.branch, score="92.0", proposed=4)
    scored(cycle, world.sibling_branch, score="96.5", proposed=5, declared=5)
    decide_all(cycle, world.approver)
    with time_machine.travel(PUBLISHED_AT, tick=False):
        publicize_cycle(cycle=cycle, actor=world.approver)
    return cycle


def certify_cycle(*, cycle, actor):
    """Certify the cycle's one notice batch: these tests publish a single batch."""
    return certify_batch(batch=NoticeBatch.objects.get(cycle_id=cycle.pk), actor=actor)


def statuses(cycle):
    return dict(cycle.assessments.values_list("branch__code", "status"))


# --- Decision --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deciding_the_proposed_level_needs_no_reason(cycle, world):
    assessment = scored(cycle, world.branch, proposed=4)

    decided = decide_assessment(assessment=assessment, actor=world.approver, stars=4)

    assert decided.status == AssessmentStatus.DECIDED
    assert (decided.decided_stars, decided.decided_by, decided.decision_reason) == (4, world.approver, "")
    event = AssessmentEvent.objects.get(assessment=assessment)
    assert (event.action, event.from_status, event.to_status) == ("decide", "scored", "decided")


@pytest.mark.django_db
def test_deciding_another_level_than_proposed_needs_a_reason(cycle, world):
    assessment = scored(cycle, world.branch, proposed=4)

    with pytest.raises(ValidationError) as error:
        decide_assessment(assessment=assessment, actor=world.approver, stars=3, reason="  ")

    assert "reason" in error.value.message_dict
    assessment.refresh_from_db()
    assert (assessment.status, assessment.decided_stars) == (AssessmentStatus.SCORED, None)
    assert not AssessmentEvent.objects.exists()


@pytest.mark.django_db
def test_deciding_another_level_with_a_reason_records_it(cycle, world):
    assessment = scored(cycle, world.branch, proposed=4)

    decided = decide_assessment(
        assessment=assessment, actor=world.approver, stars=3, reason="群众满意度调查低于要求"
    )

    assert (decided.decided_stars, decided.decision_reason) == (3, "群众满意度调查低于要求")
    assert AssessmentEvent.objects.get(assessment=assessment).note == "群众满意度调查低于要求"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["staff", "reviewer1", "secretary"])
def test_only_an_approver_decides(cycle, world, who):
    assessment = scored(cycle, world.branch, proposed=4)

    with pytest.raises(PermissionDenied):
        decide_assessment(assessment=assessment, actor=world.people[who], stars=4)


@pytest.mark.django_db
def test_the_decision_form_without_a_reason_shows_the_error(client, cycle, world):
    assessment = scored(cycle, world.branch, proposed=4)
    client.force_login(world.approver)

    response = client.post(
        reverse("reviews:assessment_decide", args=[cycle.pk, assessment.pk]), {"stars": "5", "reason": ""}
    )

    assert response.status_code == 400
    assert (
        "Give the reason for deciding a star level other than the proposed one." in response.content.decode()
    )
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SCORED


@pytest.mark.django_db
def test_the_decision_form_decides_and_returns_to_the_list(client, cycle, world):
    assessment = scored(cycle, world.branch, proposed=4)
    client.force_login(world.approver)

    response = client.post(
        reverse("reviews:assessment_decide", args=[cycle.pk, assessment.pk]),
        {"stars": "4", "reason": "", "page": "1"},
    )

    assert response.status_code == 302
    assert (
        response["Location"]
        == reverse("reviews:cycle_decisions", args=[cycle.pk]) + f"?page=1#a{assessment.pk}"
    )
    assessment.refresh_from_db()
    assert assessment.decided_stars == 4


@pytest.mark.django_db
def test_staff_see_the_decisions_but_get_403_when_deciding(client, cycle, world):
    assessment = scored(cycle, world.branch, proposed=4)
    client.force_login(world.staff)

    assert client.get(reverse("reviews:cycle_decisions", args=[cycle.pk])).status_code == 200
    response = client.post(
        reverse("reviews:assessment_decide", args=[cycle.pk, assessment.pk]), {"stars": "4"}
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_decisions_page_is_403_to_a_reviewer_and_404_outside_the_committee(client, cycle, world):
    url = reverse("reviews:cycle_decisions", args=[cycle.pk])
    client.force_login(world.reviewers[0])
    assert client.get(url).status_code == 403
    client.force_login(world.other_approver)
    assert client.get(url).status_code == 404
    client.force_login(world.secretary)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_the_decisions_page_shows_scores_and_levels(client, cycle, world):
    assessment = scored(cycle, world.branch, score="92.0", proposed=4, declared=5)
    client.force_login(world.approver)

    page = client.get(reverse("reviews:cycle_decisions", args=[cycle.pk])).content.decode()

    assert "教育局第一党支部" in page
    assert "92.0" in page and "93.0" in page  # consolidated and self-assessment totals
    assert f'id="a{assessment.pk}"' in page
    assert "教育局第二党支部" not in page  # not scored yet


@pytest.mark.django_db
def test_the_decisions_page_warns_when_a_level_exceeds_its_cap(client, world, default_standard):
    cycle = open_default_cycle(
        world.committee, world.approver, standard=default_standard, star_caps={"5": 30}
    )
    scored(cycle, world.branch, score="96.0", proposed=5)
    scored(cycle, world.sibling_branch, score="97.0", proposed=5)
    scored(cycle, world.branch_under_committee, score="91.0", proposed=4)
    client.force_login(world.approver)

    page = client.get(reverse("reviews:cycle_decisions", args=[cycle.pk])).content.decode()

    # Two of three branches (66.7%) would be five-star, above the cap of 30%.
    assert "5-star branches are 66.7% of the decisions, above the cap of 30%." in page
    assert page.count('class="alert alert-warning py-1 px-2 small mb-2 cap-warning"') == 2


@pytest.mark.django_db
def test_the_cap_counts_a_decision_instead_of_the_proposal(client, world, default_standard):
    cycle = open_default_cycle(
        world.committee, world.approver, standard=default_standard, star_caps={"5": 50}
    )
    scored(cycle, world.branch, score="96.0", proposed=5)
    second = scored(cycle, world.sibling_branch, score="97.0", proposed=5)
    decide_assessment(assessment=second, actor=world.approver, stars=4, reason="上级通报批评")
    client.force_login(world.approver)

    page = client.get(reverse("reviews:cycle_decisions", args=[cycle.pk])).content.decode()

    assert "cap-warning" not in page  # one five-star of two is 50%, not above the cap


# --- Public notice ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_publishing_leaves_an_undecided_scored_assessment_for_a_later_batch(cycle, world):
    first = scored(cycle, world.branch, proposed=4)
    scored(cycle, world.sibling_branch, proposed=5)
    decide_assessment(assessment=first, actor=world.approver, stars=4)

    batch = publicize_cycle(cycle=cycle, actor=world.approver)

    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.OPEN
    assert statuses(cycle)["B1"] == AssessmentStatus.PUBLICIZED
    assert statuses(cycle)["B2"] == AssessmentStatus.SCORED
    assert list(batch.assessments.values_list("branch__code", flat=True)) == ["B1"]


@pytest.mark.django_db
def test_publishing_over_http_is_409_while_nothing_is_decided(client, cycle, world):
    scored(cycle, world.branch, proposed=4)
    client.force_login(world.approver)

    response = client.post(reverse("reviews:cycle_publicize", args=[cycle.pk]))

    assert response.status_code == 409
    assert "nothing to publish" in response.content.decode()


@pytest.mark.django_db
def test_publishing_puts_every_decision_under_notice_for_the_period(cycle, world):
    scored(cycle, world.branch, proposed=4)
    scored(cycle, world.sibling_branch, proposed=5)
    decide_all(cycle, world.approver)

    with time_machine.travel(PUBLISHED_AT, tick=False):
        publicize_cycle(cycle=cycle, actor=world.staff)

    cycle.refresh_from_db()
    batch = cycle.notice_batches.get()
    assert (cycle.status, batch.number) == (CycleStatus.OPEN, 1)
    assert batch.started_at == PUBLISHED_AT
    assert batch.ends_at == PUBLISHED_AT + datetime.timedelta(days=5)
    assert statuses(cycle) == {
        "B1": AssessmentStatus.PUBLICIZED,
        "B2": AssessmentStatus.PUBLICIZED,
        "B3": AssessmentStatus.NOT_STARTED,
        "B4": AssessmentStatus.NOT_STARTED,
    }
    assert AssessmentEvent.objects.filter(action="publicize", actor=world.staff).count() == 2


@pytest.mark.django_db
def test_publishing_with_nothing_decided_is_refused(cycle, world):
    with pytest.raises(WorkflowError):
        publicize_cycle(cycle=cycle, actor=world.approver)


@pytest.mark.django_db
def test_decisions_are_final_once_the_notice_is_published(client, publicized, world):
    assessment = Assessment.objects.get(cycle=publicized, branch=world.branch)

    with pytest.raises(WorkflowError):
        decide_assessment(assessment=assessment, actor=world.approver, stars=4)
    client.force_login(world.approver)
    response = client.post(
        reverse("reviews:assessment_decide", args=[publicized.pk, assessment.pk]), {"stars": "4"}
    )
    assert response.status_code == 409


@pytest.mark.django_db
def test_the_public_notice_page_lists_the_branches_and_their_levels(client, publicized, world):
    client.force_login(world.staff)

    with time_machine.travel(DURING_NOTICE, tick=False):
        page = client.get(reverse("reviews:cycle_publicity", args=[publicized.pk])).content.decode()

    assert "教育局第一党支部" in page and "教育局第二党支部" in page
    assert "工委机关党支部" not in page
    assert page.index("教育局第二党支部") < page.index("教育局第一党支部")  # five stars listed first
    assert "2025-06-15 09:00" in page  # end of the notice period


# --- Objections and certification ------------------------------------------------------------


@pytest.mark.django_db
def test_certifying_during_the_notice_is_refused_and_changes_nothing(publicized, world):
    with (
        time_machine.travel(DURING_NOTICE, tick=False),
        pytest.raises(WorkflowError, match="public notice runs until"),
    ):
        certify_cycle(cycle=publicized, actor=world.approver)

    publicized.refresh_from_db()
    assert publicized.status == CycleStatus.OPEN
    assert set(statuses(publicized).values()) == {AssessmentStatus.PUBLICIZED, AssessmentStatus.NOT_STARTED}
    assert not Certificate.objects.exists()
    assert not StarEvent.objects.exists()


@pytest.mark.django_db
def test_certifying_during_the_notice_over_http_is_409(client, publicized, world):
    client.force_login(world.approver)

    with time_machine.travel(DURING_NOTICE, tick=False):
        response = client.post(reverse("reviews:batch_certify", args=[publicized.pk, 1]))

    assert response.status_code == 409
    assert "certification is possible only after it ends" in response.content.decode()
    assert not Certificate.objects.exists()


@pytest.mark.django_db
def test_an_unresolved_objection_blocks_certification(publicized, world):
    assessment = Assessment.objects.get(cycle=publicized, branch=world.sibling_branch)
    with time_machine.travel(DURING_NOTICE, tick=False):
        objection = record_objection(
            assessment=assessment,
            actor=world.staff,
            received_from="群众来信",
            content="该支部党费收缴不及时",
        )

    with time_machine.travel(AFTER_NOTICE, tick=False):
        with pytest.raises(WorkflowError, match="1 objections are not resolved yet"):
            certify_cycle(cycle=publicized, actor=world.approver)
        assert not Certificate.objects.exists()

        resolve_objection(
            objection=objection, actor=world.approver, resolution="经核查，党费已按时足额缴纳。"
        )
        certify_cycle(cycle=publicized, actor=world.approver)

    assert Certificate.objects.count() == 2


@pytest.mark.django_db
def test_an_objection_needs_content_and_a_resolution_needs_text(publicized, world):
    assessment = Assessment.objects.get(cycle=publicized, branch=world.branch)
    with time_machine.travel(DURING_NOTICE, tick=False):
        with pytest.raises(ValidationError):
            record_objection(assessment=assessment, actor=world.staff, received_from="", content=" ")
        objection = record_objection(
            assessment=assessment, actor=world.staff, received_from="", content="异议"
        )
        with pytest.raises(ValidationError):
            resolve_objection(objection=objection, actor=world.approver, resolution="")
        with pytest.raises(PermissionDenied):
            resolve_objection(objection=objection, actor=world.staff, resolution="已核实")

    objection.refresh_from_db()
    assert objection.resolved_at is None


@pytest.mark.django_db
def test_objections_are_received_only_during_the_notice(publicized, world):
    assessment = Assessment.objects.get(cycle=publicized, branch=world.branch)

    with time_machine.travel(AFTER_NOTICE, tick=False), pytest.raises(WorkflowError):
        record_objection(assessment=assessment, actor=world.staff, received_from="", content="异议")

    assert not Objection.objects.exists()


@pytest.mark.django_db
def test_objections_are_recorded_and_resolved_through_the_pages(client, publicized, world):
    assessment = Assessment.objects.get(cycle=publicized, branch=world.branch)
    client.force_login(world.approver)

    with time_machine.travel(DURING_NOTICE, tick=False):
        response = client.post(
            reverse("reviews:objection_record", args=[publicized.pk, assessment.pk]),
            {"received_from": "党员张某", "content": "组织生活会次数不足"},
        )
        assert response.status_code == 302
        objection = Objection.objects.get()
        page = client.get(reverse("reviews:cycle_publicity", args=[publicized.pk])).content.decode()
        assert "组织生活会次数不足" in page
        response = client.post(
            reverse("reviews:objection_resolve", args=[publicized.pk, objection.pk]),
            {"resolution": "经核实，次数符合要求。"},
        )

    assert response.status_code == 302
    objection.refresh_from_db()
    assert (objection.resolved_by, objection.resolution) == (world.approver, "经核实，次数符合要求。")


@pytest.mark.django_db
def test_certifying_issues_certificates_and_star_events(publicized, world):
    with time_machine.travel(AFTER_NOTICE, tick=False):
        certify_cycle(cycle=publicized, actor=world.approver)

    publicized.refresh_from_db()
    # B3 and B4 have not started: the cycle stays open for them.
    assert (publicized.status, publicized.notice_batches.get().certified_at) == (
        CycleStatus.OPEN,
        AFTER_NOTICE,
    )
    assert statuses(publicized) == {
        "B1": AssessmentStatus.CERTIFIED,
        "B2": AssessmentStatus.CERTIFIED,
        "B3": AssessmentStatus.NOT_STARTED,
        "B4": AssessmentStatus.NOT_STARTED,
    }
    certificates = {c.branch.code: c for c in Certificate.objects.select_related("branch")}
    assert set(certificates) == {"B1", "B2"}
    assert (certificates["B1"].certified_stars, certificates["B1"].stars) == (4, 4)
    assert certificates["B2"].stars == 5
    assert certificates["B1"].valid_until == datetime.date(2027, 6, 15)  # 24 months after certification
    assert certificates["B1"].status == CertificateStatus.VALID
    events = {e.branch.code: e for e in StarEvent.objects.select_related("branch")}
    assert (events["B1"].kind, events["B1"].from_stars, events["B1"].to_stars) == (
        StarEventKind.CERTIFICATION,
        None,
        4,
    )
    assert (events["B2"].actor, events["B2"].at) == (world.approver, AFTER_NOTICE)
    assert AssessmentEvent.objects.filter(action="certify").count() == 2


@pytest.mark.django_db
def test_certifying_supersedes_the_previous_certificate(world, default_standard):
    old_cycle = open_default_cycle(
        world.committee, world.approver, standard=default_standard, name="2023—2024年度星级认定"
    )
    old = Certificate.objects.create(
        branch=world.branch,
        assessment=Assessment.objects.get(cycle=old_cycle, branch=world.branch),
        certified_stars=3,
        stars=2,  # lowered after a violation
        issued_at=datetime.datetime(2023, 6, 20, tzinfo=SHANGHAI),
        valid_until=datetime.date(2025, 6, 20),
    )
    cycle = open_default_cycle(world.committee, world.approver, standard=default_standard)
    scored(cycle, world.branch, proposed=4)
    decide_all(cycle, world.approver)
    with time_machine.travel(PUBLISHED_AT, tick=False):
        publicize_cycle(cycle=cycle, actor=world.approver)

    with time_machine.travel(AFTER_NOTICE, tick=False):
        certify_cycle(cycle=cycle, actor=world.approver)

    old.refresh_from_db()
    assert old.status == CertificateStatus.SUPERSEDED
    new = Certificate.objects.get(branch=world.branch, status=CertificateStatus.VALID)
    event = StarEvent.objects.get(certificate=new)
    assert (event.kind, event.from_stars, event.to_stars) == (StarEventKind.CERTIFICATION, 2, 4)


@pytest.mark.django_db
def test_certifying_twice_makes_one_change(client, publicized, world, second_approver):
    client.force_login(second_approver)
    with time_machine.travel(AFTER_NOTICE, tick=False):
        certify_cycle(cycle=publicized, actor=world.approver)
        response = client.post(reverse("reviews:batch_certify", args=[publicized.pk, 1]))

    assert response.status_code == 409
    assert Certificate.objects.count() == 2
    assert StarEvent.objects.count() == 2


@pytest.mark.django_db
def test_certification_is_the_approvers_and_outsiders_get_404(client, publicized, world):
    url = reverse("reviews:batch_certify", args=[publicized.pk, 1])
    with time_machine.travel(AFTER_NOTICE, tick=False):
        client.force_login(world.staff)
        assert client.post(url).status_code == 403
        client.force_login(world.other_approver)
        assert client.post(url).status_code == 404
    assert not Certificate.objects.exists()


@pytest.mark.django_db
def test_the_confirmation_pages_ask_before_acting(client, cycle, world):
    scored(cycle, world.branch, proposed=4)
    decide_all(cycle, world.approver)
    client.force_login(world.approver)

    page = client.get(reverse("reviews:cycle_publicize", args=[cycle.pk])).content.decode()

    assert "Yes, publish the public notice" in page
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.OPEN


@pytest.mark.django_db(transaction=True)
def test_two_approvers_certifying_at_once_make_one_change(world, default_standard, second_approver):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers; the race needs row locks")
    cycle = open_default_cycle(world.committee, world.approver, standard=default_standard)
    scored(cycle, world.branch, proposed=4)
    decide_all(cycle, world.approver)
    with time_machine.travel(PUBLISHED_AT, tick=False):
        publicize_cycle(cycle=cycle, actor=world.approver)
    barrier = threading.Barrier(2)
    outcomes = []

    def certify(actor):
        try:
            barrier.wait()
            certify_cycle(cycle=Cycle.objects.get(pk=cycle.pk), actor=actor)
            outcomes.append("certified")
        except WorkflowError:
            outcomes.append("refused")
        finally:
            connection.close()

    with time_machine.travel(AFTER_NOTICE, tick=False):
        threads = [
            threading.Thread(target=certify, args=(actor,)) for actor in (world.approver, second_approver)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(outcomes) == ["certified", "refused"]
    assert Certificate.objects.count() == 1
    assert StarEvent.objects.count() == 1


# --- Fixed query count -----------------------------------------------------------------------


def committee_with_scored_branches(prefix, count, default_standard):
    """A committee with ``count`` scored branches, each scored by three submitted reviewers."""
    committee = make_sized_committee(prefix, count).committee
    approver = make_user(f"{prefix}-approver", roles=((Role.COMMITTEE_APPROVER, committee),))
    reviewers = [
        make_user(f"{prefix}-reviewer{n}", roles=((Role.ASSESSMENT_REVIEWER, committee),)) for n in range(3)
    ]
    cycle = open_default_cycle(committee, approver, standard=default_standard, star_caps={"5": 30})
    assessments = list(cycle.assessments.all())
    for number, assessment in enumerate(assessments):
        assessment.status = AssessmentStatus.SCORED
        assessment.consolidated_score = Decimal("93.0")
        assessment.proposed_stars = 5 if number % 2 else 4
        assessment.declared_stars = 5
        assessment.self_total = Decimal("97.0")
    Assessment.objects.bulk_update(
        assessments, ["status", "consolidated_score", "proposed_stars", "declared_stars", "self_total"]
    )
    now = timezone.now()
    assignments = ReviewerAssignment.objects.bulk_create(
        ReviewerAssignment(
            assessment=a, cycle_id=a.cycle_id, reviewer=r, assigned_by=approver, submitted_at=now, version=1
        )
        for a in assessments
        for r in reviewers
    )
    items = list(Item.objects.filter(dimension__standard=default_standard))
    ReviewScore.objects.bulk_create(
        ReviewScore(
            assignment=assignment,
            item=item,
            version=1,
            score=Decimal(0) if item.kind == ItemKind.VETO else item.max_score,
        )
        for assignment in assignments
        for item in items
    )
    return cycle, approver


def count_queries(client, user, url) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context)


@pytest.mark.django_db
def test_the_decisions_page_runs_the_same_queries_for_10_and_200_branches(client, default_standard):
    small, small_approver = committee_with_scored_branches("S", 10, default_standard)
    large, large_approver = committee_with_scored_branches("L", 200, default_standard)

    few = count_queries(client, small_approver, reverse("reviews:cycle_decisions", args=[small.pk]))
    many = count_queries(client, large_approver, reverse("reviews:cycle_decisions", args=[large.pk]))

    assert few == many
    page = client.get(reverse("reviews:cycle_decisions", args=[large.pk])).content.decode()
    assert page.count('class="card decision-row"') == 25
    assert "L-reviewer0: <span" in page


@pytest.mark.django_db
def test_a_reviewers_total_counts_only_the_submitted_version(client, default_standard):
    cycle, approver = committee_with_scored_branches("S", 1, default_standard)
    assignment = ReviewerAssignment.objects.filter(assessment__cycle=cycle).order_by("pk").first()
    item = (
        Item.objects.filter(dimension__standard=default_standard, kind=ItemKind.NORMAL).order_by("pk").first()
    )
    # A draft of the next version stays private to the reviewer until submitted.
    ReviewScore.objects.create(assignment=assignment, item=item, version=2, score=Decimal(0))
    client.force_login(approver)

    page = client.get(reverse("reviews:cycle_decisions", args=[cycle.pk])).content.decode()

    assert f'{assignment.reviewer.display_name}: <span class="fw-semibold">100.0</span>' in page


@pytest.mark.django_db
def test_the_branch_list_never_shows_organizations_outside_the_cycle(client, cycle, world):
    client.force_login(world.approver)

    page = client.get(reverse("reviews:cycle_detail", args=[cycle.pk])).content.decode()

    assert "区第一党支部" not in page
    assert Organization.objects.filter(code="D1").exists()
