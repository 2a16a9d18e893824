"""Scoped reads of the quarterly checks, the rankings and the year results; the home page's to-dos.

Who sees what: a round (its page, its published results and rankings) is visible to everyone
holding a role in its committee, since the results are circulated to the whole committee
(季通报). A sheet, a monthly check, its files, a year result or a flag is visible to whoever
reaches its branch through the tree (secretary, parent reviewer, approver, staff). Everything
else answers 404, the same as for an id that does not exist.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from branches.models import PARENT_KINDS, CommitteePolicy, Organization, User
from branches.roles import APPROVERS, COMMITTEE_MANAGERS, PARENT_REVIEWERS, TREE_READERS, Role
from branches.selectors import (
    branches_visible_to,
    committees_for_roles,
    role_set,
    scope_q,
    user_scope,
)
from scoring.models import Item, Standard, StandardPurpose
from scoring.selectors import published_standards_for

from .models import (
    CheckEntry,
    CheckFile,
    CheckRound,
    CheckRoundStatus,
    CheckSheet,
    CheckSheetStatus,
    DowngradeProposal,
    LeadershipFlag,
    ProposalStatus,
    YearResult,
)
from .workflow import SCORABLE

DEFAULT_FIVE_GOOD_THRESHOLD = Decimal("90")
DEFAULT_DOWNGRADE_MARGIN = Decimal("10")


def check_quarter_bounds(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    """The first and the last day of a calendar quarter."""
    first = datetime.date(year, 3 * (quarter - 1) + 1, 1)
    following = datetime.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, following - datetime.timedelta(days=1)


def check_quarter_of(day: datetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def check_policy_numbers(committee_id: int) -> tuple[Decimal, Decimal]:
    """The committee's five-good threshold and downgrade margin (the defaults without a policy)."""
    row = (
        CommitteePolicy.objects.filter(committee_id=committee_id)
        .values_list("five_good_threshold", "downgrade_margin")
        .first()
    )
    return row or (DEFAULT_FIVE_GOOD_THRESHOLD, DEFAULT_DOWNGRADE_MARGIN)


def check_standard_for(committee: Organization) -> Standard | None:
    """The routine-check standard a new round of ``committee`` pins: its own newest, else the global one."""
    return (
        published_standards_for(committee, StandardPurpose.ROUTINE_CHECK)
        .order_by(F("committee_id").asc(nulls_last=True), "-version", "-pk")
        .first()
    )


def check_scorer_roles(branch: Organization) -> frozenset[str]:
    """Who scores a branch's sheet: its parent reviewer, or the committee's people for a branch
    standing directly under the committee (a committee holds no parent reviewer)."""
    return PARENT_REVIEWERS if branch.parent.kind in PARENT_KINDS else COMMITTEE_MANAGERS


def check_items(standard_id: int) -> list[Item]:
    """The standard's items in sheet order, each with its dimension (one query)."""
    return list(
        Item.objects.filter(dimension__standard_id=standard_id)
        .select_related("dimension")
        .order_by("dimension__order", "dimension__code", "order", "code")
    )


# --- Rounds ------------------------------------------------------------------------------------


def check_rounds_visible_to(user: User) -> QuerySet[CheckRound]:
    """The rounds of the committees where ``user`` holds a role, on the committee or below it."""
    if not user.is_authenticated or not user.is_active:
        return CheckRound.objects.none()
    return CheckRound.objects.filter(user_scope(user).member_q())


