"""The figures of the dashboard (数据看板) and of the quarterly bulletin, written once.

Each function takes a ``Tree`` (one query: every organization under the scope, in tree order)
and returns plain JSON-ready data (strings, ints, lists, dicts), so the bulletin can freeze it
and the dashboard can render it through the same chart functions. Each runs a fixed number of
aggregate queries whatever the size of the scope; rows are grouped in Python by the scope's
*units*: the organizations directly under the scope (the committee's party committees and
general branches, or a party committee's general branches), the branches directly under the
scope forming one group of their own, listed last.

The scope is a committee (its approvers and staff) or a party committee / general branch
(its preliminary reviewers), and every figure counts only the active branches of its subtree.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import BranchStage, CommitteePolicy, Organization, OrgKind, StageChange
from checks.models import CheckRound, CheckRoundStatus, CheckSheet
from rectification.models import RUNNING, RectificationTask, SourceKind, TaskStatus
from reviews.models import (
    Assessment,
    AssessmentStatus,
    Certificate,
    Cycle,
    CycleStatus,
    StarEvent,
    StarEventKind,
)
from reviews.workflow import FUNNEL
from supervision.models import LiaisonAssignment, SupervisionVisit

from .quarters import previous_quarter, quarter_days, quarter_label, quarter_of

STAR_LEVELS = (5, 4, 3, 2, 1)
STAGES = (BranchStage.BASIC, BranchStage.DISTINCTIVE, BranchStage.MODEL)
TREND_QUARTERS = 8
MOVES = 5  # the quarterly check's biggest climbers and fallers shown
TOP = 10


def zone():
    return timezone.get_default_timezone()


def day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), zone())


def local_day(at: datetime.datetime) -> str:
    return timezone.localdate(at, zone()).isoformat()


def percent(part: int, whole: int) -> str:
    if not whole:
        return "0.0"
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# --- The scope's tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    pk: int
    name: str
    kind: str
    parent_id: int | None
    path: str
    is_active: bool
    sort_order: int
    code: str
    stage: str
    created_at: datetime.datetime

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


@dataclass
class Tree:
    """Every organization under ``scope`` in tree order, its active branches and their units."""

    scope: Organization
    committee_id: int
    orgs: dict[int, Node]
    branches: list[Node]
    units: list[dict] = field(default_factory=list)  # {"id", "name"}, then None's group if any
    _unit_of: dict[int, int | None] = field(default_factory=dict)

    @property
    def is_committee(self) -> bool:
        return self.scope.kind == OrgKind.COMMITTEE

    def unit_of(self, branch_id: int) -> int | None:
        """The unit a branch belongs to (None: directly under the scope)."""
        return self._unit_of.get(branch_id)

    def unit_name(self, key: int | None) -> str:
        if key is None:
            if self.is_committee:
                return _("Branches directly under the committee")
            return _("Branches directly under %(name)s") % {"name": self.scope.name}
        return self.orgs[key].name

    def parent_name(self, branch: Node) -> str:
        parent = self.orgs.get(branch.parent_id)
        return parent.name if parent else self.scope.name

    def unit_keys(self) -> list[int | None]:
        return [unit["id"] for unit in self.units]

    @property
    def branch_ids(self) -> set[int]:
        return {b.pk for b in self.branches}


def load_tree(scope: Organization) -> Tree:
    """The scope's subtree in one query: depth first, siblings by (sort_order, code)."""
    rows = (
        Organization.objects.filter(path__startswith=scope.path)
        .exclude(pk=scope.pk)
        .values_list(
            "pk",
            "name",
            "kind",
            "parent_id",
            "path",
            "is_active",
            "sort_order",
            "code",
            "stage",
            "created_at",
        )
    )
    orgs = {row[0]: Node(*row) for row in rows}
    depth = len(scope.ancestor_ids)
    key = {
        o.pk: tuple((orgs[a].sort_order, orgs[a].code) for a in o.ancestor_ids[depth:] if a in orgs)
        for o in orgs.values()
    }
    orgs = dict(sorted(orgs.items(), key=lambda item: key[item[0]]))
    committee_id = scope.ancestor_ids[0]
    branches = [o for o in orgs.values() if o.kind == OrgKind.BRANCH and o.is_active]
    unit_of: dict[int, int | None] = {}
    seen: dict[int | None, None] = {}
    for branch in branches:
        ids = branch.ancestor_ids
        unit = ids[depth] if len(ids) > depth + 1 else None
        unit_of[branch.pk] = unit
        seen.setdefault(unit, None)
    keys = [k for k in seen if k is not None] + ([None] if None in seen else [])
    tree = Tree(scope=scope, committee_id=committee_id, orgs=orgs, branches=branches, _unit_of=unit_of)
    tree.units = [{"id": k, "name": tree.unit_name(k)} for k in keys]
    return tree


