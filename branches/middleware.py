"""A signed-in person with a one-time password is sent to choose their own before anything else."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

# Pages a person with a one-time password may still open: the change itself, signing out,
# the language switch, and the static files the change page needs.
FORCED_CHANGE_ALLOWED_NAMES = ("password_change", "password_change_done", "logout", "set_language")


class ForcePasswordChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = {reverse(name) for name in FORCED_CHANGE_ALLOWED_NAMES}
            static = settings.STATIC_URL or "/static/"
            if request.path not in allowed and not request.path.startswith(static):
                if request.method == "GET":
                    messages.info(
                        request, _("You signed in with a one-time password: choose your own to go on.")
                    )
                return redirect("password_change")
        return self.get_response(request)
