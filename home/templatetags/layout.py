"""The layout's navigation bar: ``{% navbar %}``, kept per user until what it shows changes.

The bar shows the user's roles, the directory links their roles give, the unread notices and
their name: ``branches.kept`` keeps it per user, language and address (the current page is
marked in it) until a table it was drawn from is written. Its two forms carry the request's
own CSRF token, put in after it is fetched.
"""

from django import template
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from branches.kept import READ_BEFORE_VIEWS, TOKEN_MARK, kept

register = template.Library()


@register.simple_tag(takes_context=True)
def navbar(context) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return render_to_string("_navbar.html", {}, request=request)

    def draw() -> str:
        # Drawn from the request alone (the context processors), never from the page's context.
        return render_to_string("_navbar.html", {"csrf_token": TOKEN_MARK}, request=request)

    html = kept("navbar", (user.pk, get_language(), request.get_full_path()), draw, also=READ_BEFORE_VIEWS)
    return mark_safe(html.replace(TOKEN_MARK, get_token(request)))  # noqa: S308 - escaped when drawn
