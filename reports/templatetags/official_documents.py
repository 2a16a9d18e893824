"""Template filters for pages of other apps that offer an official document (公文) to make."""

from django import template

from ..selectors import can_manage_bulletins

register = template.Library()


@register.filter
def manages_committee(user, committee) -> bool:
    """Whether ``user`` is staff or approver of ``committee`` (and so makes its documents)."""
    return bool(committee) and can_manage_bulletins(user, committee)
