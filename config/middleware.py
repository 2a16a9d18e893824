"""The request id and the request line of every answer (see config/logs.py)."""

import logging
import time

from django.conf import settings

from .logs import method_var, new_request_id, path_var, request_id_var, user_id_var

logger = logging.getLogger("config.requests")
HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """First in MIDDLEWARE: gives the request an id (an incoming well-formed X-Request-ID, else a
    new one), returns it in the answer's X-Request-ID header, and logs one line per request with
    its status and duration. Every record logged meanwhile carries the id, path, method and user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        request.request_id = new_request_id(request.headers.get(HEADER))
        tokens = [
            request_id_var.set(request.request_id),
            path_var.set(request.path),
            method_var.set(request.method),
            user_id_var.set(None),
        ]
        try:
            response = self.get_response(request)
            response[HEADER] = request.request_id
            user_id_var.set(_user_id(request))
            level = logging.ERROR if response.status_code >= 500 else logging.INFO
            if response.status_code < 400 and request.path.startswith(_static_prefix()):
                level = logging.DEBUG  # a style sheet or script served: not worth a line at INFO
            logger.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={"status": response.status_code, "duration_ms": _since(started)},
            )
            return response
        finally:
            for variable, token in zip(
                (request_id_var, path_var, method_var, user_id_var), tokens, strict=True
            ):
                variable.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Every middleware has run by now, so the user is known to the records the view writes.
        user_id_var.set(_user_id(request))


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _static_prefix() -> str:
    return "/" + settings.STATIC_URL.lstrip("/")


def _since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
