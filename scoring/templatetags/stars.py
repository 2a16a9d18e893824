"""Star levels as people read them: "4 星" in words, ★★★★☆ in print, one definition of each."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

OUT_OF = 5


@register.filter
def star_label(stars: int | None) -> str:
    """The level in words, "4 stars" (4 星 in Chinese); "Unrated" when there is no level."""
    if not stars:
        return _("Unrated")
    return ngettext("%(count)d star", "%(count)d stars", stars) % {"count": stars}


@register.filter
def stars_text(stars: int | None, out_of: int = OUT_OF) -> str:
    """★★★★☆ for four of five stars; empty when unrated."""
    if not stars:
        return ""
    return "★" * stars + "☆" * max(out_of - stars, 0)
