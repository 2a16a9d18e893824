"""Sign-ins and sign-outs in the log (logger "audit"), next to the audit trail's own entries
(branches.audit.record) and the status moves (branches.workflow.move_status) logged there.
Connected by HomeConfig.ready. The password is never logged; a failed sign-in names the user
name that was typed."""

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

logger = logging.getLogger("audit")


@receiver(user_logged_in, dispatch_uid="audit_log_signed_in")
def signed_in(sender, request, user, **kwargs):
    logger.info(
        "sign-in succeeded: %s",
        user.get_username(),
        extra={"event": "sign_in", "username": user.get_username()},
    )


@receiver(user_login_failed, dispatch_uid="audit_log_sign_in_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    logger.warning("sign-in failed: %s", username, extra={"event": "sign_in_failed", "username": username})


@receiver(user_logged_out, dispatch_uid="audit_log_signed_out")
def signed_out(sender, request, user, **kwargs):
    name = user.get_username() if user is not None else ""
    logger.info("sign-out: %s", name, extra={"event": "sign_out", "username": name})
