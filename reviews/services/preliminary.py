"""The preliminary review (初审): the parent organization forwards (推荐) or returns (退回).

Both go through ``core.move``, which locks the assessment, checks the parent reviewer's
role and the SUBMITTED state, and writes the event; here we only record the outcome on the
latest submission round. Every round is kept, so the branch's history shows each return.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.errors import WorkflowError

from ..models import Assessment, SubmissionRound
from .core import move

MAX_TEXT = 2000


def _required_text(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message})
    if len(text) > MAX_TEXT:
        raise ValidationError({field: _("Please keep this under %(max)s characters.") % {"max": MAX_TEXT}})
    return text


def _close_latest_round(assessment: Assessment, *, actor, outcome: str, comment: str) -> None:
    # The assessment row is locked by move(), so no other review can close this round meanwhile.
    latest = assessment.rounds.order_by("-number").first()
    if latest is None or latest.outcome != SubmissionRound.Outcome.PENDING:
        raise WorkflowError(_("There is no submission waiting for a preliminary review."))
    latest.outcome = outcome
    latest.reviewed_by = actor
    latest.reviewed_at = timezone.now()
    latest.comment = comment
    latest.save(update_fields=["outcome", "reviewed_by", "reviewed_at", "comment"])


def forward_assessment(*, assessment: Assessment, actor, recommendation: str) -> Assessment:
    """Recommend the submission to the committee's assessment team (SUBMITTED → FORWARDED)."""
    text = _required_text(recommendation, "recommendation", _("Write the recommendation to the committee."))

    def apply(locked: Assessment) -> None:
        _close_latest_round(locked, actor=actor, outcome=SubmissionRound.Outcome.FORWARDED, comment=text)
        locked.recommendation = text

    return move(assessment_id=assessment.pk, action="forward", actor=actor, note=text, apply=apply)


def return_assessment(*, assessment: Assessment, actor, reason: str) -> Assessment:
    """Send the submission back to the branch with the reason (SUBMITTED → RETURNED)."""
    text = _required_text(reason, "reason", _("Say why the submission is returned."))

    def apply(locked: Assessment) -> None:
        _close_latest_round(locked, actor=actor, outcome=SubmissionRound.Outcome.RETURNED, comment=text)

    return move(assessment_id=assessment.pk, action="return", actor=actor, note=text, apply=apply)


__all__ = ["forward_assessment", "return_assessment"]
