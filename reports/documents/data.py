"""The frozen data each official document is made from, as plain JSON-ready values.

* 通报 (bulletin): exactly the quarterly bulletin's frozen data, the figures its PDF shows.
* 表彰决定 (commendation) and 认定结果通知 (results notice): the certified results of a cycle,
  or of one certified public-notice batch of it, read once for the whole committee in two
  queries and grouped in Python; each row carries the party committee it belongs to.
* 整改通知 (rectification notice): the task's fields as they stand when the draft is made.
"""

import copy
import datetime

from django.utils import timezone

from branches.models import Organization
from reviews.models import Assessment, AssessmentStatus, Cycle, NoticeBatch
from scoring.templatetags.stars import star_label

from ..models import Bulletin

DATA_VERSION = 1
STAR_LEVELS = (5, 4, 3, 2, 1)
COMMENDED_LEVELS = (5, 4, 3)


def bulletin_document_data(bulletin: Bulletin) -> dict:
    """A copy of the bulletin's frozen data: the document shows the PDF's figures, no others."""
    return copy.deepcopy(bulletin.data)


def _local_day(at: datetime.datetime | None) -> str | None:
    return timezone.localdate(at, timezone.get_default_timezone()).isoformat() if at else None


def certification_results(*, cycle: Cycle, batch: NoticeBatch | None = None) -> dict:
    """The certified results of ``cycle`` (or of its certified ``batch``), in tree order.

    Each row: branch, its parent, the party committee directly under the committee (``unit``,
    None for a branch directly under it), score and certified stars. Two queries whatever the size.
    """
    committee = cycle.committee
    orgs = {
        pk: (name, parent_id, path, sort_order, code)
        for pk, name, parent_id, path, sort_order, code in Organization.objects.filter(
            path__startswith=committee.path
        ).values_list("pk", "name", "parent_id", "path", "sort_order", "code")
    }

    def ancestors(path: str) -> list[int]:
        return [int(part) for part in path.strip("/").split("/") if part]

    def tree_key(pk: int) -> tuple:
        return tuple((orgs[a][3], orgs[a][4]) for a in ancestors(orgs[pk][2])[1:] if a in orgs)

    assessments = Assessment.objects.filter(
        cycle_id=cycle.pk, status=AssessmentStatus.CERTIFIED, certificate__isnull=False
    )
    if batch is not None:
        assessments = assessments.filter(notice_batch_id=batch.pk)
    rows = []
    for branch_id, score, stars, valid_until, issued_at in assessments.values_list(
        "branch_id",
        "consolidated_score",
        "certificate__certified_stars",
        "certificate__valid_until",
        "certificate__issued_at",
    ):
        if branch_id not in orgs:
            continue
        name, parent_id, path, _sort, _code = orgs[branch_id]
        chain = ancestors(path)
        unit = chain[1] if len(chain) > 2 else None
        rows.append(
            {
                "branch_id": branch_id,
                "branch": name,
                "parent": orgs[parent_id][0] if parent_id in orgs else committee.name,
                "unit": unit,
                "unit_name": orgs[unit][0] if unit in orgs else "",
                "score": None if score is None else str(score),
                "stars": stars,
                "stars_label": star_label(stars),
                "valid_until": valid_until.isoformat() if valid_until else None,
                "certified_on": _local_day(issued_at),
                "_key": tree_key(branch_id),
            }
        )
    rows.sort(key=lambda row: row.pop("_key"))
    return {
        "version": DATA_VERSION,
        "committee": {"id": committee.pk, "name": committee.name},
        "cycle": {"id": cycle.pk, "name": cycle.name},
        "batch": batch.number if batch is not None else None,
        "certified_on": max((row["certified_on"] for row in rows if row["certified_on"]), default=None),
        "rows": rows,
    }


def commendation_data(*, cycle: Cycle, batch: NoticeBatch | None = None) -> dict:
    """表彰决定: the five-, four- and three-star branches certified, by level."""
    results = certification_results(cycle=cycle, batch=batch)
    levels = [
        {
            "stars": stars,
            "label": star_label(stars),
            "branches": [
                {key: row[key] for key in ("branch", "parent", "unit_name", "score")}
                for row in results["rows"]
                if row["stars"] == stars
            ],
        }
        for stars in COMMENDED_LEVELS
    ]
    return {
        **{key: results[key] for key in ("version", "committee", "cycle", "batch", "certified_on")},
        "levels": levels,
        "total": sum(len(level["branches"]) for level in levels),
    }


def results_notice_data(results: dict, *, unit: Organization) -> dict:
    """认定结果通知 to ``unit``: its branches' certified results (from ``certification_results``)."""
    rows = [
        {key: row[key] for key in ("branch", "parent", "score", "stars", "stars_label", "valid_until")}
        for row in results["rows"]
        if row["unit"] == unit.pk
    ]
    return {
        **{key: results[key] for key in ("version", "committee", "cycle", "batch", "certified_on")},
        "unit": {"id": unit.pk, "name": unit.name},
        "counts": [
            {"stars": n, "label": star_label(n), "count": sum(row["stars"] == n for row in rows)}
            for n in STAR_LEVELS
        ],
        "rows": rows,
    }


def units_with_results(results: dict) -> list[int]:
    """The party committees (directly under the committee) that have certified branches, in tree order."""
    return list(dict.fromkeys(row["unit"] for row in results["rows"] if row["unit"] is not None))


def rectification_data(task) -> dict:
    """整改通知: the task as it stands (branch, title, requirement, person responsible, deadline)."""
    owner = task.owner
    return {
        "version": DATA_VERSION,
        "committee": {"id": task.committee_id, "name": task.committee.name},
        "task": {
            "id": task.pk,
            "branch": task.branch.name,
            "branch_id": task.branch_id,
            "title": task.title,
            "requirement": task.requirement,
            "owner": owner.display_name if owner else "",
            "deadline": task.deadline.isoformat() if task.deadline else None,
            "status": task.status,
            "status_label": str(task.get_status_display()),
        },
    }


__all__ = [
    "COMMENDED_LEVELS",
    "bulletin_document_data",
    "certification_results",
    "commendation_data",
    "rectification_data",
    "results_notice_data",
    "units_with_results",
]
