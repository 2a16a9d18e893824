"""The data of the quarterly bulletin (季度通报), which every renderer works from.

``bulletin_data`` gathers everything the bulletin shows into plain JSON-ready data (strings,
ints, booleans, lists and dicts; decimals and dates as strings). It is frozen in
``Bulletin.data`` and every renderer works from it, so the web preview, the PDF and the Excel
file always agree and never change after publication. It runs a fixed number of queries
(at most sixteen) whatever the number of branches: rows are fetched as tuples for the whole committee
and grouped in Python.

How a branch's star level at a past instant T is found (distribution, commendation lists,
"five goods" and the trend all use it), from certificate dates and star events:

* the branch's certificate at T is the one most recently issued before T: certification
  supersedes the previous certificate, so an older one can no longer be in force;
* it is in force if its ``valid_until`` is on or after T's last day (expiry is a date: the
  nightly expiry job only records it afterwards) and no revocation event of it precedes T;
* its level is the ``to_stars`` of its last downgrade event before T, else the certified level.

The current ``Certificate.status``/``stars`` are not used: they describe today, and a bulletin
describes the end of its quarter (or today, while the quarter is still running). Every star the
bulletin shows (distribution, lists, ranking, "five goods", trend) comes from this one method.

A branch without a level at T is *revoked* if the certificate at T was revoked before T (until
a new certificate supersedes it), and *unrated* otherwise (never certified, or expired): the
distribution counts the two apart, and rated + unrated + revoked is every branch.

Order: the tree path holds primary keys, whose text order means nothing to a reader, so the
bulletin lists organizations depth first with siblings by (``sort_order``, ``code``): each row
is sorted by the (sort_order, code) pairs of its ancestors below the committee, then its own.
Party committees thus follow their sort number, a nested general branch stays under its party
committee, and branches directly under the committee come last where the tables group by unit.

The trend starts at the first quarter in which the committee had any record: the earliest
certificate of its branches or the earliest branch row (``created_at`` is when a row was
entered, so certificates, which carry their real dates, usually come first). Quarters before
that would otherwise show as "0 rated" when the committee did not yet use the system.

The denominator of every share is the committee's active branches at generation time, for
every quarter of the trend as well: the tree keeps no record of when a branch was founded or
closed (``created_at`` is when the row was entered), so today's branch set is the only
consistent one. A share is five-star branches / all branches, as on the dashboard.
"""

import bisect
import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.models import PARENT_KINDS, CommitteePolicy, Organization, OrgKind
from checks.models import CheckRound, CheckRoundStatus, LeadershipFlag
from checks.ranking import LAST_PLACES_FOR_A_FLAG
from checks.selectors import quarter_check_ranking
from reviews.models import (
    Assessment,
    AssessmentStatus,
    Certificate,
    Cycle,
    CycleStatus,
    StarEvent,
    StarEventKind,
)
from reviews.selectors import appeal_counts
from reviews.workflow import FUNNEL
from scoring.templatetags.stars import star_label

from .. import figures
from ..quarters import previous_quarter, quarter_days, quarter_label, quarter_of

# 2: stars in force in the ranking, the full ranking with tie-aware top/bottom, revoked apart
# from unrated, eligibility labels, the trend's start.
# 3: the quarterly check ranking (check_ranking).
# 4: ``units`` (the party committees the annexes are per) and each branch row's ``unit``.
# 5: ``rectification``, ``supervision``, ``stages`` and ``stage_changes`` (reports.figures).
# Renderers still read version 1 to 4 data.
DATA_VERSION = 5
STAR_LEVELS = (5, 4, 3, 2, 1)
COMMENDED_LEVELS = (5, 4, 3)
TREND_QUARTERS = 8
RANKING_SIZE = 10
# An assessment is ranked once the committee has decided its level.
RANKED_STATUSES = (AssessmentStatus.DECIDED, AssessmentStatus.PUBLICIZED, AssessmentStatus.CERTIFIED)


