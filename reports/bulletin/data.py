"""The data of the quarterly bulletin (季度通报), which every renderer works from.

``bulletin_data`` gathers everything the bulletin shows into plain JSON-ready data (strings,
ints, booleans, lists and dicts; decimals and dates as strings). It is frozen in
``Bulletin.data`` and every renderer works from it, so the web preview, the PDF and the Excel
file always agree and never change after publication. It runs a fixed number of queries
(eight) whatever the number of branches: rows are fetched as tuples for the whole committee
and grouped in Python.

How a branch's star level at a past instant T is found (distribution, commendation lists,
"five goods" and the trend all use it), from certificate dates and star events:

* the branch's certificate at T is the one most recently issued before T: certification
  supersedes the previous certificate, so an older one can no longer be in force;
* it is in force if its ``valid_until`` is on or after T's last day (expiry is a date: the
  nightly expiry job only records it afterwards) and no revocation event of it precedes T;
* its level is the ``to_stars`` of its last downgrade event before T, else the certified level.

The current ``Certificate.status``/``stars`` are not used: they describe today, and a bulletin
describes the end of its quarter (or today, while the quarter is still running).

The denominator of every share is the committee's active branches at generation time, for
every quarter of the trend as well: the tree keeps no record of when a branch was founded or
closed (``created_at`` is when the row was entered), so today's branch set is the only
consistent one. A share is five-star branches / all branches, as on the dashboard.
"""

import bisect
import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.models import PARENT_KINDS, CommitteePolicy, Organization, OrgKind
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
from scoring.templatetags.stars import star_label

from ..quarters import previous_quarter, quarter_days, quarter_label

DATA_VERSION = 1
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

    def level_at(self, branch_id: int, instant: datetime.datetime, last_day: datetime.date) -> Level | None:
        """The level in force just before ``instant``, whose date part is ``last_day``."""
        issued = self._issued.get(branch_id)
        if not issued:
            return None
        index = bisect.bisect_left(issued, instant) - 1
        if index < 0:
            return None
        pk, stars, valid_until, issued_at = self._certs[branch_id][index]
        if valid_until < last_day:
            return None
        for at, kind, to_stars in self._events.get(pk, ()):
            if at >= instant:
                break
            if kind == StarEventKind.REVOCATION:
                return None
            if to_stars is not None:
                stars = to_stars
        return Level(stars=stars, since=issued_at)


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

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


def _counts_row(levels: list[Level | None]) -> dict:
    counts = dict.fromkeys(STAR_LEVELS, 0)
    unrated = 0
    for level in levels:
        if level is None:
            unrated += 1
        else:
            counts[level.stars] += 1
    return {
        "branches": len(levels),
        "counts": [counts[n] for n in STAR_LEVELS],
        "rated": len(levels) - unrated,
        "unrated": unrated,
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
        .values_list("pk", "name", "kind", "parent_id", "path", "depth", "is_active")
    }
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

    levels = {b.pk: history.level_at(b.pk, instant, as_of) for b in branches}
    target = policy.five_star_target_percent
    five_goods_min = policy.five_goods_min_percent
    totals = _counts_row(list(levels.values()))

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
        "distribution": _distribution(branches, levels, unit_of),
        "trend": _trend(branches, history, year, quarter, as_of, instant),
        "commendations": [
            {
                "stars": n,
                "label": star_label(n),
                "branches": [
                    {
                        "name": b.name,
                        "parent": parent_name(b),
                        "since": _local_day(levels[b.pk].since),
                    }
                    for b in branches
                    if levels[b.pk] is not None and levels[b.pk].stars == n
                ],
            }
            for n in COMMENDED_LEVELS
        ],
        "changes": _changes(committee, orgs, parent_name, period_start, instant),
        "progress": _progress(committee, branches, unit_of, instant),
        "ranking": _ranking(committee, orgs, parent_name, instant),
        "five_goods": _five_goods(orgs, branches, levels, five_goods_min),
    }


def _distribution(branches, levels, unit_of) -> list[dict]:
    """Per party committee / general branch directly under the committee (whole subtree), then
    the branches directly under the committee: the rows add up to the totals."""
    groups: dict[int | None, list] = {}
    names: dict[int | None, str] = {}
    for branch in branches:
        unit = unit_of(branch)
        key = unit.pk if unit else None
        groups.setdefault(key, []).append(levels[branch.pk])
        names[key] = unit.name if unit else _("Branches directly under the committee")
    rows = [{"name": names[key], **_counts_row(group)} for key, group in groups.items() if key is not None]
    if None in groups:
        rows.append({"name": names[None], **_counts_row(groups[None])})
    return rows


def _trend(branches, history, year, quarter, as_of, instant) -> list[dict]:
    """Five-star share at the end of each of the last quarters, oldest first, this one last."""
    points = []
    for steps in range(TREND_QUARTERS - 1, -1, -1):
        y, q = previous_quarter(year, quarter, steps=steps)
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


def _changes(committee, orgs, parent_name, start, end) -> dict:
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
                "kind": kind,
                "kind_label": str(StarEventKind(kind).label),
                "from_stars": from_stars,
                "to_stars": to_stars,
                "from_label": star_label(from_stars),
                "to_label": star_label(to_stars),
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
    for branch_id, status in Assessment.objects.filter(cycle_id=cycle["pk"]).values_list(
        "branch_id", "status"
    ):
        if branch_id not in units:
            continue
        key, name = units[branch_id]
        names[key] = name
        row = counts.setdefault(key, dict.fromkeys(stages, 0))
        row[stage_of[status]] += 1
    keys = [k for k in counts if k is not None] + ([None] if None in counts else [])
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


def _ranking(committee, orgs, parent_name, instant) -> dict:
    """Active branches by the consolidated score of their latest decided assessment."""
    latest: dict[int, tuple] = {}
    for branch_id, score, stars, cycle_name in (
        Assessment.objects.filter(
            branch__path__startswith=committee.path,
            status__in=RANKED_STATUSES,
            consolidated_score__isnull=False,
            decided_at__lt=instant,
        )
        .order_by("branch_id", "-cycle__opened_at", "-decided_at", "-pk")
        .values_list("branch_id", "consolidated_score", "decided_stars", "cycle__name")
    ):
        branch = orgs.get(branch_id)
        if branch_id not in latest and branch and branch.kind == OrgKind.BRANCH and branch.is_active:
            latest[branch_id] = (branch, score, stars, cycle_name)
    ordered = sorted(latest.values(), key=lambda row: (-row[1], row[0].path))
    ranked = []
    previous_score, rank = None, 0
    for position, (branch, score, stars, cycle_name) in enumerate(ordered, start=1):
        if score != previous_score:
            rank, previous_score = position, score
        ranked.append(
            {
                "rank": rank,
                "branch": branch.name,
                "parent": parent_name(branch),
                "score": str(score),
                "stars": stars,
                "stars_label": star_label(stars),
                "cycle": cycle_name,
            }
        )
    return {
        "ranked": len(ranked),
        "top": ranked[:RANKING_SIZE],
        # The bottom list never repeats a branch of the top list.
        "bottom": ranked[max(RANKING_SIZE, len(ranked) - RANKING_SIZE) :],
    }


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
        rows.append(
            {
                "name": parent.name,
                "kind_label": str(OrgKind(parent.kind).label),
                "level": parent.depth - top_depth,
                "branches": count,
                "five_star": five,
                "five_star_percent": _percent(five, count),
                # Exact comparison: 1 of 3 is below 33.33 %, however the share is rounded.
                "eligible": count > 0 and Decimal(five) * 100 >= minimum * count,
            }
        )
    return rows
