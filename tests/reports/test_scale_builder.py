"""The scale benchmarks' tools at a small size: the committee builder, the page and the load benchmark.

The builder writes rows in bulk instead of calling the per-branch services, so these tests hold
its rows to what the services would have written: the arithmetic's totals, a certificate and a
star event for every certified result, an unbroken chain of events, and rows the services go on
working with (a submission it built can be forwarded, a built score sheet submitted).
"""

import io
from collections import defaultdict

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from branches.models import Organization, OrgKind, RoleAssignment, User
from reports.management.commands.bench_pages import PAGES
from reports.management.commands.build_scale_committee import (
    committee_code,
    current_cycle_name,
    evidence_name,
    past_cycle_name,
    username,
)
from reviews.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    CycleEvent,
    CycleStatus,
    ReviewerAssignment,
    SelfScore,
    StarEvent,
    StarEventKind,
    SubmissionRound,
)
from reviews.selectors import scoring_summary, standard_items
from reviews.services.assessment import self_result
from reviews.services.preliminary import forward_assessment
from reviews.services.scoring import ScoreEntry, submit_scores
from scoring.selectors import rules_from_standard

PREFIX = "TS"
BRANCHES = 50


def build(**options) -> str:
    out = io.StringIO()
    call_command(
        "build_scale_committee",
        branches=BRANCHES,
        party_committees=5,
        reviewers=6,
        prefix=PREFIX,
        stdout=out,
        **options,
    )
    return out.getvalue()


@pytest.fixture
def scale(db, private_media):
    build()
    committee = Organization.objects.get(code=committee_code(PREFIX))
    cycles = {cycle.name: cycle for cycle in committee.cycles.all()}
    return committee, cycles[past_cycle_name(PREFIX)], cycles[current_cycle_name(PREFIX)]


def test_the_committee_has_its_tree_and_one_person_per_role(scale):
    committee, _past, _current = scale
    subtree = Organization.objects.filter(path__startswith=committee.path)
    assert subtree.filter(kind=OrgKind.PARTY_COMMITTEE).count() == 5
    assert subtree.filter(kind=OrgKind.BRANCH).count() == BRANCHES
    secretaries = RoleAssignment.objects.filter(role="branch_secretary", organization__in=subtree)
    assert secretaries.count() == BRANCHES
    assert secretaries.values("organization").distinct().count() == BRANCHES
    approver = User.objects.get(username=username(PREFIX, "approver"))
    assert approver.check_password("Scale@2026")


def test_every_certified_result_has_its_certificate_and_star_event(scale):
    _committee, past, _current = scale
    past.refresh_from_db()
    assert past.status == CycleStatus.CLOSED
    assessments = Assessment.objects.filter(cycle=past)
    assert assessments.count() == BRANCHES
    assert set(assessments.values_list("status", flat=True)) == {AssessmentStatus.CERTIFIED}
    for assessment in assessments.select_related("certificate"):
        certificate = assessment.certificate
        assert certificate.status == CertificateStatus.VALID
        assert certificate.stars == certificate.certified_stars == assessment.decided_stars
        assert (
            StarEvent.objects.filter(
                certificate=certificate, kind=StarEventKind.CERTIFICATION, to_stars=certificate.stars
            ).count()
            == 1
        )
    assert Certificate.objects.filter(assessment__cycle=past).count() == BRANCHES
    assert list(CycleEvent.objects.filter(cycle=past).order_by("pk").values_list("action", flat=True)) == [
        "publicize",
        "certify",
        "close",
    ]


def test_the_consolidated_totals_are_the_arithmetics(scale):
    _committee, past, _current = scale
    for assessment in Assessment.objects.filter(cycle=past).select_related("cycle__standard"):
        summary = scoring_summary(assessment)
        assert len(summary.submitted) == 3
        assert assessment.consolidated_score == summary.consolidated_score
        assert assessment.proposed_stars == summary.proposed_stars
        assert assessment.decided_stars == summary.proposed_stars


def test_the_self_totals_and_snapshots_are_the_arithmetics(scale):
    _committee, past, current = scale
    rules = rules_from_standard(past.standard)
    submitted = Assessment.objects.filter(cycle__in=[past, current], self_total__isnull=False)
    assert submitted.count() > BRANCHES
    for assessment in submitted.select_related("cycle"):
        items = standard_items(assessment)
        scores = dict(SelfScore.objects.filter(assessment=assessment).values_list("item_id", "score"))
        result = self_result(rules, items, scores)
        assert assessment.self_total == result.total
        assert assessment.declared_stars == result.stars
        latest = SubmissionRound.objects.filter(assessment=assessment).get()
        assert latest.snapshot["self_total"] == str(result.total)
        assert len(latest.snapshot["items"]) == len(items)