def _zone():
    """The project's time zone (Asia/Shanghai), whatever a request may have activated."""
    return timezone.get_default_timezone()


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the project's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), _zone())


def _local_day(at: datetime.datetime) -> str:
    return timezone.localdate(at, _zone()).isoformat()


def _percent(part: int, whole: int) -> str:
    if not whole:
        return "0.0"
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _decimal_str(value: Decimal) -> str:
    """80.00 → "80", 66.50 → "66.5": a configured number as people wrote it."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- Star levels at an instant ---------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    stars: int
    since: datetime.datetime  # when the certificate in force was issued


class StarHistory:
    """Each branch's star level at any past instant (see the module docstring for the method)."""

    def __init__(self, certificates, events):
        self._issued: dict[int, list[datetime.datetime]] = defaultdict(list)
        self._certs: dict[int, list[tuple[int, int, datetime.date, datetime.datetime]]] = defaultdict(list)
        for pk, branch_id, stars, issued_at, valid_until in certificates:  # ordered by issued_at
            self._issued[branch_id].append(issued_at)
            self._certs[branch_id].append((pk, stars, valid_until, issued_at))
        self._events: dict[int, list[tuple[datetime.datetime, str, int | None]]] = defaultdict(list)
        for certificate_id, kind, to_stars, at in events:  # ordered by at
            self._events[certificate_id].append((at, kind, to_stars))

    @property
    def first_issued(self) -> datetime.datetime | None:
        """When the earliest certificate was issued, None without any."""
        return min((issued[0] for issued in self._issued.values()), default=None)

    def state_at(
        self, branch_id: int, instant: datetime.datetime, last_day: datetime.date
    ) -> tuple[Level | None, bool]:
        """(the level in force just before ``instant``, whether the branch's certificate was revoked)."""
        issued = self._issued.get(branch_id)
        if not issued:
            return None, False
        index = bisect.bisect_left(issued, instant) - 1
        if index < 0:
            return None, False
        pk, stars, valid_until, issued_at = self._certs[branch_id][index]
        for at, kind, to_stars in self._events.get(pk, ()):
            if at >= instant:
                break
            if kind == StarEventKind.REVOCATION:
                return None, True
            if to_stars is not None:
                stars = to_stars
        if valid_until < last_day:
            return None, False
        return Level(stars=stars, since=issued_at), False

    def level_at(self, branch_id: int, instant: datetime.datetime, last_day: datetime.date) -> Level | None:
        """The level in force just before ``instant``, whose date part is ``last_day``."""
        return self.state_at(branch_id, instant, last_day)[0]


# --- The data function -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Org:
    pk: int
    name: str
    kind: str
    parent_id: int | None
    path: str
    depth: int
    is_active: bool
    sort_order: int
    code: str
    created_at: datetime.datetime

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


def _counts_row(levels: list[Level | None], revoked: int = 0) -> dict:
    """Counts per level; ``revoked`` of the branches without a level were revoked, not unrated."""
    counts = dict.fromkeys(STAR_LEVELS, 0)
    without = 0
    for level in levels:
        if level is None:
            without += 1
        else:
            counts[level.stars] += 1
    return {
        "branches": len(levels),
        "counts": [counts[n] for n in STAR_LEVELS],
        "rated": len(levels) - without,
        "unrated": without - revoked,
        "revoked": revoked,
        "five_star": counts[5],
        "five_star_percent": _percent(counts[5], len(levels)),
    }


