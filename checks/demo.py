"""Demo quarterly checks: last year's four rounds, published, and this quarter's round in progress.

Last year every branch was scored in each quarter by its party committee's reviewer, so the
demo shows rankings with their changes, a 五好党支部 list (the strongest branches average above
90), and one 班子调整 flag: in the 发改委 party committee the same branch was ranked last in the
first and the third quarter, and 李建国 (chushen) recorded the adjustment; the approver dismissed
two of the year's downgrade proposals with the reason, and the year bulletin (年度通报,
reports.demo) sums the year up. In the other party committees the last place moves from branch
to branch, so nobody else is flagged. This quarter's
round is open with its deadlines in two and three days; about half the branches are scored, the
demo branch's secretary has self-reported, and there are monthly checks of this quarter to see
beside the items.

Idempotent: a round that exists for a quarter is left alone, users are found by name.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from branches.demo import COMMITTEE_CODE, DEMO_PASSWORD
from branches.models import Organization, OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role

from .models import CheckRound, CheckSheet, DowngradeProposal, LeadershipFlag, ProposalStatus
from .selectors import check_items, check_quarter_bounds, check_quarter_of
from .services.entries import record_check_entry
from .services.rounds import (
    open_check_round,
    publish_check_round,
    save_self_report,
    save_sheet_scores,
    submit_sheet_scores,
)
from .services.years import dismiss_proposal, record_flag_action

FLAGGED_GROUP = "BJ-FGW"
# Parent reviewers of the party committees the branches demo has none for (李建国 holds BJ-FGW).
REVIEWERS = {
    "BJ-CZJ": ("chushen2", "周晓梅"),
    "BJ-JYJ": ("chushen3", "吴国华"),
    "BJ-WJW": ("chushen4", "郑丽娟"),
    "BJ-SWJ": ("chushen5", "冯志勇"),
}
TENTH = Decimal("0.1")


def _reviewers(committee: Organization) -> dict[int, User]:
    """The parent reviewer of each party committee, by the party committee's id."""
    found = {}
    for parent in Organization.objects.filter(parent=committee).exclude(kind=OrgKind.BRANCH):
        if parent.code == FLAGGED_GROUP:
            found[parent.pk] = User.objects.get(username="chushen")
            continue
        username, real_name = REVIEWERS.get(parent.code, (f"chushen-{parent.code}", "初审员"))
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username, password=DEMO_PASSWORD, real_name=real_name)
            assign_role(user=user, role=Role.PARENT_REVIEWER, organization=parent)
        found[parent.pk] = user
    return found


def _total(position: int, size: int, quarter: int, group_code: str) -> Decimal:
    """A believable score: stronger branches first, a little movement, one branch last each quarter."""
    if group_code == FLAGGED_GROUP:
        last = {1: size - 1, 2: size - 2, 3: size - 1, 4: size - 3}[quarter]
    else:
        last = size - quarter  # the last place moves: nobody is last twice
    if position == last:
        return Decimal("71") + Decimal(quarter) / 2
    jitter = Decimal(((position * 5 + quarter * 3) % 4) - 1) / 2
    return min(
        Decimal("100"), max(Decimal("75"), Decimal("97.5") - Decimal(position) * Decimal("1.5") + jitter)
    )


def _scores_for(items, total: Decimal) -> dict[int, tuple[str, str]]:
    missing = Decimal("100") - total
    scores = {}
    for item in items:
        off = min(item.max_score, missing)
        missing -= off
        scores[item.pk] = (str(item.max_score - off), "有扣分，见月检查记录。" if off else "")
    return scores


def _groups(check_round: CheckRound) -> dict[int, list[CheckSheet]]:
    groups: dict[int, list[CheckSheet]] = {}
    for sheet in check_round.sheets.select_related("branch", "group").order_by(
        "group__sort_order", "group__code", "branch__sort_order", "branch__code"
    ):
        groups.setdefault(sheet.group_id, []).append(sheet)
    return groups