def policy_of(committee_id: int) -> CommitteePolicy:
    return CommitteePolicy.objects.filter(committee_id=committee_id).first() or CommitteePolicy()


# --- Stars in force ------------------------------------------------------------------------------


def star_history(tree: Tree, instant: datetime.datetime):
    """The bulletin's StarHistory of the scope's branches up to ``instant`` (two queries)."""
    from .bulletin.data import StarHistory  # the bulletin's one method of stars at an instant

    return StarHistory(
        Certificate.objects.filter(branch__path__startswith=tree.scope.path, issued_at__lt=instant)
        .order_by("branch_id", "issued_at", "pk")
        .values_list("pk", "branch_id", "certified_stars", "issued_at", "valid_until"),
        StarEvent.objects.filter(
            branch__path__startswith=tree.scope.path,
            kind__in=[StarEventKind.DOWNGRADE, StarEventKind.REVOCATION],
            at__lt=instant,
        )
        .order_by("at", "pk")
        .values_list("certificate_id", "kind", "to_stars", "at"),
    )


def _star_row(states: list) -> dict:
    counts = dict.fromkeys(STAR_LEVELS, 0)
    unrated = revoked = 0
    for level, was_revoked in states:
        if level is not None:
            counts[level.stars] += 1
        elif was_revoked:
            revoked += 1
        else:
            unrated += 1
    return {
        "branches": len(states),
        "counts": [counts[n] for n in STAR_LEVELS],
        "rated": len(states) - unrated - revoked,
        "unrated": unrated,
        "revoked": revoked,
        "five_star": counts[5],
        "five_star_percent": percent(counts[5], len(states)),
    }


def stars_by_unit(tree: Tree, history, instant: datetime.datetime, as_of: datetime.date) -> dict:
    """Stars in force at ``instant`` per unit (rows) and over the scope (totals); no query."""
    groups: dict[int | None, list] = defaultdict(list)
    for branch in tree.branches:
        groups[tree.unit_of(branch.pk)].append(history.state_at(branch.pk, instant, as_of))
    rows = [
        {"unit": unit["id"], "name": unit["name"], **_star_row(groups[unit["id"]])} for unit in tree.units
    ]
    everything = [state for key in groups for state in groups[key]]
    return {"levels": list(STAR_LEVELS), "rows": rows, "totals": _star_row(everything)}


def five_star_trend(
    tree: Tree, history, year: int, quarter: int, as_of: datetime.date, instant: datetime.datetime
) -> list[dict]:
    """The five-star share at the end of each of the last quarters, as the bulletin's trend."""
    from .bulletin.data import _trend

    first_record = min(
        [at for at in [history.first_issued] if at is not None] + [b.created_at for b in tree.branches],
        default=None,
    )
    return _trend(tree.branches, history, year, quarter, as_of, instant, first_record)


# --- Stages (基础 → 特色 → 示范) -----------------------------------------------------------------


def stage_labels() -> list[dict]:
    return [{"stage": str(stage), "label": str(BranchStage(stage).label)} for stage in STAGES]