def bulletin_data(
    *, committee: Organization, year: int, quarter: int, today: datetime.date | None = None
) -> dict:
    """Everything the bulletin of ``committee`` for (year, quarter) shows, as plain data.

    Star levels are those in force at the quarter's end, or at the end of ``today`` while the
    quarter is still running. Labels are in the active language: the bulletin service renders
    under the site's language, so the frozen data reads as the published document does.
    """
    today = today or timezone.localdate(timezone=_zone())
    first_day, last_day = quarter_days(year, quarter)
    if first_day > today:
        raise ValueError("The quarter has not begun yet.")
    as_of = min(last_day, today)
    period_start = _day_start(first_day)
    instant = _day_start(as_of + datetime.timedelta(days=1))
    subtree = {"path__startswith": committee.path}

    policy = CommitteePolicy.objects.filter(committee_id=committee.pk).first() or CommitteePolicy()
    orgs = {
        row[0]: _Org(*row)
        for row in Organization.objects.filter(**subtree)
        .exclude(pk=committee.pk)
        .order_by("path")
        .values_list(
            "pk",
            "name",
            "kind",
            "parent_id",
            "path",
            "depth",
            "is_active",
            "sort_order",
            "code",
            "created_at",
        )
    }
    # Depth first, siblings by (sort_order, code): see "Order" in the module docstring.
    tree_key = {
        o.pk: tuple((orgs[a].sort_order, orgs[a].code) for a in o.ancestor_ids[1:] if a in orgs)
        for o in orgs.values()
    }
    orgs = dict(sorted(orgs.items(), key=lambda item: tree_key[item[0]]))
    branches = [o for o in orgs.values() if o.kind == OrgKind.BRANCH and o.is_active]
    history = StarHistory(
        Certificate.objects.filter(branch__path__startswith=committee.path, issued_at__lt=instant)
        .order_by("branch_id", "issued_at", "pk")
        .values_list("pk", "branch_id", "certified_stars", "issued_at", "valid_until"),
        StarEvent.objects.filter(
            branch__path__startswith=committee.path,
            kind__in=[StarEventKind.DOWNGRADE, StarEventKind.REVOCATION],
            at__lt=instant,
        )
        .order_by("at", "pk")
        .values_list("certificate_id", "kind", "to_stars", "at"),
    )

    def parent_name(org: _Org) -> str:
        parent = orgs.get(org.parent_id)
        return parent.name if parent else committee.name

    def unit_of(org: _Org) -> _Org | None:
        """The party committee / general branch directly under the committee, None for a direct branch."""
        ids = org.ancestor_ids
        return orgs.get(ids[1]) if len(ids) > 2 else None

    def unit_id(org: _Org | None) -> int | None:
        unit = unit_of(org) if org else None
        return unit.pk if unit else None

    states = {b.pk: history.state_at(b.pk, instant, as_of) for b in branches}
    levels = {pk: level for pk, (level, _revoked) in states.items()}
    revoked = {pk for pk, (_level, was_revoked) in states.items() if was_revoked}
    target = policy.five_star_target_percent
    five_goods_min = policy.five_goods_min_percent
    totals = _counts_row(list(levels.values()), len(revoked))
    first_record = min(
        [at for at in [history.first_issued] if at is not None]
        + [o.created_at for o in orgs.values() if o.kind == OrgKind.BRANCH],
        default=None,
    )

    return {
        "version": DATA_VERSION,
        "language": translation.get_language() or "",
        "committee": {"id": committee.pk, "name": committee.name},
        "year": year,
        "quarter": quarter,
        "quarter_label": quarter_label(year, quarter),
        "period": {
            "start": first_day.isoformat(),
            "end": last_day.isoformat(),
            "as_of": as_of.isoformat(),
            "complete": as_of == last_day,
            "timezone": str(_zone()),
        },
        "generated_at": timezone.localtime(timezone=_zone()).isoformat(timespec="seconds"),
        "star_levels": [{"stars": n, "label": star_label(n)} for n in STAR_LEVELS],
        "policy": {
            "five_star_target_percent": _decimal_str(target),
            "target_deadline": policy.target_deadline.isoformat() if policy.target_deadline else None,
            "five_goods_min_percent": _decimal_str(five_goods_min),
        },
        "totals": totals,
        "target": {
            "five_star_percent": totals["five_star_percent"],
            "target_percent": _decimal_str(target),
            "reached": Decimal(totals["five_star"]) * 100 >= target * totals["branches"]
            and totals["branches"] > 0,
            "gap": _decimal_str(max(Decimal(0), target - Decimal(totals["five_star_percent"]))),
        },
        "distribution": _distribution(branches, levels, revoked, unit_of),
        "trend": _trend(branches, history, year, quarter, as_of, instant, first_record),
        "commendations": [
            {
                "stars": n,
                "label": star_label(n),
                "branches": [
                    {
                        "name": b.name,
                        "parent": parent_name(b),
                        "unit": unit_id(b),
                        "since": _local_day(levels[b.pk].since),
                    }
                    for b in branches
                    if levels[b.pk] is not None and levels[b.pk].stars == n
                ],
            }
            for n in COMMENDED_LEVELS
        ],
        "units": _units(branches, unit_of),
        "changes": _changes(committee, orgs, parent_name, unit_id, period_start, instant),
        "progress": _progress(committee, branches, unit_of, instant),
        "ranking": _ranking(committee, orgs, tree_key, parent_name, unit_id, levels, revoked, instant),
        "appeals": _appeals(committee, period_start, instant),
        "five_goods": _five_goods(orgs, branches, levels, five_goods_min),
        "check_ranking": _check_ranking(committee, year, quarter),
        **_between_certifications(committee, first_day, as_of, period_start, instant),
    }


