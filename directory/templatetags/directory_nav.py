"""What the layout offers the directory's users: ``{% directory_links as links %}``."""

from django import template

from ..selectors import may_read_audit

register = template.Library()


@register.simple_tag(takes_context=True)
def directory_links(context) -> dict:
    """Which directory links the navigation shows; a query only for staff who might read the audit."""
    request = context.get("request")
    user = getattr(request, "user", None)
    roles = context.get("nav_roles") or frozenset()
    if user is None or not user.is_authenticated:
        return {}
    staff = user.is_superuser or "staff" in roles
    return {
        "manage": staff,
        "search": user.is_superuser or bool({"staff", "committee_approver", "parent_reviewer"} & set(roles)),
        "audit": staff and may_read_audit(user),
    }
