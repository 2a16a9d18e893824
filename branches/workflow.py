"""The shape every status workflow shares: a table of allowed moves, and how a move is refused.

Each app keeps its own table next to its models (``reviews.workflow``, ``reports.workflow``,
``scoring.workflow``) and one guarded function that moves the status; this module only
gives them the same vocabulary, so "which move is allowed from where, and by whom" reads
the same for assessments, cycles, bulletins and standards.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import WorkflowError


@dataclass(frozen=True)
class Transition:
    """One action: the statuses it may start from, the status it leads to, and who may take it.

    An empty ``roles`` marks a move the system makes (a background worker), with nobody
    acting. ``refusals`` gives, for a status the action cannot start from, the reason a user
    is told instead of the generic one; each is a %-format string over the move's parameters.
    """

    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    label: str
    refusals: Mapping[str, str] = field(default_factory=dict)

    @property
    def by_system(self) -> bool:
        return not self.roles


def check_source(spec: Transition, current: str, /, *, generic: str, **params) -> None:
    """Refuse with ``WorkflowError`` unless the action may start from the ``current`` status.

    ``generic`` is the already translated message for a status without its own reason;
    ``params`` fill in the placeholders of the table's own reasons.
    """
    if current in spec.sources:
        return
    reason = spec.refusals.get(current)
    raise WorkflowError(generic if reason is None else str(reason) % params)


def actor_or_none(actor):
    """The user to record on an event: None for a system move or an anonymous caller."""
    return actor if getattr(actor, "pk", None) else None


__all__ = ["Transition", "actor_or_none", "check_source"]