def _between_certifications(committee, first_day, as_of, period_start, instant) -> dict:
    """Version 5: rectification opened / closed / overdue per party committee with the overdue
    list, supervision coverage, the stage distribution and the quarter's stage changes, from the
    figure functions the dashboard shows (reports.figures; four queries)."""
    tree = figures.load_tree(committee)
    return {
        "rectification": figures.rectification_figures(tree, first_day, as_of),
        "supervision": figures.supervision_coverage(tree, first_day, as_of),
        "stages": figures.stage_distribution(tree),
        "stage_changes": figures.stage_changes(tree, period_start, instant),
    }


def _distribution(branches, levels, revoked, unit_of) -> list[dict]:
    """Per party committee / general branch directly under the committee (whole subtree), then
    the branches directly under the committee: the rows add up to the totals.

    ``branches`` come in tree order, so the units appear by (sort_order, code)."""
    groups: dict[int | None, list] = {}
    revoked_in: dict[int | None, int] = {}
    names: dict[int | None, str] = {}
    for branch in branches:
        unit = unit_of(branch)
        key = unit.pk if unit else None
        groups.setdefault(key, []).append(levels[branch.pk])
        revoked_in[key] = revoked_in.get(key, 0) + (branch.pk in revoked)
        names[key] = unit.name if unit else _("Branches directly under the committee")
    rows = [
        {"name": names[key], "unit": key, **_counts_row(group, revoked_in[key])}
        for key, group in groups.items()
        if key is not None
    ]
    if None in groups:
        rows.append({"name": names[None], **_counts_row(groups[None], revoked_in[None])})
    return rows


def _trend(branches, history, year, quarter, as_of, instant, first_record) -> list[dict]:
    """Five-star share at the end of each of the last quarters, oldest first, this one last.

    Quarters before ``first_record`` (the committee's first certificate or branch row) are left
    out: the committee had no record then, and "0 rated" would misread as a fall. The bulletin's
    own quarter is always shown."""
    start = quarter_of(timezone.localdate(first_record, _zone())) if first_record else (year, quarter)
    points = []
    for steps in range(TREND_QUARTERS - 1, -1, -1):
        y, q = previous_quarter(year, quarter, steps=steps)
        if steps and (y, q) < start:
            continue
        if steps:
            last_day = quarter_days(y, q)[1]
            at = _day_start(last_day + datetime.timedelta(days=1))
        else:
            last_day, at = as_of, instant
        five = rated = 0
        for branch in branches:
            level = history.level_at(branch.pk, at, last_day)
            if level is not None:
                rated += 1
                five += level.stars == 5
        points.append(
            {
                "year": y,
                "quarter": q,
                "label": quarter_label(y, q),
                "as_of": last_day.isoformat(),
                "branches": len(branches),
                "rated": rated,
                "five_star": five,
                "five_star_percent": _percent(five, len(branches)),
            }
        )
    return points


