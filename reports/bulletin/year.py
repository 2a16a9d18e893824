"""The year bulletin (年度通报) of the quarterly checks: its frozen data and its document's context.

A year bulletin sums up a committee's year between certifications once the four quarterly
checks of the year are published: each branch's four scores and ranks, its year mean and rank,
the 五好党支部 named by the committee's threshold, the 班子调整 flags with the action recorded and
when, the year's downgrade proposals with their outcome, and a summary per party committee.

``year_bulletin_data`` freezes it all into plain JSON-ready data (``Bulletin.data``, with
``kind`` "year"), in a fixed number of queries whatever the number of branches; the quarterly
bulletin's renderers (``html``, ``pdf``, ``xlsx``) dispatch on that kind. The rules are those of
``checks.ranking`` and the frozen check results: the year rank is the competition rank of the
exact year mean among the branches scored in all four quarters (the others are listed after
them, unranked); the mean shown is cut to two decimals as on the year-results page.

Bounded length: the workbook holds every branch; the PDF lists every branch only up to
``PDF_BRANCH_LIMIT`` branches, above that the party committees' summary and the top and bottom
of the ranking (ties kept at the cut); the web preview cuts long lists at its row limit.
"""

from collections import defaultdict
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.models import Organization
from checks.models import (
    CheckRound,
    CheckRoundStatus,
    CheckSheet,
    DowngradeProposal,
    LeadershipFlag,
    ProposalSource,
    ProposalStatus,
    YearResult,
)
from checks.ranking import QUARTERS_IN_A_YEAR, shared_ranks
from checks.selectors import check_policy_numbers, unpublished_check_quarters
from scoring.templatetags.stars import star_label

from ..quarters import quarter_label, year_label
from . import bounds
from .charts import group_means_bars, group_means_chart
from .data import RANKING_SIZE, _decimal_str, _local_day, _zone, top_and_bottom

YEAR_KIND = "year"
YEAR_DATA_VERSION = 1
# Above this many branches the PDF lists the party committees and the top and bottom only:
# the threshold of every bulletin's main document (bounds.FULL_LISTS_UP_TO).
PDF_BRANCH_LIMIT = bounds.FULL_LISTS_UP_TO
QUARTERS = tuple(range(1, QUARTERS_IN_A_YEAR + 1))
CENT = Decimal("0.01")


def is_year_data(data: dict) -> bool:
    return data.get("kind") == YEAR_KIND


def check_year_ready(committee_id: int, year: int) -> None:
    """ValidationError unless the four quarterly checks of the year are published."""
    missing = unpublished_check_quarters(committee_id, year)
    if missing:
        raise ValidationError(
            _(
                "The year bulletin of %(year)s can be generated once its four quarterly checks are "
                "published; not published yet: %(quarters)s."
            )
            % {"year": year, "quarters": "、".join(quarter_label(year, q) for q in missing)},
            code="year_not_complete",
        )


def _cut(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_FLOOR))


def _mean(values: list[Decimal]) -> Decimal | None:
    return sum(values, Decimal(0)) / len(values) if values else None