def get_check_round_for_user_or_404(user: User, pk) -> CheckRound:
    try:
        return check_rounds_visible_to(user).select_related("committee", "standard").get(pk=pk)
    except (CheckRound.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def check_round_list_for(user: User) -> QuerySet[CheckRound]:
    """The rounds a user may open, newest first, with how many sheets are submitted (one query)."""
    return (
        check_rounds_visible_to(user)
        .select_related("committee", "standard")
        .annotate(
            sheet_count=Count("sheets"),
            submitted_count=Count(
                "sheets",
                filter=Q(sheets__status__in=[CheckSheetStatus.SUBMITTED, CheckSheetStatus.PUBLISHED]),
            ),
        )
        .order_by("-year", "-quarter", "committee__sort_order", "committee__code")
    )


def committees_managed_by(user: User) -> QuerySet[Organization]:
    return committees_for_roles(user, COMMITTEE_MANAGERS)


# --- Sheets ------------------------------------------------------------------------------------


def check_sheets_visible_to(user: User) -> QuerySet[CheckSheet]:
    """Sheets of the branches the user reaches: by the round's committee key for a role held
    on the committee, by the branch's path below it."""
    return CheckSheet.objects.filter(
        scope_q(user, TREE_READERS, org="branch__", committee="round__committee_id")
    )


def get_check_sheet_for_user_or_404(user: User, pk) -> CheckSheet:
    try:
        return (
            check_sheets_visible_to(user)
            .select_related("round__committee", "round__standard", "branch", "group", "scored_by")
            .get(pk=pk)
        )
    except (CheckSheet.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def round_sheets_for(user: User, check_round: CheckRound) -> QuerySet[CheckSheet]:
    """The round's sheets the user reaches (all of them for the committee's people), in tree order."""
    sheets = check_round.sheets.select_related("branch", "group")
    if user.is_superuser or check_round.committee_id in user_scope(user, COMMITTEE_MANAGERS).committees:
        return sheets
    return sheets.filter(branch__in=branches_visible_to(user, TREE_READERS))


def round_results(check_round: CheckRound) -> QuerySet[CheckSheet]:
    """The published round's sheets, best first: rank, score, star in force, change (one query)."""
    return check_round.sheets.select_related("branch", "group").order_by(
        "rank_committee", "group__sort_order", "group__code", "branch__sort_order", "branch__code"
    )


def sheet_scores(sheet: CheckSheet) -> dict[int, tuple[Decimal, str]]:
    return {
        item_id: (score, comment)
        for item_id, score, comment in sheet.scores.values_list("item_id", "score", "comment")
    }


def sheet_self_reports(sheet: CheckSheet) -> dict[int, str]:
    return dict(sheet.self_reports.values_list("item_id", "text"))


def sheet_files(sheet: CheckSheet) -> dict[int, list[CheckFile]]:
    files: dict[int, list[CheckFile]] = defaultdict(list)
    for row in sheet.files.all():
        files[row.item_id].append(row)
    return files


def quarter_entries(branch_id: int, year: int, quarter: int) -> list[CheckEntry]:
    """The branch's monthly checks in the quarter, with their items and files (three queries)."""
    first, last = check_quarter_bounds(year, quarter)
    return list(
        CheckEntry.objects.filter(branch_id=branch_id, checked_on__range=(first, last))
        .select_related("recorded_by")
        .prefetch_related("items", "files")
        .order_by("checked_on", "pk")
    )


def entries_by_item(entries: list[CheckEntry]) -> dict[int, list[CheckEntry]]:
    """The monthly checks that looked at each item, by item id (no query: items are prefetched)."""
    found: dict[int, list[CheckEntry]] = defaultdict(list)
    for entry in entries:
        for item in entry.items.all():
            found[item.pk].append(entry)
    return found


# --- Monthly checks and files --------------------------------------------------------------------


def check_entries_visible_to(user: User) -> QuerySet[CheckEntry]:
    return CheckEntry.objects.filter(branch__in=branches_visible_to(user, TREE_READERS))


def check_entry_list_for(user: User, branch: Organization | None = None) -> QuerySet[CheckEntry]:
    entries = check_entries_visible_to(user).select_related("branch", "branch__parent", "recorded_by")
    if branch is not None:
        entries = entries.filter(branch_id=branch.pk)
    return entries.order_by("-checked_on", "-pk")


def get_check_entry_for_user_or_404(user: User, pk) -> CheckEntry:
    try:
        return check_entries_visible_to(user).select_related("branch", "recorded_by").get(pk=pk)
    except (CheckEntry.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_check_file_for_user_or_404(user: User, pk) -> CheckFile:
    try:
        return CheckFile.objects.filter(branch__in=branches_visible_to(user, TREE_READERS)).get(pk=pk)
    except (CheckFile.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def branches_to_check_for(user: User) -> QuerySet[Organization]:
    """The branches a parent reviewer may record monthly checks for, in tree order."""
    return (
        branches_visible_to(user, PARENT_REVIEWERS)
        .filter(is_active=True)
        .select_related("parent")
        .order_by("order_key")  # under the parent, both by ORG_ORDER (branch_order)
    )


# --- Year results, flags, proposals -----------------------------------------------------------------


def year_results_visible_to(user: User) -> QuerySet[YearResult]:
    return YearResult.objects.filter(branch__in=branches_visible_to(user, TREE_READERS))


def year_result_list_for(
    user: User, year: int | None = None, *, five_good_only: bool = False
) -> QuerySet[YearResult]:
    results = year_results_visible_to(user).select_related("branch", "branch__parent", "committee")
    if year is not None:
        results = results.filter(year=year)
    if five_good_only:
        results = results.filter(five_good=True)
    return results.order_by("-year", "-average", "branch__sort_order", "branch__code")


def leadership_flags_visible_to(user: User) -> QuerySet[LeadershipFlag]:
    return LeadershipFlag.objects.filter(branch__in=branches_visible_to(user, TREE_READERS))


def get_leadership_flag_for_user_or_404(user: User, pk) -> LeadershipFlag:
    try:
        return leadership_flags_visible_to(user).select_related("branch", "action_by").get(pk=pk)
    except (LeadershipFlag.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def downgrade_proposals_visible_to(user: User) -> QuerySet[DowngradeProposal]:
    """Proposals are the approver's business: visible to the committee's approvers and staff."""
    return DowngradeProposal.objects.filter(branch__in=branches_visible_to(user, COMMITTEE_MANAGERS))


def get_downgrade_proposal_for_user_or_404(user: User, pk) -> DowngradeProposal:
    try:
        return (
            downgrade_proposals_visible_to(user)
            .select_related("branch", "sheet__round", "entry", "decided_by")
            .get(pk=pk)
        )
    except (DowngradeProposal.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def branch_check_summary(branch: Organization) -> dict:
    """What the branch page shows of the checks: five-good years, open flags, latest results."""
    return {
        "five_good_years": list(
            YearResult.objects.filter(branch_id=branch.pk, five_good=True)
            .order_by("-year")
            .values_list("year", flat=True)
        ),
        "flags": list(LeadershipFlag.objects.filter(branch_id=branch.pk).order_by("-year")),
        "sheets": list(
            CheckSheet.objects.filter(branch_id=branch.pk, status=CheckSheetStatus.PUBLISHED)
            .select_related("round")
            .order_by("-round__year", "-round__quarter")[:4]
        ),
    }


# --- For the home page and the bulletin --------------------------------------------------------


@dataclass
class CheckToDos:
    sheets_to_score: list[CheckSheet]
    rounds_to_publish: list[CheckRound]
    open_flags: list[LeadershipFlag]
    open_proposals: int
    today: datetime.date

    @property
    def any(self) -> bool:
        return bool(self.sheets_to_score or self.rounds_to_publish or self.open_flags or self.open_proposals)


TODO_LIMIT = 10


def check_todos_for(user: User) -> CheckToDos:
    """The quarterly-check to-dos of the home page, in a fixed number of queries.

    Parent reviewers: sheets of open rounds still to score; approvers and staff: open rounds
    and how far their scoring is; both: 班子调整 flags with no action recorded; approvers:
    downgrade proposals waiting for them.
    """
    # Each part is read only for a user holding a role it is for (a superuser: every part).
    roles = frozenset(Role) if user.is_superuser else role_set(user)
    to_score, to_publish, flags, proposals = [], [], [], 0
    if roles & set(PARENT_REVIEWERS):
        to_score = list(
            CheckSheet.objects.filter(
                branch__in=branches_visible_to(user, PARENT_REVIEWERS),
                status__in=SCORABLE,
                round__status=CheckRoundStatus.OPEN,
            )
            .select_related("round", "branch")
            .order_by("round__scoring_deadline", "branch__sort_order", "branch__code")[:TODO_LIMIT]
        )
    if roles & set(COMMITTEE_MANAGERS):
        to_publish = list(
            check_round_list_for(user)
            .filter(status=CheckRoundStatus.OPEN, committee__in=committees_managed_by(user))
            .order_by("scoring_deadline")[:TODO_LIMIT]
        )
    flag_readers = set(PARENT_REVIEWERS) | set(COMMITTEE_MANAGERS)
    if roles & flag_readers:
        flags = list(
            LeadershipFlag.objects.filter(branch__in=branches_visible_to(user, flag_readers), action_taken="")
            .select_related("branch")
            .order_by("-year", "branch__code")[:TODO_LIMIT]
        )
    if roles & set(APPROVERS):
        proposals = DowngradeProposal.objects.filter(
            branch__in=branches_visible_to(user, APPROVERS), status=ProposalStatus.OPEN
        ).count()
    return CheckToDos(to_score, to_publish, flags, proposals, timezone.localdate())


def unpublished_check_quarters(committee_id: int, year: int) -> list[int]:
    """The quarters of ``year`` whose check round the committee has not published (yet)."""
    published = set(
        CheckRound.objects.filter(
            committee_id=committee_id, year=year, status=CheckRoundStatus.PUBLISHED
        ).values_list("quarter", flat=True)
    )
    return [quarter for quarter in range(1, 5) if quarter not in published]


def quarter_check_ranking(committee_id: int, year: int, quarter: int) -> list[dict] | None:
    """The published ranking of a committee's quarter as plain rows, for the bulletin; None if unpublished."""
    check_round = CheckRound.objects.filter(
        committee_id=committee_id, year=year, quarter=quarter, status=CheckRoundStatus.PUBLISHED
    ).first()
    if check_round is None:
        return None
    return [
        {
            "branch": sheet.branch.name,
            "party_committee": sheet.group.name,
            "score": sheet.total,
            "rank": sheet.rank_committee,
            "rank_in_party_committee": sheet.rank_group,
            "change": sheet.rank_change,
            "stars": sheet.stars_in_force,
            "last_in_party_committee": sheet.is_last_in_group,
        }
        for sheet in round_results(check_round)
    ]


__all__ = [
    "CheckToDos",
    "branch_check_summary",
    "branches_to_check_for",
    "check_entries_visible_to",
    "check_entry_list_for",
    "check_items",
    "check_policy_numbers",
    "check_quarter_bounds",
    "check_quarter_of",
    "check_round_list_for",
    "check_rounds_visible_to",
    "check_scorer_roles",
    "check_sheets_visible_to",
    "check_standard_for",
    "check_todos_for",
    "committees_managed_by",
    "downgrade_proposals_visible_to",
    "entries_by_item",
    "get_check_entry_for_user_or_404",
    "get_check_file_for_user_or_404",
    "get_check_round_for_user_or_404",
    "get_check_sheet_for_user_or_404",
    "get_downgrade_proposal_for_user_or_404",
    "get_leadership_flag_for_user_or_404",
    "leadership_flags_visible_to",
    "quarter_check_ranking",
    "quarter_entries",
    "round_results",
    "round_sheets_for",
    "sheet_files",
    "sheet_scores",
    "sheet_self_reports",
    "unpublished_check_quarters",
    "year_result_list_for",
    "year_results_visible_to",
]