def test_each_assessments_events_lead_from_not_started_to_its_status(scale):
    _committee, past, current = scale
    chains = defaultdict(list)
    for assessment_id, source, target in (
        AssessmentEvent.objects.filter(assessment__cycle__in=[past, current])
        .order_by("at", "pk")
        .values_list("assessment_id", "from_status", "to_status")
    ):
        chains[assessment_id].append((source, target))
    for assessment in Assessment.objects.filter(cycle__in=[past, current]):
        status = AssessmentStatus.NOT_STARTED
        for source, target in chains[assessment.pk]:
            assert source == status, assessment
            status = target
        assert status == assessment.status


def test_the_current_cycle_is_in_its_deadline_rush(scale):
    _committee, _past, current = scale
    statuses = set(Assessment.objects.filter(cycle=current).values_list("status", flat=True))
    assert statuses == {
        AssessmentStatus.NOT_STARTED,
        AssessmentStatus.DRAFT,
        AssessmentStatus.SUBMITTED,
        AssessmentStatus.FORWARDED,
        AssessmentStatus.SCORING,
    }


def test_the_services_carry_on_from_the_built_rows(scale):
    _committee, _past, current = scale
    submitted = (
        Assessment.objects.filter(cycle=current, status=AssessmentStatus.SUBMITTED)
        .select_related("branch")
        .first()
    )
    parent = User.objects.get(
        role_assignments__role="parent_reviewer", role_assignments__organization=submitted.branch.parent
    )
    forward_assessment(assessment=submitted, actor=parent, recommendation="同意推荐。")
    assert SubmissionRound.objects.get(assessment=submitted).outcome == SubmissionRound.Outcome.FORWARDED

    # A reviewer who has not submitted yet submits a full sheet; the service takes the built draft on.
    pending = (
        ReviewerAssignment.objects.filter(assessment__cycle=current, submitted_at__isnull=True)
        .select_related("assessment__cycle", "reviewer")
        .first()
    )
    items = standard_items(pending.assessment)
    entries = {item.pk: ScoreEntry(item.max_score, "") for item in items}
    submit_scores(assignment=pending, actor=pending.reviewer, entries=entries)
    pending.refresh_from_db()
    assert pending.submitted_at is not None


def test_a_second_build_with_the_prefix_is_refused_and_delete_removes_everything(scale):
    committee, _past, _current = scale
    with pytest.raises(CommandError, match="exists already"):
        build()
    assert default_storage.exists(evidence_name(PREFIX))
    out = io.StringIO()
    call_command("build_scale_committee", prefix=PREFIX, delete=True, stdout=out)
    assert "deleted TS" in out.getvalue()
    assert not Organization.objects.filter(path__startswith=committee.path).exists()
    assert not User.objects.filter(username__startswith="ts-").exists()
    assert not Assessment.objects.filter(branch__code__startswith="TS-").exists()
    assert not default_storage.exists(evidence_name(PREFIX))
    # … and it builds again.
    assert "built TS" in build()


@pytest.mark.parametrize("role", sorted({role for role, _label, _path in PAGES}))
def test_the_pages_of_each_role_answer_on_the_built_committee(scale, role):
    _committee, past, current = scale
    user = User.objects.get(username=username(PREFIX, role))
    client = Client()
    client.force_login(user)
    for page_role, label, path in PAGES:
        if page_role == role:
            response = client.get(path.format(current=current.pk, past=past.pk))
            assert response.status_code == 200, (label, path)


def test_bench_pages_prints_a_row_for_every_page(scale):
    out = io.StringIO()
    call_command("bench_pages", prefix=PREFIX, rounds=1, no_demo=True, stdout=out)
    text = out.getvalue()
    rows = [line for line in text.splitlines() if line.rstrip().endswith(" 200")]
    assert len(rows) == len(PAGES), text


def test_bench_rush_refuses_anything_but_this_machine(db):
    for host in (
        "http://10.0.0.5:8000",
        "https://127.0.0.1:8000",
        "http://example.org",
        "http://127.0.0.1:80/x",
    ):
        with pytest.raises(CommandError, match="only http:// to this machine"):
            call_command("bench_rush", host=host, users=[1], seconds=1)


@pytest.mark.django_db(transaction=True)
def test_bench_rush_plays_the_mix_against_a_live_server(live_server, private_media):
    if connection.vendor != "postgresql":
        # The live server's threads share SQLite's one in-memory connection, which refuses
        # concurrent writers ("database table is locked"); the tool is meant for PostgreSQL.
        pytest.skip("needs PostgreSQL (DATABASE_URL): concurrent users on one in-memory SQLite")
    build()
    started = timezone.now()
    out = io.StringIO()
    call_command(
        "bench_rush", host=live_server.url, users=[4], seconds=2, think=0.05, prefix=PREFIX, stdout=out
    )
    text = out.getvalue()
    assert "failed" not in text, text  # every virtual user signed in
    row = next(line.split() for line in text.splitlines() if line.split()[:1] == ["4"])
    requests, errors = int(row[1]), int(row[6])
    assert requests > 10, text
    assert errors == 0, text
    # The secretary's draft saves went through the service, which touches the assessment.
    assert Assessment.objects.filter(
        cycle__name=current_cycle_name(PREFIX), updated_at__gt=started, status=AssessmentStatus.DRAFT
    ).exists()
