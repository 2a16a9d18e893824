"""Hooks of checks that the apps above it connect to (in their ``AppConfig.ready``).

Sent inside the services' transactions after the change is written; ``reviews.signals.send``
runs each receiver in its own savepoint and logs a failure instead of refusing the change.
"""

from django.dispatch import Signal

from reviews.signals import send

# A quarterly check was published; its sheets' scores are final: check_round, actor.
check_round_published = Signal()

__all__ = ["check_round_published", "send"]
