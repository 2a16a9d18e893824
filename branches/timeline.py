"""A branch's timeline: what happened to it, from every app, newest first.

The branch page lives in ``reviews``; the apps above it (rectification, supervision, ...) must
not be imported from there. So each app registers a provider in its ``AppConfig.ready`` and the
page asks this module for the merged entries: the imports still run one way.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .models import Organization, User


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    kind: str  # a short code the template styles by, e.g. "stage", "rectification", "visit"
    title: str
    detail: str = ""
    actor: str = ""
    url: str = ""


Provider = Callable[[Organization, User], Iterable[TimelineEntry]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a provider (idempotent); usable as a decorator. Each provider runs a fixed number of
    queries and returns at most ``LIMIT`` entries the user may see."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


LIMIT = 30


def entries_for(branch: Organization, user: User, limit: int = LIMIT) -> list[TimelineEntry]:
    """The newest ``limit`` entries of every registered provider, merged, newest first."""
    entries = [entry for provider in _providers for entry in provider(branch, user)]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def stage_changes(branch: Organization, user: User) -> list[TimelineEntry]:
    """The branch's stage changes (whoever may see the branch page may see them)."""
    from django.utils.translation import gettext as _

    from .models import BranchStage, StageChange

    rows = (
        StageChange.objects.filter(branch_id=branch.pk).select_related("actor").order_by("-at", "-pk")[:LIMIT]
    )
    return [
        TimelineEntry(
            at=row.at,
            kind="stage",
            title=_("Stage: %(from)s → %(to)s")
            % {
                "from": BranchStage(row.from_stage).label if row.from_stage else "—",
                "to": BranchStage(row.to_stage).label,
            },
            detail=row.reason,
            actor=row.actor.display_name if row.actor else "",
        )
        for row in rows
    ]
