"""A committee of two party committees of three branches each, and ways to run its quarterly checks."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from branches.models import Organization, User
from branches.roles import Role
from checks.models import CheckRound, CheckSheet
from checks.selectors import check_items
from checks.services.rounds import (
    open_check_round,
    publish_check_round,
    save_sheet_scores,
    submit_sheet_scores,
)
from reviews.models import AssessmentStatus, Certificate
from tests.factories import (
    make_assessment,
    make_branch,
    make_certificate,
    make_committee,
    make_cycle,
    make_party_committee,
    make_user,
)


@dataclass
class CheckWorld:
    committee: Organization
    p1: Organization
    p2: Organization
    branches: dict[str, Organization]  # A, B, C under P1; D, E, F under P2
    p1_reviewer: User
    p2_reviewer: User
    approver: User
    staff: User
    secretary_a: User
    outsider: User

    def reviewer_of(self, code: str) -> User:
        return self.p1_reviewer if code in "ABC" else self.p2_reviewer


def build_check_world() -> CheckWorld:
    committee = make_committee("考核工委", "KW")
    p1 = make_party_committee("一号党委", "KP1", parent=committee)
    p2 = make_party_committee("二号党委", "KP2", parent=committee)
    branches = {
        code: make_branch(f"{code}支部", f"K{code}", parent=p1 if code in "ABC" else p2, sort_order=index)
        for index, code in enumerate("ABCDEF")
    }
    return CheckWorld(
        committee=committee,
        p1=p1,
        p2=p2,
        branches=branches,
        p1_reviewer=make_user("k_p1", "一号初审", roles=((Role.PARENT_REVIEWER, p1),)),
        p2_reviewer=make_user("k_p2", "二号初审", roles=((Role.PARENT_REVIEWER, p2),)),
        approver=make_user("k_approver", "考核审批", roles=((Role.COMMITTEE_APPROVER, committee),)),
        staff=make_user("k_staff", "考核党务", roles=((Role.STAFF, committee),)),
        secretary_a=make_user("k_sec_a", "A书记", roles=((Role.BRANCH_SECRETARY, branches["A"]),)),
        outsider=make_user("k_outsider", "路人乙"),
    )


def scores_for_total(sheet: CheckSheet, total: str) -> dict[int, tuple[str, str]]:
    """Item scores adding up to ``total``: full marks, then points taken off item by item."""
    missing = Decimal("100") - Decimal(total)
    scores = {}
    for item in check_items(sheet.round.standard_id):
        off = min(item.max_score, missing)
        missing -= off
        scores[item.pk] = (str(item.max_score - off), "")
    assert missing == 0
    return scores


def score_sheet(sheet: CheckSheet, reviewer: User, total: str) -> CheckSheet:
    save_sheet_scores(sheet=sheet, actor=reviewer, scores=scores_for_total(sheet, total))
    return submit_sheet_scores(sheet=sheet, actor=reviewer)


def run_quarter(world: CheckWorld, year: int, quarter: int, totals: dict[str, str]) -> CheckRound:
    """Open the round by the schedule, score each branch through its parent reviewer, publish."""
    check_round, _created = open_check_round(committee=world.committee, year=year, quarter=quarter)
    for code, total in totals.items():
        sheet = CheckSheet.objects.get(round=check_round, branch=world.branches[code])
        score_sheet(sheet, world.reviewer_of(code), total)
    return publish_check_round(check_round=check_round, actor=world.approver)


def certify_branch(world: CheckWorld, code: str, stars: int) -> Certificate:
    """A certificate in force of ``stars`` for the branch, from a past cycle on the default standard."""
    cycle = make_cycle(world.committee, opened_by=world.approver, name=f"认定{code}")
    assessment = make_assessment(cycle, world.branches[code], status=AssessmentStatus.CERTIFIED, stars=stars)
    return make_certificate(
        assessment,
        stars=stars,
        issued_at=datetime.datetime(2024, 7, 1, tzinfo=datetime.UTC),
        valid_until=datetime.date(2027, 6, 30),
    )
