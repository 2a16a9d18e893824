"""The one place that moves an assessment's status: locked, checked, recorded."""

from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _

from branches.errors import WorkflowError
from branches.selectors import require_role

from ..models import Assessment, AssessmentEvent
from ..workflow import TRANSITIONS


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
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_status=old_status,
        to_status=spec.target,
        note=note,
    )
    return assessment
