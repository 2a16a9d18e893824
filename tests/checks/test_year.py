"""A whole year of quarterly checks on the services: rankings, 五好党支部, 班子调整, proposals."""

from decimal import Decimal

import pytest
import time_machine

from checks.models import CheckSheet, DowngradeProposal, LeadershipFlag, ProposalSource, YearResult
from checks.selectors import quarter_check_ranking

from .helpers import build_check_world, certify_branch, run_quarter

pytestmark = pytest.mark.django_db

# P1: A, B, C · P2: D, E, F.
# A averages exactly 90.0 → named; B averages 89.9 → not named.
# C is last in P1 in Q1, Q3 and Q4 → flagged; B is last in P1 once (Q2) → not flagged.
# P2: E is last alone in Q1 and tied last with F in Q3 → flagged (a tie at last place counts
# as last for each); D (Q2) and F (the Q3 tie) are last once → not; in Q4 all of P2 score 90 → nobody last.
YEAR = {
    1: {"A": "88.5", "B": "95.0", "C": "70.0", "D": "85.0", "E": "80.0", "F": "85.0"},
    2: {"A": "91.5", "B": "85.6", "C": "86.0", "D": "80.0", "E": "85.0", "F": "85.0"},
    3: {"A": "90.0", "B": "89.9", "C": "75.0", "D": "86.0", "E": "82.0", "F": "82.0"},
    4: {"A": "90.0", "B": "89.1", "C": "88.0", "D": "90.0", "E": "90.0", "F": "90.0"},
}
QUARTER_DAYS = {1: "2025-03-28", 2: "2025-06-27", 3: "2025-09-26", 4: "2025-12-26"}


@pytest.fixture
def year_world(db):
    world = build_check_world()
    certify_branch(world, "C", 4)  # band 90: below 80 proposes a downgrade (margin 10)
    certify_branch(world, "A", 5)  # band 95: A never falls below 85
    rounds = {}
    for quarter, totals in YEAR.items():
        with time_machine.travel(f"{QUARTER_DAYS[quarter]} 10:00 +0800", tick=False):
            rounds[quarter] = run_quarter(world, 2025, quarter, totals)
    return world, rounds


def sheet(world, rounds, quarter, code) -> CheckSheet:
    return CheckSheet.objects.get(round=rounds[quarter], branch=world.branches[code])


def test_ties_share_a_rank_committee_wide_and_in_the_party_committee(year_world):
    world, rounds = year_world
    ranks = {code: sheet(world, rounds, 1, code).rank_committee for code in "ABCDEF"}
    assert ranks == {"B": 1, "A": 2, "D": 3, "F": 3, "E": 5, "C": 6}
    in_group = {code: sheet(world, rounds, 1, code).rank_group for code in "ABCDEF"}
    assert in_group == {"B": 1, "A": 2, "C": 3, "D": 1, "F": 1, "E": 3}


def test_the_change_against_the_previous_published_round(year_world):
    world, rounds = year_world
    changes = {code: sheet(world, rounds, 2, code).rank_change for code in "ABCDEF"}
    # Q1 ranks B1 A2 D3 F3 E5 C6 → Q2 ranks A1 C2 B3 E4 F4 D6.
    assert changes == {"A": 1, "C": 4, "B": -2, "E": 1, "F": -1, "D": -3}
    assert sheet(world, rounds, 1, "A").rank_change is None  # nothing published before


def test_a_branch_averaging_exactly_the_threshold_is_named_and_one_a_tenth_under_is_not(year_world):
    world, _rounds = year_world
    a = YearResult.objects.get(branch=world.branches["A"], year=2025)
    b = YearResult.objects.get(branch=world.branches["B"], year=2025)
    assert (a.average, a.rounds, a.five_good) == (Decimal("90"), 4, True)
    assert (b.average, b.rounds, b.five_good) == (Decimal("89.9"), 4, False)
    named = set(YearResult.objects.filter(year=2025, five_good=True).values_list("branch__code", flat=True))
    assert named == {"KA"}


def test_last_twice_in_the_year_is_flagged_and_once_is_not(year_world):
    _world, _rounds = year_world
    flagged = set(LeadershipFlag.objects.filter(year=2025).values_list("branch__code", flat=True))
    assert flagged == {"KC", "KE"}
    last_places = dict(YearResult.objects.filter(year=2025).values_list("branch__code", "last_places"))
    assert last_places == {"KA": 0, "KB": 1, "KC": 3, "KD": 1, "KE": 2, "KF": 1}


