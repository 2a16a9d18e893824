"""The shape every status workflow shares: a table of allowed moves, and how a move is refused.

Each app keeps its own table next to its models (``reviews.workflow``, ``reports.workflow``,
``scoring.workflow``) and one guarded function that moves the status; this module only
gives them the same vocabulary, so "which move is allowed from where, and by whom" reads
the same for assessments, cycles, bulletins and standards.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.db import models, transaction

from .errors import WorkflowError
from .selectors import statuses_changed

logger = logging.getLogger("audit")


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


@transaction.atomic
def move_status(
    *,
    queryset: models.QuerySet,
    pk: int,
    transitions: Mapping[str, Transition],
    action: str,
    actor,
    authorize: Callable[[object, Transition, models.Model], None],
    refused: str,
    event: Callable[..., models.Model],
    note: str = "",
    apply: Callable[[models.Model], None] | None = None,
):
    """The one guarded move of every status: lock, check who acts and from where, apply, record.

    ``queryset`` finds the row (locked for the transaction); ``authorize(actor, spec, row)``
    raises PermissionDenied unless the actor may take the action (skipped for the system's
    own moves); ``refused`` is the translated generic refusal, a %-format over ``status`` and
    ``action``; ``apply`` does the action's own writes while the row is locked and may raise
    to refuse, and then nothing is written; ``event(row, **fields)`` writes the event row.
    """
    spec = transitions[action]
    row = queryset.select_for_update().get(pk=pk)
    if not spec.by_system:
        authorize(actor, spec, row)
    status = row.get_status_display()
    # The table's own reasons may name the status or the row itself ("%(standard)s").
    params = {"status": status, row._meta.model_name: row}
    check_source(spec, row.status, generic=refused % {"status": status, "action": spec.label}, **params)
    old_status = row.status
    if apply is not None:
        apply(row)
    row.status = spec.target
    row.save()
    event(
        row,
        actor=actor_or_none(actor),
        action=action,
        from_status=old_status,
        to_status=spec.target,
        note=note,
    )
    statuses_changed()
    # In the log too (a refused move raised above and leaves no line).
    target = f"{row._meta.label_lower}:{row.pk}"
    line = {"event": "status_move", "action": action, "target": target}
    line |= {"from_status": old_status, "to_status": spec.target}
    logger.info("status move %s: %s → %s (%s)", target, old_status, spec.target, action, extra=line)
    return row


__all__ = ["Transition", "actor_or_none", "check_source", "move_status"]