def stage_distribution(tree: Tree) -> dict:
    """Active branches per stage, per unit and over the scope; no query (the tree holds the stage)."""
    counts: dict[int | None, dict[str, int]] = {k: dict.fromkeys(STAGES, 0) for k in tree.unit_keys()}
    for branch in tree.branches:
        stage = branch.stage if branch.stage in STAGES else BranchStage.BASIC
        counts[tree.unit_of(branch.pk)][stage] += 1
    totals = dict.fromkeys(STAGES, 0)
    rows = []
    for unit in tree.units:
        row = counts[unit["id"]]
        for stage in STAGES:
            totals[stage] += row[stage]
        rows.append(
            {
                "unit": unit["id"],
                "name": unit["name"],
                "counts": [row[s] for s in STAGES],
                "total": sum(row.values()),
            }
        )
    return {
        "stages": stage_labels(),
        "rows": rows,
        "totals": {"counts": [totals[s] for s in STAGES], "total": sum(totals.values())},
    }


def stage_changes(tree: Tree, start: datetime.datetime, end: datetime.datetime) -> dict:
    """The stage changes of the scope's branches in [start, end), oldest first (one query)."""
    rows = []
    up = down = 0
    order = {stage: index for index, stage in enumerate(STAGES)}
    for at, branch_id, from_stage, to_stage, reason in (
        StageChange.objects.filter(branch__path__startswith=tree.scope.path, at__gte=start, at__lt=end)
        .order_by("at", "pk")
        .values_list("at", "branch_id", "from_stage", "to_stage", "reason")
    ):
        branch = tree.orgs.get(branch_id)
        if branch is None:
            continue
        if from_stage in order and to_stage in order:
            up += order[to_stage] > order[from_stage]
            down += order[to_stage] < order[from_stage]
        rows.append(
            {
                "date": local_day(at),
                "branch": branch.name,
                "parent": tree.parent_name(branch),
                "unit": tree.unit_of(branch_id),
                "from_stage": from_stage,
                "to_stage": to_stage,
                "from_label": str(BranchStage(from_stage).label) if from_stage else "—",
                "to_label": str(BranchStage(to_stage).label),
                "reason": reason,
            }
        )
    return {"total": len(rows), "up": up, "down": down, "rows": rows}


# --- The certification cycle's funnel ------------------------------------------------------------