def test_a_tie_at_last_place_counts_for_each_branch_but_an_all_equal_group_has_no_last(year_world):
    world, rounds = year_world
    assert sheet(world, rounds, 3, "E").is_last_in_group and sheet(world, rounds, 3, "F").is_last_in_group
    assert not sheet(world, rounds, 3, "D").is_last_in_group
    assert not any(sheet(world, rounds, 4, code).is_last_in_group for code in "DEF")


def test_the_flag_is_raised_by_the_second_last_place_and_not_before(db):
    world = build_check_world()
    with time_machine.travel("2025-03-28 10:00 +0800", tick=False):
        run_quarter(world, 2025, 1, YEAR[1])
    assert not LeadershipFlag.objects.exists()
    with time_machine.travel("2025-09-26 10:00 +0800", tick=False):
        run_quarter(world, 2025, 3, YEAR[3])
    flag = LeadershipFlag.objects.get(branch=world.branches["C"])
    assert flag.sheets.count() == 2 and flag.is_open


def test_a_score_far_below_the_star_proposes_a_downgrade_and_changes_no_star(year_world):
    world, _rounds = year_world
    proposals = DowngradeProposal.objects.filter(source=ProposalSource.LOW_SCORE)
    # C (4 stars, band 90): 70 in Q1 and 75 in Q3 are more than 10 under; 86 and 88 are not.
    assert sorted(p.sheet.round.quarter for p in proposals) == [1, 3]
    assert {p.branch.code for p in proposals} == {"KC"}
    assert all(p.stars == 4 for p in proposals)
    assert world.branches["C"].certificates.get().stars == 4


def test_the_star_in_force_is_frozen_beside_each_score(year_world):
    world, rounds = year_world
    assert sheet(world, rounds, 1, "A").stars_in_force == 5
    assert sheet(world, rounds, 1, "B").stars_in_force is None


def test_the_bulletin_gets_the_quarter_ranking_as_plain_rows(year_world):
    world, _rounds = year_world
    rows = quarter_check_ranking(world.committee.pk, 2025, 2)
    assert [(row["branch"], row["rank"], row["change"]) for row in rows][:3] == [
        ("A支部", 1, 1),
        ("C支部", 2, 4),
        ("B支部", 3, -2),
    ]
    assert quarter_check_ranking(world.committee.pk, 2026, 1) is None


def test_year_results_follow_the_committees_threshold(db):
    from branches.models import CommitteePolicy

    world = build_check_world()
    CommitteePolicy.objects.update_or_create(
        committee=world.committee, defaults={"five_good_threshold": Decimal("89.9")}
    )
    for quarter, totals in YEAR.items():
        with time_machine.travel(f"{QUARTER_DAYS[quarter]} 10:00 +0800", tick=False):
            run_quarter(world, 2025, quarter, totals)
    named = set(YearResult.objects.filter(year=2025, five_good=True).values_list("branch__code", flat=True))
    assert named == {"KA", "KB"}


def test_the_scheduled_job_opens_each_active_committees_round_once(db, django_capture_on_commit_callbacks):
    from checks.models import CheckRound, CheckRoundEvent
    from reports.models import JobRun
    from reports.tasks import open_quarter_check_rounds

    world = build_check_world()
    with time_machine.travel("2025-04-01 07:00 +0800", tick=False):
        for _run in range(2):  # a repeated beat message opens nothing new
            with django_capture_on_commit_callbacks(execute=True):
                assert open_quarter_check_rounds.apply(throw=True).get() >= 1
    check_round = CheckRound.objects.get(committee=world.committee)
    assert (check_round.year, check_round.quarter, check_round.opened_by) == (2025, 2, None)
    assert check_round.sheets.count() == 6
    assert check_round.standard.purpose == "routine_check"
    assert CheckRoundEvent.objects.filter(round=check_round, action="open", actor=None).count() == 1
    assert JobRun.objects.filter(task_name="reports.tasks.open_check_round_task", status="succeeded").exists()


def test_the_schedule_has_a_row_for_the_quarterly_checks(db):
    from django_celery_beat.models import PeriodicTask

    from config.celery import app

    row = PeriodicTask.objects.select_related("crontab").get(task="reports.tasks.open_quarter_check_rounds")
    assert row.enabled and row.task in app.tasks
    assert (row.crontab.hour, row.crontab.day_of_month, row.crontab.month_of_year) == ("7", "1", "1,4,7,10")