def _units(branches, unit_of) -> list[dict]:
    """The party committees / general branches directly under the committee that hold active
    branches, in tree order, with their number of branches: each gets a PDF annex."""
    counts: dict[int, dict] = {}
    for branch in branches:
        unit = unit_of(branch)
        if unit is not None:
            counts.setdefault(unit.pk, {"id": unit.pk, "name": unit.name, "branches": 0})["branches"] += 1
    return list(counts.values())


def _changes(committee, orgs, parent_name, unit_id, start, end) -> dict:
    kinds = dict.fromkeys(StarEventKind.values, 0)
    rows = []
    for at, branch_id, kind, from_stars, to_stars, reason, violation in (
        StarEvent.objects.filter(branch__path__startswith=committee.path, at__gte=start, at__lt=end)
        .order_by("at", "pk")
        .values_list("at", "branch_id", "kind", "from_stars", "to_stars", "reason", "violation")
    ):
        branch = orgs.get(branch_id)
        kinds[kind] = kinds.get(kind, 0) + 1
        rows.append(
            {
                "date": _local_day(at),
                "branch": branch.name if branch else "",
                "parent": parent_name(branch) if branch else "",
                "unit": unit_id(branch),
                "kind": kind,
                "kind_label": str(StarEventKind(kind).label),
                "from_stars": from_stars,
                "to_stars": to_stars,
                "from_label": star_label(from_stars),
                # A revoked branch reads apart from one never rated.
                "to_label": _("Revoked") if kind == StarEventKind.REVOCATION else star_label(to_stars),
                "reason": reason,
                "violation": violation,
            }
        )
    return {
        "summary": [
            {"kind": kind, "label": str(StarEventKind(kind).label), "count": count}
            for kind, count in kinds.items()
        ],
        "rows": rows,
    }


def _progress(committee, branches, unit_of, instant) -> dict | None:
    """Funnel counts of the newest cycle opened before the bulletin's date, per unit, as of now."""
    cycle = (
        Cycle.objects.filter(committee_id=committee.pk, opened_at__lt=instant)
        .order_by("-opened_at", "-pk")
        .values("pk", "name", "status")
        .first()
    )
    if cycle is None:
        return None
    stage_of = {status: stage for stage, members in FUNNEL for status in members}
    stages = [stage for stage, _members in FUNNEL]
    units = {}
    for branch in branches:
        unit = unit_of(branch)
        units[branch.pk] = (
            (unit.pk, unit.name) if unit else (None, _("Branches directly under the committee"))
        )
    counts: dict[int | None, dict[str, int]] = {}
    names: dict[int | None, str] = {}
    # ``branches`` come in tree order: the units' first appearance is their (sort_order, code) order.
    order = {key: index for index, (key, _name) in enumerate(dict.fromkeys(units.values()))}
    for branch_id, status in Assessment.objects.filter(cycle_id=cycle["pk"]).values_list(
        "branch_id", "status"
    ):
        if branch_id not in units:
            continue
        key, name = units[branch_id]
        names[key] = name
        row = counts.setdefault(key, dict.fromkeys(stages, 0))
        row[stage_of[status]] += 1
    keys = sorted((k for k in counts if k is not None), key=order.__getitem__)
    keys += [None] if None in counts else []
    total = dict.fromkeys(stages, 0)
    rows = []
    for key in keys:
        for stage in stages:
            total[stage] += counts[key][stage]
        rows.append(
            {
                "name": names[key],
                "counts": [counts[key][s] for s in stages],
                "total": sum(counts[key].values()),
            }
        )
    return {
        "cycle": {
            "name": cycle["name"],
            "status": cycle["status"],
            "status_label": str(CycleStatus(cycle["status"]).label),
        },
        "stages": [{"status": s, "label": str(AssessmentStatus(s).label)} for s in stages],
        "rows": rows,
        "totals": {"counts": [total[s] for s in stages], "total": sum(total.values())},
    }


