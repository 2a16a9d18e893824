"""Where assessments and cycles change status: one guarded move each, locked, checked, recorded."""

from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _

from branches.errors import WorkflowError
from branches.selectors import require_role
from branches.workflow import actor_or_none, check_source

from ..models import Assessment, AssessmentEvent, Cycle, CycleEvent
from ..workflow import CYCLE_TRANSITIONS, TRANSITIONS


@transaction.atomic
def move(
    *,
    assessment_id: int,
    action: str,
    actor,
    note: str = "",
    apply: Callable[[Assessment], None] | None = None,
) -> Assessment:
    """Lock the assessment, check role and state, run ``apply``, set the status, log an event.

    ``apply`` does the action's own writes while the row is locked; it may raise
    ``WorkflowError`` or ``ValidationError`` to refuse, and then nothing is written.
    """
    spec = TRANSITIONS[action]
    assessment = (
        Assessment.objects.select_for_update().select_related("branch", "cycle").get(pk=assessment_id)
    )
    require_role(actor, spec.roles, assessment.branch)
    if assessment.status not in spec.sources:
        raise WorkflowError(
            _("This assessment is “%(status)s”; the action “%(action)s” is not possible now.")
            % {"status": assessment.get_status_display(), "action": spec.label}
        )
    old_status = assessment.status
    if apply is not None:
        apply(assessment)
    assessment.status = spec.target
    assessment.save()
    AssessmentEvent.objects.create(
        assessment=assessment,
        actor=actor_or_none(actor),
        action=action,
        from_status=old_status,
        to_status=spec.target,
        note=note,
    )
    return assessment


@transaction.atomic
def move_cycle(
    *,
    cycle_id: int,
    action: str,
    actor,
    note: str = "",
    apply: Callable[[Cycle], None] | None = None,
) -> Cycle:
    """Lock the cycle, check role and state, run ``apply``, set the status, log a ``CycleEvent``.

    The role is checked on the cycle's committee. The lock is what orders two approvers
    pressing the same button: the second one waits, then finds the cycle moved on and is
    refused. ``apply`` does the action's own writes
    (the bulk moves of the cycle's assessments) while the cycle is locked; it may raise to
    refuse, and then nothing is written.
    """
    spec = CYCLE_TRANSITIONS[action]
    cycle = Cycle.objects.select_for_update().select_related("committee").get(pk=cycle_id)
    require_role(actor, spec.roles, cycle.committee)
    check_source(
        spec,
        cycle.status,
        generic=_("This cycle is “%(status)s”; the action “%(action)s” is not possible now.")
        % {"status": cycle.get_status_display(), "action": spec.label},
    )
    old_status = cycle.status
    if apply is not None:
        apply(cycle)
    cycle.status = spec.target
    cycle.save()
    CycleEvent.objects.create(
        cycle=cycle,
        actor=actor_or_none(actor),
        action=action,
        from_status=old_status,
        to_status=spec.target,
        note=note,
    )
    return cycle