def year_bulletin_data(*, committee: Organization, year: int) -> dict:
    """Everything the committee's year bulletin of ``year`` shows, as plain data (eight queries)."""
    check_year_ready(committee.pk, year)
    threshold, _margin = check_policy_numbers(committee.pk)
    rounds = list(
        CheckRound.objects.filter(committee_id=committee.pk, year=year, status=CheckRoundStatus.PUBLISHED)
        .order_by("quarter")
        .values_list("quarter", "published_at")
    )
    orgs = {
        pk: (name, (sort_order, code))
        for pk, name, sort_order, code in Organization.objects.filter(
            path__startswith=committee.path
        ).values_list("pk", "name", "sort_order", "code")
    }
    scores: dict[int, dict[int, tuple]] = defaultdict(dict)
    group_of: dict[int, int] = {}
    for branch_id, group_id, quarter, total, rank, rank_group, last in (
        CheckSheet.objects.filter(
            round__committee_id=committee.pk, round__year=year, round__status=CheckRoundStatus.PUBLISHED
        )
        .order_by("round__quarter", "pk")
        .values_list(
            "branch_id",
            "group_id",
            "round__quarter",
            "total",
            "rank_committee",
            "rank_group",
            "is_last_in_group",
        )
    ):
        scores[branch_id][quarter] = (total, rank, rank_group, last)
        group_of[branch_id] = group_id  # the latest quarter's party committee
    results = {
        branch_id: (rounds_scored, average, five_good, last_places)
        for branch_id, rounds_scored, average, five_good, last_places in YearResult.objects.filter(
            committee_id=committee.pk, year=year
        ).values_list("branch_id", "rounds", "average", "five_good", "last_places")
    }
    flags = _flags(committee, year, orgs, group_of)
    flagged = {flag["branch_id"] for flag in flags}

    def group_name(branch_id: int) -> str:
        group_id = group_of.get(branch_id)
        if group_id is None or group_id == committee.pk:
            return _("Branches directly under the committee")
        return orgs[group_id][0]

    full_year = {pk: row[1] for pk, row in results.items() if row[0] == QUARTERS_IN_A_YEAR}
    year_ranks = shared_ranks(full_year)
    per_rank = defaultdict(int)
    for rank in year_ranks.values():
        per_rank[rank] += 1
    rows = []
    for branch_id, (rounds_scored, average, five_good, last_places) in results.items():
        quarters = scores.get(branch_id, {})
        rank = year_ranks.get(branch_id)
        rows.append(
            {
                "branch": orgs[branch_id][0] if branch_id in orgs else "",
                "parent": group_name(branch_id),
                "scores": [str(quarters[q][0]) if q in quarters else None for q in QUARTERS],
                "ranks": [quarters[q][1] if q in quarters else None for q in QUARTERS],
                "last": [bool(quarters[q][3]) if q in quarters else False for q in QUARTERS],
                "rounds": rounds_scored,
                "mean": _cut(average),
                "rank": rank,
                "tied": rank is not None and per_rank[rank] > 1,
                "five_good": five_good,
                "last_places": last_places,
                "flagged": branch_id in flagged,
                "_order": (
                    rank is None,
                    rank or 0,
                    -average,
                    orgs.get(group_of.get(branch_id), ("", (0, "")))[1],
                    orgs.get(branch_id, ("", (0, "")))[1],
                ),
            }
        )
    rows.sort(key=lambda row: row.pop("_order"))
    ranked = [row for row in rows if row["rank"] is not None]
    top, bottom = top_and_bottom(ranked)
    return {
        "kind": YEAR_KIND,
        "version": YEAR_DATA_VERSION,
        "language": translation.get_language() or "",
        "committee": {"id": committee.pk, "name": committee.name},
        "year": year,
        "label": year_label(year),
        "generated_at": timezone.localtime(timezone=_zone()).isoformat(timespec="seconds"),
        "threshold": _decimal_str(threshold),
        "quarters": _quarters(year, rounds, scores),
        "totals": {
            "branches": len(rows),
            "ranked": len(ranked),
            "five_good": sum(row["five_good"] for row in rows),
            "flags": len(flags),
            "mean": _cut(_mean([Decimal(row["mean"]) for row in rows]) or Decimal(0)),
        },
        "rows": rows,
        "top": top,
        "bottom": bottom,
        "five_goods": [
            {"branch": row["branch"], "parent": row["parent"], "mean": row["mean"], "rank": row["rank"]}
            for row in rows
            if row["five_good"]
        ],
        "flags": [{key: value for key, value in flag.items() if key != "branch_id"} for flag in flags],
        "proposals": _proposals(committee, year, orgs),
        "groups": _groups(results, flagged, orgs, group_of, committee),
    }


def _quarters(year: int, rounds: list, scores: dict) -> list[dict]:
    """Per quarter: when its check was published, how many branches it ranked, their mean."""
    rows = []
    for quarter, published_at in rounds:
        totals = [per[quarter][0] for per in scores.values() if quarter in per]
        mean = _mean(totals)
        rows.append(
            {
                "quarter": quarter,
                "label": quarter_label(year, quarter),
                "short": _("Q%(quarter)s") % {"quarter": quarter},
                "published": _local_day(published_at) if published_at else None,
                "ranked": len(totals),
                "mean": str(mean.quantize(CENT, rounding=ROUND_HALF_UP)) if mean is not None else None,
            }
        )
    return rows


def _flags(committee, year: int, orgs: dict, group_of: dict) -> list[dict]:
    """The year's 班子调整 flags: the quarters ranked last, the action recorded, when and by whom."""
    last_quarters: dict[int, list[int]] = defaultdict(list)
    for flag_id, quarter in (
        LeadershipFlag.sheets.through.objects.filter(
            leadershipflag__committee_id=committee.pk, leadershipflag__year=year
        )
        .order_by("checksheet__round__quarter")
        .values_list("leadershipflag_id", "checksheet__round__quarter")
    ):
        last_quarters[flag_id].append(quarter)
    flags = []
    for pk, branch_id, action_taken, action_on, recorded_at, by_real, by_username in (
        LeadershipFlag.objects.filter(committee_id=committee.pk, year=year)
        .order_by("branch__path")
        .values_list(
            "pk",
            "branch_id",
            "action_taken",
            "action_on",
            "action_recorded_at",
            "action_by__real_name",
            "action_by__username",
        )
    ):
        group_id = group_of.get(branch_id)
        flags.append(
            {
                "branch_id": branch_id,
                "branch": orgs.get(branch_id, ("",))[0],
                "parent": orgs[group_id][0] if group_id in orgs and group_id != committee.pk else "",
                "quarters": ", ".join(quarter_label(year, q) for q in last_quarters[pk]),
                "action_taken": action_taken,
                "action_on": action_on.isoformat() if action_on else None,
                "recorded_at": _local_day(recorded_at) if recorded_at else None,
                "recorded_by": by_real or by_username or "",
            }
        )
    return flags


