"""Quarterly checks on the services and pages: workflow refusals, scope, self-reports, monthly
checks, proposals, flags, exports and query counts."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from branches.errors import WorkflowError
from branches.roles import Role
from checks.models import (
    CheckRound,
    CheckRoundEvent,
    CheckSheet,
    CheckSheetEvent,
    CheckSheetStatus,
    DowngradeProposal,
    LeadershipFlag,
    ProposalStatus,
    YearResult,
)
from checks.selectors import (
    check_items,
    check_todos_for,
    get_check_round_for_user_or_404,
    get_check_sheet_for_user_or_404,
)
from checks.services.entries import record_check_entry
from checks.services.rounds import (
    open_check_round,
    publish_check_round,
    return_sheet,
    save_self_report,
    save_sheet_scores,
    submit_sheet_scores,
)
from checks.services.years import dismiss_proposal, downgrade_from_proposal, record_flag_action
from reviews.models import StarEvent
from scoring.models import StandardPurpose
from tests.factories import make_sized_committee, make_user

from .helpers import build_check_world, certify_branch, run_quarter, score_sheet, scores_for_total

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
IN_Q2 = "2025-06-20 10:00 +0800"


@pytest.fixture
def cw(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(IN_Q2, tick=False):
        world = build_check_world()
        check_round, _created = open_check_round(
            committee=world.committee, year=2025, quarter=2, actor=world.staff
        )
        world.round = check_round
        yield world


def sheet_of(world, code) -> CheckSheet:
    return CheckSheet.objects.get(round=world.round, branch=world.branches[code])


# --- Opening -----------------------------------------------------------------------------------


def test_a_round_pins_the_routine_check_standard_and_gives_every_branch_a_sheet(cw):
    assert cw.round.standard.purpose == StandardPurpose.ROUTINE_CHECK
    assert len(check_items(cw.round.standard_id)) == 30
    assert cw.round.standard.max_score == Decimal("100")
    assert cw.round.sheets.count() == 6
    assert set(cw.round.sheets.values_list("group__code", flat=True)) == {"KP1", "KP2"}
    event = CheckRoundEvent.objects.get(round=cw.round)
    assert (event.action, event.actor, event.to_status) == ("open", cw.staff, "open")


def test_a_person_opening_a_quarter_already_open_is_refused(cw):
    with pytest.raises(ValidationError):
        open_check_round(committee=cw.committee, year=2025, quarter=2, actor=cw.approver)
    assert CheckRound.objects.count() == 1


def test_only_the_committees_approver_or_staff_open_a_round(cw):
    for person in (cw.p1_reviewer, cw.secretary_a, cw.outsider):
        with pytest.raises(PermissionDenied):
            open_check_round(committee=cw.committee, year=2025, quarter=3, actor=person)


def test_certification_cycles_never_offer_the_check_standard(cw):
    from scoring.selectors import published_standards_for

    assert not published_standards_for(cw.committee).filter(purpose=StandardPurpose.ROUTINE_CHECK).exists()
    assert published_standards_for(cw.committee, StandardPurpose.ROUTINE_CHECK).filter(
        pk=cw.round.standard_id
    )


# --- Scoring and its refusals --------------------------------------------------------------------


def test_only_the_branchs_parent_reviewer_scores_it(cw):
    sheet = sheet_of(cw, "A")
    for person in (cw.p2_reviewer, cw.secretary_a, cw.approver):
        with pytest.raises(PermissionDenied):
            save_sheet_scores(sheet=sheet, actor=person, scores=scores_for_total(sheet, "90"))
    assert not sheet.scores.exists()


def test_a_bad_score_refuses_the_whole_save(cw):
    sheet = sheet_of(cw, "A")
    item = check_items(cw.round.standard_id)[0]
    scores = scores_for_total(sheet, "90")
    scores[item.pk] = (str(item.max_score + 1), "")
    with pytest.raises(ValidationError) as refused:
        save_sheet_scores(sheet=sheet, actor=cw.p1_reviewer, scores=scores)
    assert item.code in str(refused.value)
    assert not sheet.scores.exists()


def test_submitting_needs_every_item_scored(cw):
    sheet = sheet_of(cw, "A")
    scores = scores_for_total(sheet, "90")
    scores.pop(next(iter(scores)))
    save_sheet_scores(sheet=sheet, actor=cw.p1_reviewer, scores=scores)
    with pytest.raises(ValidationError):
        submit_sheet_scores(sheet=sheet, actor=cw.p1_reviewer)
    sheet.refresh_from_db()
    assert sheet.status == CheckSheetStatus.PENDING and sheet.total is None


def test_submitted_scores_are_frozen_until_the_committee_returns_them(cw):
    sheet = score_sheet(sheet_of(cw, "A"), cw.p1_reviewer, "90")
    assert (sheet.status, sheet.total) == (CheckSheetStatus.SUBMITTED, Decimal("90"))
    with pytest.raises(WorkflowError):
        save_sheet_scores(sheet=sheet, actor=cw.p1_reviewer, scores=scores_for_total(sheet, "80"))
    with pytest.raises(WorkflowError):
        submit_sheet_scores(sheet=sheet, actor=cw.p1_reviewer)
    with pytest.raises(PermissionDenied):
        return_sheet(sheet=sheet, actor=cw.p1_reviewer, reason="再看看")
    with pytest.raises(ValidationError):
        return_sheet(sheet=sheet, actor=cw.approver, reason=" ")
    return_sheet(sheet=sheet, actor=cw.approver, reason="第3项扣分依据不足")
    sheet.refresh_from_db()
    assert (sheet.status, sheet.total, sheet.return_reason) == (
        CheckSheetStatus.RETURNED,
        None,
        "第3项扣分依据不足",
    )
    score_sheet(sheet, cw.p1_reviewer, "88")
    actions = list(CheckSheetEvent.objects.filter(sheet=sheet).values_list("action", "actor__username"))
    assert actions == [("submit", "k_p1"), ("return", "k_approver"), ("submit", "k_p1")]


def test_a_round_is_published_only_once_every_sheet_is_submitted_and_only_once(cw):
    for code in "ABCDE":
        score_sheet(sheet_of(cw, code), cw.reviewer_of(code), "90")
    with pytest.raises(WorkflowError):
        publish_check_round(check_round=cw.round, actor=cw.approver)
    score_sheet(sheet_of(cw, "F"), cw.p2_reviewer, "90")
    with pytest.raises(PermissionDenied):
        publish_check_round(check_round=cw.round, actor=cw.p1_reviewer)
    publish_check_round(check_round=cw.round, actor=cw.staff)
    assert set(cw.round.sheets.values_list("status", flat=True)) == {CheckSheetStatus.PUBLISHED}
    with pytest.raises(WorkflowError):
        publish_check_round(check_round=cw.round, actor=cw.staff)
    with pytest.raises(WorkflowError):
        return_sheet(sheet=sheet_of(cw, "A"), actor=cw.approver, reason="晚了")
    assert CheckRoundEvent.objects.filter(round=cw.round, action="publish", actor=cw.staff).count() == 1


# --- Self-reports ---------------------------------------------------------------------------------


def test_the_secretary_self_reports_until_the_deadline_and_not_after_submission(cw):
    sheet = sheet_of(cw, "A")
    item = check_items(cw.round.standard_id)[0]
    assert save_self_report(sheet=sheet, actor=cw.secretary_a, texts={item.pk: "按月召开支委会"}) == 1
    with pytest.raises(PermissionDenied):
        save_self_report(sheet=sheet_of(cw, "B"), actor=cw.secretary_a, texts={item.pk: "越权"})
    with time_machine.travel("2025-07-01 09:00 +0800", tick=False), pytest.raises(WorkflowError):
        save_self_report(sheet=sheet, actor=cw.secretary_a, texts={item.pk: "逾期"})
    score_sheet(sheet, cw.p1_reviewer, "90")
    with pytest.raises(WorkflowError):
        save_self_report(sheet=sheet, actor=cw.secretary_a, texts={item.pk: "改"})


# --- Monthly checks and proposals ---------------------------------------------------------------------


def test_a_monthly_check_with_a_violation_proposes_a_downgrade_and_the_approver_decides(cw):
    certify_branch(cw, "A", 5)
    item = check_items(cw.round.standard_id)[0]
    entry = record_check_entry(
        branch=cw.branches["A"],
        actor=cw.p1_reviewer,
        checked_on=datetime.date(2025, 6, 10),
        items=[item],
        findings="发现违规发放补贴。",
        violation=True,
        violation_note="违反财经纪律",
        files=[SimpleUploadedFile("记录.pdf", PDF, content_type="application/pdf")],
    )
    assert entry.files.count() == 1
    proposal = DowngradeProposal.objects.get(entry=entry)
    assert (proposal.status, proposal.stars) == (ProposalStatus.OPEN, 5)
    assert cw.branches["A"].certificates.get().stars == 5  # nothing changes by itself
    with pytest.raises(PermissionDenied):
        downgrade_from_proposal(proposal=proposal, actor=cw.staff, to_stars=4, reason="r", violation="v")
    downgrade_from_proposal(
        proposal=proposal, actor=cw.approver, to_stars=3, reason="查实", violation="违反财经纪律"
    )
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DOWNGRADED and proposal.star_event.to_stars == 3
    assert cw.branches["A"].certificates.get().stars == 3
    with pytest.raises(WorkflowError):
        dismiss_proposal(proposal=proposal, actor=cw.approver, reason="再议")


def test_a_dismissal_needs_a_reason_and_leaves_the_star(cw):
    certify_branch(cw, "B", 4)
    entry = record_check_entry(
        branch=cw.branches["B"],
        actor=cw.p1_reviewer,
        checked_on=datetime.date(2025, 6, 10),
        items=[],
        findings="违规。",
        violation=True,
        violation_note="违规",
    )
    proposal = DowngradeProposal.objects.get(entry=entry)
    with pytest.raises(ValidationError):
        dismiss_proposal(proposal=proposal, actor=cw.approver, reason="")
    dismiss_proposal(proposal=proposal, actor=cw.approver, reason="已整改")
    assert DowngradeProposal.objects.get(pk=proposal.pk).status == ProposalStatus.DISMISSED
    assert not StarEvent.objects.filter(kind="downgrade").exists()


def test_a_monthly_check_refuses_a_bad_file_and_keeps_nothing(cw):
    with pytest.raises(ValidationError) as refused:
        record_check_entry(
            branch=cw.branches["A"],
            actor=cw.p1_reviewer,
            checked_on=datetime.date(2025, 6, 10),
            items=[],
            findings="检查",
            files=[SimpleUploadedFile("x.pdf", b"<html>not a pdf</html>", content_type="application/pdf")],
        )
    assert "files" in refused.value.message_dict
    assert not cw.branches["A"].check_entries.exists()


def test_a_monthly_check_is_refused_outside_the_reviewers_subtree_and_in_the_future(cw):
    with pytest.raises(PermissionDenied):
        record_check_entry(
            branch=cw.branches["D"],
            actor=cw.p1_reviewer,
            checked_on=datetime.date(2025, 6, 1),
            items=[],
            findings="x",
        )
    with pytest.raises(ValidationError):
        record_check_entry(
            branch=cw.branches["A"],
            actor=cw.p1_reviewer,
            checked_on=datetime.date(2025, 7, 1),
            items=[],
            findings="x",
        )


def test_the_parent_reviewer_records_the_action_on_a_flag(cw):
    flag = LeadershipFlag.objects.create(committee=cw.committee, branch=cw.branches["C"], year=2025)
    with pytest.raises(PermissionDenied):
        record_flag_action(
            flag=flag, actor=cw.approver, action_taken="换届", action_on=datetime.date(2025, 6, 1)
        )
    with pytest.raises(ValidationError):
        record_flag_action(flag=flag, actor=cw.p1_reviewer, action_taken="", action_on=None)
    record_flag_action(
        flag=flag, actor=cw.p1_reviewer, action_taken="改选支部书记", action_on=datetime.date(2025, 6, 1)
    )
    flag.refresh_from_db()
    assert (flag.action_taken, flag.action_by, flag.is_open) == ("改选支部书记", cw.p1_reviewer, False)


# --- Scope ------------------------------------------------------------------------------------------


def test_out_of_scope_rounds_and_sheets_answer_404(cw):
    other = make_user(
        "k_other", "外委", roles=((Role.COMMITTEE_APPROVER, make_sized_committee("外", 1).committee),)
    )
    with pytest.raises(Http404):
        get_check_round_for_user_or_404(other, cw.round.pk)
    with pytest.raises(Http404):
        get_check_sheet_for_user_or_404(cw.p1_reviewer, sheet_of(cw, "D").pk)
    with pytest.raises(Http404):
        get_check_sheet_for_user_or_404(cw.secretary_a, sheet_of(cw, "B").pk)
    assert get_check_sheet_for_user_or_404(cw.secretary_a, sheet_of(cw, "A").pk)


def test_the_home_to_dos_follow_the_roles(cw):
    reviewer = check_todos_for(cw.p1_reviewer)
    assert {sheet.branch.code for sheet in reviewer.sheets_to_score} == {"KA", "KB", "KC"}
    assert not reviewer.rounds_to_publish
    staff = check_todos_for(cw.staff)
    assert [r.pk for r in staff.rounds_to_publish] == [cw.round.pk] and not staff.sheets_to_score
    assert not check_todos_for(cw.secretary_a).any


# --- Pages ---------------------------------------------------------------------------------------------


def test_the_scoring_page_keeps_what_was_typed_when_a_score_is_refused(client, cw):
    sheet = sheet_of(cw, "A")
    item = check_items(cw.round.standard_id)[0]
    client.force_login(cw.p1_reviewer)
    url = reverse("checks:sheet_score", args=[sheet.pk])
    with time_machine.travel(IN_Q2, tick=False):
        response = client.post(
            url, {"action": "save", f"score_{item.pk}": "99", f"comment_{item.pk}": "保留我"}
        )
    assert response.status_code == 400
    assert "保留我" in response.content.decode()
    assert not sheet.scores.exists()


def test_the_scoring_page_shows_the_quarters_monthly_checks_beside_the_item(client, cw):
    item = check_items(cw.round.standard_id)[2]
    record_check_entry(
        branch=cw.branches["A"],
        actor=cw.p1_reviewer,
        checked_on=datetime.date(2025, 5, 12),
        items=[item],
        findings="五月检查：会议记录齐全。",
    )
    record_check_entry(
        branch=cw.branches["A"],
        actor=cw.p1_reviewer,
        checked_on=datetime.date(2025, 3, 12),
        items=[item],
        findings="上季度的检查。",
    )
    client.force_login(cw.p1_reviewer)
    page = client.get(reverse("checks:sheet_score", args=[sheet_of(cw, "A").pk])).content.decode()
    assert "五月检查：会议记录齐全。" in page
    assert "上季度的检查。" not in page


def test_the_results_page_and_export_show_ranks_changes_and_stars(client, cw):
    certify_branch(cw, "A", 5)
    with time_machine.travel("2025-03-28 10:00 +0800", tick=False):
        run_quarter(cw, 2025, 1, {"A": "80", "B": "95", "C": "70", "D": "85", "E": "80", "F": "85"})
    for code, total in {"A": "96", "B": "85", "C": "86", "D": "80", "E": "85", "F": "85"}.items():
        score_sheet(sheet_of(cw, code), cw.reviewer_of(code), total)
    publish_check_round(check_round=cw.round, actor=cw.approver)
    client.force_login(cw.secretary_a)
    page = client.get(reverse("checks:round_detail", args=[cw.round.pk])).content.decode()
    assert "↑3" in page and "↓2" in page  # A from 4th (tied) to 1st; B from 1st to 3rd
    response = client.get(reverse("checks:round_export", args=[cw.round.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == (1, "↑3", "A支部") and rows[1][5] == 96 and rows[1][6] == 5


def test_the_year_results_export_lists_the_averages(client, cw):
    YearResult.objects.create(
        committee=cw.committee,
        branch=cw.branches["A"],
        year=2025,
        rounds=4,
        average=Decimal("89.995"),
        threshold=Decimal("90"),
        five_good=False,
    )
    client.force_login(cw.staff)
    response = client.get(reverse("checks:year_results_export") + "?year=2025")
    rows = list(
        load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True)
    )
    assert rows[1][0] == "A支部" and rows[1][3] == 89.99  # cut, never rounded up to 90


# --- Query counts: 10 and 50 branches ------------------------------------------------------------------------------


def _sized(n: int, prefix: str) -> dict:
    sized = make_sized_committee(prefix, n, party_committees=2)
    staff = make_user(f"{prefix}-staff", "党务", roles=((Role.STAFF, sized.committee),))
    parent = make_user(f"{prefix}-parent", "初审", roles=((Role.PARENT_REVIEWER, sized.party_committees[0]),))
    with time_machine.travel(IN_Q2, tick=False):
        check_round, _created = open_check_round(committee=sized.committee, year=2025, quarter=2, actor=staff)
        for index, branch in enumerate(sized.branches):
            record_check_entry(
                branch=branch,
                actor=make_user(f"{prefix}-p{index}", "初审", roles=((Role.PARENT_REVIEWER, branch.parent),)),
                checked_on=datetime.date(2025, 6, 1),
                items=[],
                findings="检查",
            )
    published, _created = open_check_round(committee=sized.committee, year=2025, quarter=1, actor=staff)
    for sheet in published.sheets.select_related("branch"):
        CheckSheet.objects.filter(pk=sheet.pk).update(status=CheckSheetStatus.SUBMITTED, total=Decimal("90"))
    publish_check_round(check_round=published, actor=staff)
    return {"staff": staff, "parent": parent, "round": check_round, "published": published}


PAGES = [
    ("staff", lambda w: reverse("checks:round_list")),
    ("staff", lambda w: reverse("checks:round_detail", args=[w["round"].pk])),
    ("staff", lambda w: reverse("checks:round_detail", args=[w["published"].pk])),
    ("staff", lambda w: reverse("checks:round_export", args=[w["published"].pk])),
    ("staff", lambda w: reverse("checks:entry_list")),
    ("staff", lambda w: reverse("checks:year_results") + "?year=2025"),
    ("staff", lambda w: reverse("checks:year_results_export") + "?year=2025"),
    ("parent", lambda w: reverse("home")),
]


def _queries(client, user, url) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize(("who", "url"), PAGES)
def test_the_pages_run_as_many_queries_for_50_branches_as_for_10(client, who, url):
    small, large = _sized(10, "小"), _sized(50, "大")
    assert _queries(client, small[who], url(small)) == _queries(client, large[who], url(large))


def test_the_branch_page_shows_its_five_good_years_and_flags(client, cw):
    branch = cw.branches["A"]
    YearResult.objects.create(
        committee=cw.committee,
        branch=branch,
        year=2024,
        rounds=4,
        average=Decimal("92"),
        threshold=Decimal("90"),
        five_good=True,
    )
    LeadershipFlag.objects.create(committee=cw.committee, branch=branch, year=2025)
    client.force_login(cw.p1_reviewer)
    page = client.get(reverse("reviews:branch_detail", args=[branch.pk])).content.decode()
    assert 'class="badge text-bg-success me-1 five-good-year"' in page and "2024" in page
    assert reverse("checks:entry_new") + f"?branch={branch.pk}" in page  # the parent reviewer records a check
    client.force_login(cw.secretary_a)
    page = client.get(reverse("reviews:branch_detail", args=[branch.pk])).content.decode()
    assert "five-good-year" in page and reverse("checks:entry_new") not in page


def test_a_copy_of_the_check_standard_stays_a_check_standard(cw):
    from scoring.services.standards import copy_standard_to_new_draft

    copy = copy_standard_to_new_draft(standard=cw.round.standard, committee=cw.committee)
    assert copy.purpose == StandardPurpose.ROUTINE_CHECK and copy.version == 2


def test_the_round_page_links_the_score_sheets_only_for_those_who_may_open_them(cw, client):
    team_reviewer = make_user("k_team", "考核组", roles=((Role.ASSESSMENT_REVIEWER, cw.committee),))
    score_link = reverse("checks:sheet_score", args=[sheet_of(cw, "A").pk])
    for person, links in ((cw.p1_reviewer, True), (cw.staff, True), (team_reviewer, False)):
        client.force_login(person)
        page = client.get(reverse("checks:round_detail", args=[cw.round.pk]))
        assert page.status_code == 200
        assert (score_link in page.content.decode()) is links, person
        if links:
            assert client.get(score_link).status_code == 200
        else:
            assert client.get(score_link).status_code in (403, 404)