def _ranking(committee, orgs, tree_key, parent_name, unit_id, levels, revoked, instant) -> dict:
    """Active branches by the consolidated score of their latest decided assessment.

    The star shown is the one in force at the bulletin's date (``levels``), never the decided one:
    a downgrade or revocation after certification shows. ``rows`` is the whole ranking (the Excel
    file holds it all); ``top`` and ``bottom`` are cut at ``RANKING_SIZE`` places with every branch
    tied at the cut kept, so a tie is never decided by an accident of order.
    """
    latest: dict[int, tuple] = {}
    for branch_id, score, cycle_name in (
        Assessment.objects.filter(
            branch__path__startswith=committee.path,
            status__in=RANKED_STATUSES,
            consolidated_score__isnull=False,
            decided_at__lt=instant,
        )
        .order_by("branch_id", "-cycle__opened_at", "-decided_at", "-pk")
        .values_list("branch_id", "consolidated_score", "cycle__name")
    ):
        branch = orgs.get(branch_id)
        if branch_id not in latest and branch and branch.kind == OrgKind.BRANCH and branch.is_active:
            latest[branch_id] = (branch, score, cycle_name)
    # Equal scores share a rank; among them the tree order (sort_order, code) lists them.
    ordered = sorted(latest.values(), key=lambda row: (-row[1], tree_key[row[0].pk]))
    per_score: dict = defaultdict(int)
    for _branch, score, _cycle in ordered:
        per_score[score] += 1
    rows, lower = [], []  # lower[i]: how many branches scored below rows[i]
    previous_score, rank, below = None, 0, len(ordered)
    for position, (branch, score, cycle_name) in enumerate(ordered, start=1):
        if score != previous_score:
            rank, previous_score = position, score
            below -= per_score[score]  # branches with a lower score than this one
        level = levels.get(branch.pk)
        stars = level.stars if level else None
        rows.append(
            {
                "rank": rank,
                "tied": per_score[score] > 1,
                "branch": branch.name,
                "parent": parent_name(branch),
                "unit": unit_id(branch),
                "score": str(score),
                "stars": stars,
                "revoked": branch.pk in revoked,
                "stars_label": _("Revoked") if branch.pk in revoked else star_label(stars),
                "cycle": cycle_name,
            }
        )
        lower.append(below)
    top = [row for row in rows if row["rank"] <= RANKING_SIZE]
    # The bottom list: the last RANKING_SIZE places, ties kept, never repeating the top list.
    bottom = [row for row, n in zip(rows[len(top) :], lower[len(top) :], strict=True) if n < RANKING_SIZE]
    return {"ranked": len(rows), "top": top, "bottom": bottom, "rows": rows}


def _five_goods(orgs, branches, levels, minimum: Decimal) -> list[dict]:
    """Every active party committee / general branch, over the branches of its whole subtree."""
    parents = [o for o in orgs.values() if o.kind in PARENT_KINDS and o.is_active]
    tally = {p.pk: [0, 0] for p in parents}
    for branch in branches:
        level = levels[branch.pk]
        for ancestor in branch.ancestor_ids[1:-1]:
            if ancestor in tally:
                tally[ancestor][0] += 1
                tally[ancestor][1] += level is not None and level.stars == 5
    top_depth = min((p.depth for p in parents), default=1)
    rows = []
    for parent in parents:
        count, five = tally[parent.pk]
        eligible = count > 0 and Decimal(five) * 100 >= minimum * count
        rows.append(
            {
                "name": parent.name,
                "kind_label": str(OrgKind(parent.kind).label),
                "level": parent.depth - top_depth,
                "branches": count,
                "five_star": five,
                "five_star_percent": _percent(five, count),
                # Exact comparison: 1 of 3 is below 33.33 %, however the share is rounded.
                "eligible": eligible,
                # One label for every renderer (web, PDF and Excel say the same).
                "eligible_label": _("Eligible") if eligible else _("Not eligible"),
            }
        )
    return rows