def cycle_funnel(tree: Tree, instant: datetime.datetime | None = None) -> dict | None:
    """The newest cycle of the committee (opened before ``instant``) by funnel stage (two queries).

    The stages are the home page's (``reviews.workflow.FUNNEL``); only the scope's branches count.
    """
    cycles = Cycle.objects.filter(committee_id=tree.committee_id)
    if instant is not None:
        cycles = cycles.filter(opened_at__lt=instant)
    cycle = cycles.order_by("-opened_at", "-pk").values("pk", "name", "status").first()
    if cycle is None:
        return None
    counts = dict(
        Assessment.objects.filter(cycle_id=cycle["pk"], branch__path__startswith=tree.scope.path)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    stages = [
        {
            "status": str(status),
            "label": str(AssessmentStatus(status).label),
            "count": sum(counts.get(s, 0) for s in members),
        }
        for status, members in FUNNEL
    ]
    return {
        "cycle": {
            "id": cycle["pk"],
            "name": cycle["name"],
            "status": cycle["status"],
            "status_label": str(CycleStatus(cycle["status"]).label),
        },
        "stages": stages,
        "total": sum(counts.values()),
    }


# --- The quarterly check's ranking and its moves -------------------------------------------------


def _change_label(change: int | None) -> str:
    if change is None:
        return _("new")
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "—"


def check_moves(tree: Tree, *, before: datetime.datetime | None = None) -> dict | None:
    """The newest published check round of the committee: its top places and its biggest moves
    up and down among the scope's branches (two queries). Ranks are committee-wide."""
    rounds = CheckRound.objects.filter(committee_id=tree.committee_id, status=CheckRoundStatus.PUBLISHED)
    if before is not None:
        rounds = rounds.filter(published_at__lt=before)
    check_round = rounds.order_by("-year", "-quarter").values("pk", "year", "quarter").first()
    if check_round is None:
        return None
    rows = []
    for branch_id, name, group, total, rank, change, stars in (
        CheckSheet.objects.filter(round_id=check_round["pk"], branch__path__startswith=tree.scope.path)
        .order_by("rank_committee", "branch__sort_order", "branch__code")
        .values_list(
            "branch_id",
            "branch__name",
            "group__name",
            "total",
            "rank_committee",
            "rank_change",
            "stars_in_force",
        )
    ):
        rows.append(
            {
                "branch_id": branch_id,
                "branch": name,
                "parent": group,
                "score": str(total) if total is not None else "",
                "rank": rank,
                "change": change,
                "change_label": _change_label(change),
                "stars": stars,
            }
        )
    moved = [row for row in rows if row["change"]]
    up = sorted((r for r in moved if r["change"] > 0), key=lambda r: (-r["change"], r["rank"]))[:MOVES]
    down = sorted((r for r in moved if r["change"] < 0), key=lambda r: (r["change"], r["rank"]))[:MOVES]
    return {
        "round": {
            "id": check_round["pk"],
            "year": check_round["year"],
            "quarter": check_round["quarter"],
            "label": quarter_label(check_round["year"], check_round["quarter"]),
        },
        "ranked": len(rows),
        "top": rows[:TOP],
        "up": up,
        "down": down,
    }


# --- Rectification (整改) and supervision (督导) --------------------------------------------------


def rectification_figures(tree: Tree, first_day: datetime.date, as_of: datetime.date) -> dict:
    """Rectification tasks of the scope per unit (one query).

    ``opened``: tasks opened (``opened_on``) from ``first_day`` to ``as_of``; ``closed``: tasks
    accepted in that time; ``open``: tasks being rectified or reported and waiting for
    acceptance (``RUNNING``) when the figures are made; ``overdue``: those of them whose deadline
    is before ``as_of``. ``overdue_rows`` lists the overdue tasks, most overdue first.
    """
    start, end = day_start(first_day), day_start(as_of + datetime.timedelta(days=1))
    counts = {k: dict.fromkeys(("opened", "closed", "open", "overdue"), 0) for k in tree.unit_keys()}
    overdue_rows = []
    tasks = (
        RectificationTask.objects.filter(branch__path__startswith=tree.scope.path)
        .filter(
            Q(status__in=RUNNING)
            | Q(opened_on__gte=first_day, opened_on__lte=as_of)
            | Q(status=TaskStatus.ACCEPTED, closed_at__gte=start, closed_at__lt=end)
        )
        .order_by("deadline", "pk")
        .values_list(
            "pk",
            "branch_id",
            "status",
            "opened_on",
            "closed_at",
            "deadline",
            "title",
            "owner__real_name",
            "owner__username",
            "source_kind",
        )
    )
    for pk, branch_id, status, opened_on, closed_at, deadline, title, real_name, username, source in tasks:
        branch = tree.orgs.get(branch_id)
        if branch is None or branch_id not in tree._unit_of:
            continue  # an inactive branch's tasks stay out, as its stars do
        row = counts[tree.unit_of(branch_id)]
        if opened_on is not None and first_day <= opened_on <= as_of:
            row["opened"] += 1
        if status == TaskStatus.ACCEPTED and closed_at is not None and start <= closed_at < end:
            row["closed"] += 1
        if status in RUNNING:
            row["open"] += 1
            if deadline is not None and deadline < as_of:
                row["overdue"] += 1
                overdue_rows.append(
                    {
                        "id": pk,
                        "branch": branch.name,
                        "parent": tree.parent_name(branch),
                        "unit": tree.unit_of(branch_id),
                        "title": title,
                        "owner": real_name or username or "",
                        "deadline": deadline.isoformat(),
                        "days_overdue": (as_of - deadline).days,
                        "status": status,
                        "status_label": str(TaskStatus(status).label),
                        "source_label": str(SourceKind(source).label) if source in SourceKind.values else "",
                    }
                )
    totals = dict.fromkeys(("opened", "closed", "open", "overdue"), 0)
    rows = []
    for unit in tree.units:
        row = counts[unit["id"]]
        for key in totals:
            totals[key] += row[key]
        rows.append({"unit": unit["id"], "name": unit["name"], **row})
    overdue_rows.sort(key=lambda r: (-r["days_overdue"], r["branch"]))
    return {
        "first_day": first_day.isoformat(),
        "as_of": as_of.isoformat(),
        "rows": rows,
        "totals": totals,
        "overdue_rows": overdue_rows,
    }


def supervision_coverage(tree: Tree, first_day: datetime.date, last_day: datetime.date) -> dict:
    """Liaison branches (联系点) of the scope visited from ``first_day`` to ``last_day`` against
    all of them, per unit and over the scope (two queries)."""
    liaison = set(
        LiaisonAssignment.objects.filter(branch__path__startswith=tree.scope.path)
        .values_list("branch_id", flat=True)
        .distinct()
    ) & set(tree._unit_of)
    visited = set(
        SupervisionVisit.objects.filter(
            branch__path__startswith=tree.scope.path, visited_on__gte=first_day, visited_on__lte=last_day
        )
        .values_list("branch_id", flat=True)
        .distinct()
    )
    per_unit = {k: [0, 0] for k in tree.unit_keys()}
    for branch_id in liaison:
        tally = per_unit[tree.unit_of(branch_id)]
        tally[0] += 1
        tally[1] += branch_id in visited
    rows = [
        {
            "unit": unit["id"],
            "name": unit["name"],
            "liaison_branches": per_unit[unit["id"]][0],
            "visited": per_unit[unit["id"]][1],
            "percent": percent(per_unit[unit["id"]][1], per_unit[unit["id"]][0]),
        }
        for unit in tree.units
        if per_unit[unit["id"]][0]
    ]
    done = len(liaison & visited)
    return {
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "liaison_branches": len(liaison),
        "visited": done,
        "percent": percent(done, len(liaison)),
        "rows": rows,
    }


# --- The dashboard -------------------------------------------------------------------------------


def dashboard_figures(*, scope: Organization, today: datetime.date | None = None) -> dict:
    """Every figure of the dashboard of ``scope`` today, as plain data (a fixed number of queries)."""
    today = today or timezone.localdate(timezone=zone())
    year, quarter = quarter_of(today)
    first_day, last_day = quarter_days(year, quarter)
    instant = day_start(today + datetime.timedelta(days=1))
    tree = load_tree(scope)
    policy = policy_of(tree.committee_id)
    history = star_history(tree, instant)
    stars = stars_by_unit(tree, history, instant, today)
    target = policy.five_star_target_percent
    return {
        "scope": {"id": scope.pk, "name": scope.name, "kind": scope.kind, "is_committee": tree.is_committee},
        "today": today.isoformat(),
        "year": year,
        "quarter": quarter,
        "quarter_label": quarter_label(year, quarter),
        "units": tree.units,
        "stars": stars,
        "target": {
            "target_percent": _decimal_str(target),
            "five_star_percent": stars["totals"]["five_star_percent"],
            "reached": stars["totals"]["branches"] > 0
            and Decimal(stars["totals"]["five_star"]) * 100 >= target * stars["totals"]["branches"],
            "deadline": policy.target_deadline.isoformat() if policy.target_deadline else None,
        },
        "trend": five_star_trend(tree, history, year, quarter, today, instant),
        "stages": stage_distribution(tree),
        "stage_changes": stage_changes(tree, day_start(first_day), instant),
        "funnel": cycle_funnel(tree),
        "check": check_moves(tree),
        "rectification": rectification_figures(tree, first_day, today),
        "supervision": supervision_coverage(tree, first_day, last_day),
    }


def _decimal_str(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


__all__ = [
    "Tree",
    "check_moves",
    "cycle_funnel",
    "dashboard_figures",
    "five_star_trend",
    "load_tree",
    "previous_quarter",
    "rectification_figures",
    "stage_changes",
    "stage_distribution",
    "star_history",
    "stars_by_unit",
    "supervision_coverage",
]
