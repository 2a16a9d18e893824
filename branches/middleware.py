"""Request-wide rules of signing in: the forced password change, the idle timeout, the address limits."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .signin import LAST_ACTIVITY_KEY
from .throttle import client_address, sign_in_limit, verify_limit

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


class IdleTimeoutMiddleware:
    """A session unused for ``SESSION_IDLE_TIMEOUT`` seconds ends, however young it is.

    ``SESSION_COOKIE_AGE`` still bounds a session in use. The time of last use is kept in the
    session, written at most every minute (more often for a short timeout), so that an
    ordinary page view rarely writes the session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timeout = settings.SESSION_IDLE_TIMEOUT
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            if isinstance(last, int) and now - last > timeout:
                logout(request)
                messages.warning(
                    request,
                    ngettext(
                        "You were signed out after %(minutes)d minute without activity; sign in again.",
                        "You were signed out after %(minutes)d minutes without activity; sign in again.",
                        max(1, round(timeout / 60)),
                    )
                    % {"minutes": max(1, round(timeout / 60))},
                )
                return redirect_to_login(request.get_full_path() if request.method == "GET" else "/")
            if not isinstance(last, int) or now - last >= min(60, timeout // 10):
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


class AddressThrottleMiddleware:
    """Limits per client address (branches/throttle.py): sign-in failures and verification requests.

    Sign-in: after ``SIGN_IN_ADDRESS_LIMIT`` failed attempts from one address within
    ``SIGN_IN_ADDRESS_WINDOW`` seconds, further attempts from it are refused (429) until the
    window ends, whatever name they use; no account is locked by this. Certificate
    verification (public): at most ``VERIFY_RATE_LIMIT`` requests per ``VERIFY_RATE_WINDOW``.
    """

    SIGN_IN_VIEWS = frozenset({"login", "admin:login"})
    VERIFY_VIEWS = frozenset({"reports:verify", "reports:verify_code"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None:
            return None
        if match.view_name in self.SIGN_IN_VIEWS and request.method == "POST":
            limit = sign_in_limit()
            if limit.exceeded(client_address(request)):
                return self._sign_in_refused(request, limit)
        elif match.view_name in self.VERIFY_VIEWS:
            limit = verify_limit()
            if limit.hit(client_address(request)) > limit.limit:
                return self._too_many(request, limit)
        return None

    @staticmethod
    def _minutes(limit) -> int:
        return max(1, -(-limit.window // 60))

    def _sign_in_refused(self, request, limit):
        context = {
            "form": AuthenticationForm(request),
            "next": request.POST.get("next", ""),
            "address_refused_minutes": self._minutes(limit),
        }
        response = render(request, "registration/login.html", context, status=429)
        response["Retry-After"] = str(limit.window)
        return response

    def _too_many(self, request, limit):
        context = {"minutes": self._minutes(limit), "back_url": reverse("reports:verify")}
        response = render(request, "registration/too_many_requests.html", context, status=429)
        response["Retry-After"] = str(limit.window)
        return response
