"""Hooks of reviews that the apps above it connect to (in their ``AppConfig.ready``).

Sent by the services inside their transactions, after the change is written, so a receiver
sees the new rows and its own writes commit or roll back with them. ``send`` runs every
receiver even when one fails (each receiver runs in its own savepoint): a failure is logged,
never turned into a refused downgrade or decision.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# A branch's star was lowered or revoked: branch, star_event (its kind says which), actor.
star_lowered = Signal()
# An objection was resolved as substantiated (异议属实): objection, actor.
objection_substantiated = Signal()
# An appeal was decided with the (lower) published result upheld: appeal, actor.
appeal_upheld = Signal()
# The committee decided an assessment's star level; its scores are final: assessment, actor.
assessment_decided = Signal()


def send(signal: Signal, sender, **kwargs) -> list:
    """Send ``signal``; the non-empty answers of the receivers that did not fail."""
    answers = []
    for receiver in signal._live_receivers(sender)[0]:
        try:
            with transaction.atomic():
                answer = receiver(signal=signal, sender=sender, **kwargs)
        except Exception:
            logger.exception("receiver %r of %s failed", receiver, sender)
            continue
        if answer:
            answers.append(answer)
    return answers


__all__ = ["appeal_upheld", "assessment_decided", "objection_substantiated", "send", "star_lowered"]
