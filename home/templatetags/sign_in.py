"""The sign-in page's warning of the attempts left before django-axes locks the name out."""

from axes.helpers import get_failure_limit
from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def sign_in_attempts_left(context) -> int | None:
    """Attempts left after a failed sign-in, or None when none has failed (or the name is locked).

    Attempts are counted per name typed, whether or not such an account exists, so the warning
    reads the same for an unknown name and tells nobody which names are real.
    """
    request = context.get("request")
    failures = getattr(request, "axes_failures_since_start", None)
    if not failures:
        return None
    form = context.get("form")
    username = form.data.get("username", "") if form is not None and form.is_bound else ""
    left = get_failure_limit(request, {"username": username}) - failures
    return left if left > 0 else None
