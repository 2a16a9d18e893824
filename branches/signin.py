"""What happens around a sign-in: failures counted per client address, the previous sign-in shown.

django-axes records every attempt: ``AccessLog`` a successful sign-in (address and time),
``AccessFailureLog`` a failed one (``AXES_ENABLE_ACCESS_FAILURE_LOG``). After signing in a
person is told when and from where they last signed in and how many attempts with their
name failed since, so that someone else's use of the account does not go unnoticed. The
records are kept ``SIGN_IN_LOG_RETENTION_DAYS`` days (``prune_sign_in_logs``, daily).
"""

import datetime
import logging
import time
from dataclasses import dataclass

from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .throttle import client_address, sign_in_limit

# When the session was last used (seconds since the epoch); read by IdleTimeoutMiddleware.
LAST_ACTIVITY_KEY = "_last_activity"


@dataclass(frozen=True)
class PreviousSignIn:
    at: datetime.datetime | None
    address: str | None
    failures: int


def previous_sign_in(username: str, before: datetime.datetime) -> PreviousSignIn:
    """The last sign-in with ``username`` before ``before``, and the failures since it."""
    previous = (
        AccessLog.objects.filter(username=username, attempt_time__lt=before)
        .order_by("-attempt_time", "-pk")
        .values("attempt_time", "ip_address")
        .first()
    )
    failures = AccessFailureLog.objects.filter(username__iexact=username, attempt_time__lt=before)
    if previous is not None:
        failures = failures.filter(attempt_time__gt=previous["attempt_time"])
        return PreviousSignIn(previous["attempt_time"], previous["ip_address"], failures.count())
    return PreviousSignIn(None, None, failures.count())


def previous_sign_in_message(previous: PreviousSignIn) -> str:
    if previous.at is None:
        text = _("Welcome: this is the first sign-in recorded for your account.")
    else:
        text = _("Your previous sign-in: %(time)s from %(address)s.") % {
            "time": f"{timezone.localtime(previous.at):%Y-%m-%d %H:%M}",
            "address": previous.address or _("an unknown address"),
        }
    if previous.failures:
        text += " " + ngettext(
            "Since then %(count)d sign-in attempt with your name failed; if it was not you, "
            "change your password.",
            "Since then %(count)d sign-in attempts with your name failed; if they were not you, "
            "change your password.",
            previous.failures,
        ) % {"count": previous.failures}
    return text


logger = logging.getLogger(__name__)

# Rows removed per statement: a long backlog never holds a long lock.
PRUNE_BATCH = 5000


def prune_sign_in_logs(*, now: datetime.datetime | None = None) -> int:
    """Remove the sign-in records older than ``SIGN_IN_LOG_RETENTION_DAYS``; returns how many.

    Idempotent, in batches; the audit trail (``AuditEntry``) is not touched: it is kept for good.
    """
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.SIGN_IN_LOG_RETENTION_DAYS)
    removed = 0
    for model in (AccessLog, AccessFailureLog):
        old = model.objects.filter(attempt_time__lt=cutoff)
        while batch := list(old.order_by("pk").values_list("pk", flat=True)[:PRUNE_BATCH]):
            removed += model.objects.filter(pk__in=batch).delete()[0]
    logger.info("sign-in records older than %s removed: %s", cutoff.isoformat(), removed)
    return removed


@receiver(user_login_failed, dispatch_uid="branches.signin.count_failure_per_address")
def count_failure_per_address(sender, credentials=None, request=None, **kwargs):
    if request is not None and hasattr(request, "META"):
        sign_in_limit().hit(client_address(request))


@receiver(user_logged_in, dispatch_uid="branches.signin.tell_previous_sign_in")
def tell_previous_sign_in(sender, request=None, user=None, **kwargs):
    if request is None or user is None:
        return
    session = getattr(request, "session", None)
    if session is not None:
        session[LAST_ACTIVITY_KEY] = int(time.time())
    # The attempt now being recorded carries the request's time (axes_attempt_time).
    before = getattr(request, "axes_attempt_time", None) or timezone.now()
    previous = previous_sign_in(user.get_username(), before)
    messages.info(request, previous_sign_in_message(previous), fail_silently=True)
