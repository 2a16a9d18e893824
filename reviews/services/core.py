"""Where assessments and cycles change status: one guarded move each, locked, checked, recorded."""

from collections.abc import Callable

from django.utils.translation import gettext as _

from branches.selectors import require_role
from branches.workflow import move_status

from ..models import Assessment, AssessmentEvent, Cycle, CycleEvent
from ..workflow import CYCLE_TRANSITIONS, TRANSITIONS


def move(
    *,
    assessment_id: int,
    action: str,
    actor,
    note: str = "",
    apply: Callable[[Assessment], None] | None = None,
) -> Assessment:
    """Lock the assessment, check the role on its branch and its state, run ``apply``, record.

    ``apply`` does the action's own writes while the row is locked; it may raise
    ``WorkflowError`` or ``ValidationError`` to refuse, and then nothing is written.
    """
    return move_status(
        queryset=Assessment.objects.select_related("branch", "cycle"),
        pk=assessment_id,
        transitions=TRANSITIONS,
        action=action,
        actor=actor,
        authorize=lambda user, spec, row: require_role(user, spec.roles, row.branch),
        refused=_("This assessment is “%(status)s”; the action “%(action)s” is not possible now."),
        event=lambda row, **fields: AssessmentEvent.objects.create(assessment=row, **fields),
        note=note,
        apply=apply,
    )


def move_cycle(
    *,
    cycle_id: int,
    action: str,
    actor,
    note: str = "",
    apply: Callable[[Cycle], None] | None = None,
) -> Cycle:
    """Lock the cycle, check the role on its committee and its state, run ``apply``, record.

    The lock is what orders two approvers pressing the same button: the second one waits,
    then finds the cycle moved on and is refused. ``apply`` does the action's own writes
    (the bulk moves of the cycle's assessments) while the cycle is locked.
    """
    return move_status(
        queryset=Cycle.objects.select_related("committee"),
        pk=cycle_id,
        transitions=CYCLE_TRANSITIONS,
        action=action,
        actor=actor,
        authorize=lambda user, spec, row: require_role(user, spec.roles, row.committee),
        refused=_("This cycle is “%(status)s”; the action “%(action)s” is not possible now."),
        event=lambda row, **fields: CycleEvent.objects.create(cycle=row, **fields),
        note=note,
        apply=apply,
    )