def _proposals(committee, year: int, orgs: dict) -> dict:
    """The downgrade proposals of the year's checks (a quarter's low score or a monthly check's
    violation in the year), with their outcome, and how many ended each way."""
    rows = []
    counts = dict.fromkeys(ProposalStatus.values, 0)
    for branch_id, source, stars, reason, status, proposed_at, decided_at, note, to_stars in (
        DowngradeProposal.objects.filter(committee_id=committee.pk)
        .filter(Q(sheet__round__year=year) | Q(entry__checked_on__year=year))
        .order_by("proposed_at", "pk")
        .values_list(
            "branch_id",
            "source",
            "stars",
            "reason",
            "status",
            "proposed_at",
            "decided_at",
            "decision_note",
            "star_event__to_stars",
        )
    ):
        counts[status] += 1
        rows.append(
            {
                "branch": orgs.get(branch_id, ("",))[0],
                "source": source,
                "source_label": str(ProposalSource(source).label),
                "stars": stars,
                "stars_label": star_label(stars),
                "reason": reason,
                "proposed": _local_day(proposed_at),
                "status": status,
                "status_label": str(ProposalStatus(status).label),
                "to_stars": to_stars,
                "to_label": star_label(to_stars) if to_stars else "",
                "decided": _local_day(decided_at) if decided_at else None,
                "note": note,
            }
        )
    return {
        "rows": rows,
        "summary": [
            {"status": status, "label": str(ProposalStatus(status).label), "count": count}
            for status, count in counts.items()
        ],
    }


def _groups(results: dict, flagged: set[int], orgs: dict, group_of: dict, committee) -> list[dict]:
    """Per party committee (the group its branches were ranked in): branches, mean, 五好, flags.

    Party committees by (sort_order, code), the branches directly under the committee last."""
    tally: dict[int, dict] = {}
    for branch_id, (_rounds, average, five_good, _last) in results.items():
        group_id = group_of.get(branch_id, committee.pk)
        entry = tally.setdefault(group_id, {"means": [], "five_good": 0, "flags": 0})
        entry["means"].append(average)
        entry["five_good"] += bool(five_good)
        entry["flags"] += branch_id in flagged
    return [
        {
            "name": orgs[group_id][0]
            if group_id != committee.pk
            else _("Branches directly under the committee"),
            "branches": len(entry["means"]),
            "mean": _cut(_mean(entry["means"])),
            "five_good": entry["five_good"],
            "flags": entry["flags"],
        }
        for group_id, entry in sorted(
            tally.items(), key=lambda item: (item[0] == committee.pk, orgs.get(item[0], ("", (0, "")))[1])
        )
    ]


# --- The document ---------------------------------------------------------------------------------


def year_document_context(data: dict, *, row_limit: int | None = None, screen: bool = True) -> dict:
    """What the year document template needs. The PDF (``row_limit`` None) lists every branch up
    to ``PDF_BRANCH_LIMIT`` branches, else the top and the bottom only; the web preview cuts the
    full list at ``row_limit`` and says how many more rows the Excel file holds."""
    rows = data["rows"]
    if row_limit is None:
        full = rows if len(rows) <= PDF_BRANCH_LIMIT else None
        more = 0
    else:
        full, more = rows[:row_limit], max(0, len(rows) - row_limit)
    limit = PDF_BRANCH_LIMIT if row_limit is None else row_limit

    def cut(listed: list) -> dict:
        """The other lists (五好, flags, proposals) are cut at the same bound, the rest in Excel."""
        return {"rows": listed[:limit], "more": max(0, len(listed) - limit)}

    return {
        "data": data,
        "full_rows": full,
        "more_rows": more,
        "five_goods": cut(data["five_goods"]),
        "flags": cut(data["flags"]),
        "proposals": cut(data["proposals"]["rows"]),
        "ranking_tables": [
            (_("Top %(n)s") % {"n": RANKING_SIZE}, data["top"]),
            (_("Bottom %(n)s") % {"n": RANKING_SIZE}, data["bottom"]),
        ],
        "pdf_limit": PDF_BRANCH_LIMIT,
        "groups_chart": group_means_chart(data),
        "groups_bars": group_means_bars(data) if screen else None,
        "generated_at": data["generated_at"][:16].replace("T", " "),
        "screen": screen,
    }


__all__ = [
    "PDF_BRANCH_LIMIT",
    "YEAR_KIND",
    "check_year_ready",
    "is_year_data",
    "year_bulletin_data",
    "year_document_context",
]