def _score_round(
    check_round: CheckRound, reviewers: dict[int, User], *, only_first_half: bool = False
) -> None:
    items = check_items(check_round.standard_id)
    for group_id, sheets in _groups(check_round).items():
        reviewer = reviewers.get(group_id)
        if reviewer is None:
            continue
        group_code = sheets[0].group.code
        chosen = sheets[: (len(sheets) + 1) // 2] if only_first_half else sheets
        for position, sheet in enumerate(chosen):
            total = _total(position, len(sheets), check_round.quarter, group_code)
            save_sheet_scores(sheet=sheet, actor=reviewer, scores=_scores_for(items, total))
            submit_sheet_scores(sheet=sheet, actor=reviewer)


def _monthly_checks(committee: Organization, year: int, quarter: int, items) -> int:
    """Two monthly checks in the quarter of the first 发改委 branches, by 李建国."""
    reviewer = User.objects.get(username="chushen")
    first, _last = check_quarter_bounds(year, quarter)
    branches = Organization.objects.filter(parent__code=FLAGGED_GROUP).order_by("sort_order", "code")[:2]
    made = 0
    for index, branch in enumerate(branches):
        day = min(first + datetime.timedelta(days=20 + 30 * index), timezone.localdate())
        record_check_entry(
            branch=branch,
            actor=reviewer,
            checked_on=day,
            items=[items[6], items[11]],
            findings="查阅支委会和党员大会会议记录：本月支委会按时召开，党员大会记录缺少签到表。",
        )
        made += 1
    return made


@transaction.atomic
def _date_as_of_its_quarter(check_round: CheckRound) -> None:
    """Last year's rounds were opened in their quarter's last month and published ten days after
    it, not on the day the demo is loaded (pages and bulletins show these dates)."""
    _first, last = check_quarter_bounds(check_round.year, check_round.quarter)
    tz = timezone.get_current_timezone()
    opened = datetime.datetime.combine(last - datetime.timedelta(days=20), datetime.time(9), tz)
    published = datetime.datetime.combine(last + datetime.timedelta(days=10), datetime.time(10), tz)
    CheckRound.objects.filter(pk=check_round.pk).update(opened_at=opened, published_at=published)
    check_round.events.filter(action="publish").update(at=published)
    check_round.events.exclude(action="publish").update(at=opened)


def load_demo() -> dict[str, int]:
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    staff = User.objects.get(username="dangwu")
    # Branches standing directly under the committee are scored by its staff.
    reviewers = {**_reviewers(committee), committee.pk: staff}
    today = timezone.localdate()
    year, quarter = check_quarter_of(today)
    created = {"check rounds": 0, "monthly checks": 0}

    for past_quarter in range(1, 5):
        if CheckRound.objects.filter(committee=committee, year=year - 1, quarter=past_quarter).exists():
            continue
        check_round, _created = open_check_round(committee=committee, year=year - 1, quarter=past_quarter)
        items = check_items(check_round.standard_id)
        created["monthly checks"] += _monthly_checks(committee, year - 1, past_quarter, items)
        _score_round(check_round, reviewers)
        publish_check_round(check_round=check_round, actor=staff)
        _date_as_of_its_quarter(check_round)
        created["check rounds"] += 1

    flag = LeadershipFlag.objects.filter(committee=committee, year=year - 1, action_taken="").first()
    if flag is not None:
        record_flag_action(
            flag=flag,
            actor=User.objects.get(username="chushen"),
            action_taken="召开支部党员大会进行换届改选，调整了支部书记和组织委员，新班子制定了整改计划。",
            action_on=datetime.date(year, 1, 15),
        )

    # The approver has dealt with two of last year's downgrade proposals (the year bulletin shows
    # their outcome); the others still wait on the approver's page.
    last_year = DowngradeProposal.objects.filter(committee=committee, sheet__round__year=year - 1)
    if not last_year.exclude(status=ProposalStatus.OPEN).exists():
        approver = User.objects.get(username="shenpi")
        reasons = [
            "经核查，该支部已于次季度完成整改，得分回升，暂不降星，继续跟踪。",
            "低分系当季换届交接所致，相关问题已整改到位，不予降星。",
        ]
        for proposal, reason in zip(
            last_year.filter(status=ProposalStatus.OPEN).order_by("proposed_at", "pk")[:2],
            reasons,
            strict=False,
        ):
            dismiss_proposal(proposal=proposal, actor=approver, reason=reason)

    if not CheckRound.objects.filter(committee=committee, year=year, quarter=quarter).exists():
        # Deadlines close at hand, so the daily reminders (reports.demo) have work to remind of.
        check_round, _created = open_check_round(
            committee=committee,
            year=year,
            quarter=quarter,
            self_report_deadline=today + datetime.timedelta(days=2),
            scoring_deadline=today + datetime.timedelta(days=3),
        )
        items = check_items(check_round.standard_id)
        created["monthly checks"] += _monthly_checks(committee, year, quarter, items)
        secretary = User.objects.get(username="shuji")
        own = check_round.sheets.get(branch__code="BJ-FGW-01")
        save_self_report(
            sheet=own,
            actor=secretary,
            texts={
                items[0].pk: "本季度支部参与了年度项目计划的研究制定。",
                items[6].pk: "本季度召开支委会3次、党员大会1次，讲党课1次。",
            },
        )
        _score_round(check_round, reviewers, only_first_half=True)
        created["check rounds"] += 1
    return created


__all__ = ["load_demo"]
