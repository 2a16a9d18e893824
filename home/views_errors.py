"""The error pages: 403, 404 and a failed CSRF check in the site's layout, with a way back.

Django's own handlers would render the same templates, but without a safe "back" link: the
referring page is offered only when it is a page of this site. The 400 and 500 pages stay
Django's (``templates/400.html``, ``templates/500.html``): they must render without the
database or a trustworthy request, so they have a layout of their own.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import csrf
from django.views.decorators.csrf import requires_csrf_token


def safe_referer(request: HttpRequest) -> str:
    """The page the user came from when it is on this site (never an outside address), else ""."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def _reason(exception) -> str:
    """The translated reason a view gave with PermissionDenied, if it gave one."""
    if exception is None or not exception.args:
        return ""
    reason = exception.args[0]
    return str(reason) if isinstance(reason, str | Promise) else ""


@requires_csrf_token
def permission_denied_page(request: HttpRequest, exception=None) -> HttpResponse:
    context = {"back_url": safe_referer(request), "reason": _reason(exception)}
    return render(request, "403.html", context, status=403)


@requires_csrf_token
def not_found_page(request: HttpRequest, exception=None) -> HttpResponse:
    # The exception's text ("No Organization matches the given query.") is for developers
    # and would confirm what exists; the page says only that there is nothing here for you.
    return render(request, "404.html", {"back_url": safe_referer(request)}, status=404)


def csrf_failure_page(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token: usually an expired session or a stale tab."""
    if settings.DEBUG:
        return csrf.csrf_failure(request, reason=reason)
    return render(request, "403_csrf.html", {"back_url": safe_referer(request)}, status=403)