def _appeals(committee, start, end) -> dict:
    """The appeals (复核申请) made in the quarter and how they stand: rejected, upheld, changed, open."""
    return appeal_counts(committee, start, end)


# --- The quarterly check ranking (季度考核排名) -------------------------------------------------


def check_change_label(change: int | None, *, ranked_before: bool) -> str:
    """↑3 three places up, ↓2 two down, — unchanged (or no earlier published check), "new"
    for a branch the previous published check did not rank."""
    if change is None:
        return _("new") if ranked_before else "—"
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "—"


def top_and_bottom(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """The top and the bottom ``RANKING_SIZE`` places of ``rows`` (best first, competition ranks
    in ``rank``): every row tied at a cut kept, the bottom list never repeating the top one. The
    rows below a row are those ranked after every row sharing its rank."""
    per_rank = Counter(row["rank"] for row in rows)
    top = [row for row in rows if row["rank"] <= RANKING_SIZE]
    bottom = [
        row
        for row in rows[len(top) :]
        if len(rows) - (row["rank"] - 1) - per_rank[row["rank"]] < RANKING_SIZE
    ]
    return top, bottom


def _check_ranking(committee, year: int, quarter: int) -> dict:
    """The committee-wide ranking of the quarter's published check round, or ``published`` False.

    Ranks, party committees, changes and stars are those the round froze at its publication
    (checks.ranking): the star is the one in force when the round was published. ``top`` and
    ``bottom`` are cut at ``RANKING_SIZE`` places as the certification ranking is, every branch
    tied at the cut kept; ``rows`` is the whole ranking (the Excel file holds it). ``flags`` are
    the 班子调整 flags of the year so far: branches ranked last in their party committee in at
    least two published checks of the year up to this quarter, with the action recorded.
    """
    flags = [
        {
            "branch": branch,
            "parent": parent or "",
            "action_taken": action_taken,
            "action_on": action_on.isoformat() if action_on else None,
        }
        for branch, parent, action_taken, action_on in LeadershipFlag.objects.filter(
            committee_id=committee.pk, year=year
        )
        .annotate(
            lasts=Count(
                "sheets",
                filter=Q(
                    sheets__round__quarter__lte=quarter, sheets__round__status=CheckRoundStatus.PUBLISHED
                ),
            )
        )
        .filter(lasts__gte=LAST_PLACES_FOR_A_FLAG)
        .order_by("branch__path")
        .values_list("branch__name", "branch__parent__name", "action_taken", "action_on")
    ]
    results = quarter_check_ranking(committee.pk, year, quarter)
    if results is None:
        return {"published": False, "ranked": 0, "top": [], "bottom": [], "rows": [], "flags": flags}
    earlier = Q(year__lt=year) | Q(year=year, quarter__lt=quarter)
    ranked_before = CheckRound.objects.filter(
        earlier, committee_id=committee.pk, status=CheckRoundStatus.PUBLISHED
    ).exists()
    per_rank = Counter(result["rank"] for result in results)
    rows = [
        {
            "rank": result["rank"],
            "tied": per_rank[result["rank"]] > 1,
            "branch": result["branch"],
            "parent": result["party_committee"],
            "score": str(result["score"]),
            "stars": result["stars"],
            "stars_label": star_label(result["stars"]),
            "change": result["change"],
            "change_label": check_change_label(result["change"], ranked_before=ranked_before),
            "rank_in_party_committee": result["rank_in_party_committee"],
            "last_in_party_committee": result["last_in_party_committee"],
        }
        for result in results
    ]
    top, bottom = top_and_bottom(rows)
    return {
        "published": True,
        "ranked": len(rows),
        "top": top,
        "bottom": bottom,
        "rows": rows,
        "flags": flags,
    }
