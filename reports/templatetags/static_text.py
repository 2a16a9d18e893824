"""``{% static_text "css/x.css" %}``: a static file's text, for documents that carry their styles
inside (the PDFs, which WeasyPrint renders from a string). Web pages link the same file instead:
the Content-Security-Policy allows no inline style there."""

from django import template
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _read(path: str) -> str:
    found = finders.find(path)
    if found:
        with open(found, encoding="utf-8") as source:
            return source.read()
    with staticfiles_storage.open(path) as source:  # collected, without the source folders
        return source.read().decode("utf-8")


@register.simple_tag
def static_text(path: str) -> SafeString:
    text = _read(path)
    if "</" in text:
        raise ValueError(f"{path} cannot be embedded: it contains '</'")
    return mark_safe(text)  # noqa: S308 - a file of the project, checked above not to close the element
