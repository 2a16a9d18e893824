"""The branch page's quarterly-check section, for the pages of apps that come before checks."""

from django import template

from branches.roles import Role
from branches.selectors import has_role_on

from ..selectors import branch_check_summary

register = template.Library()


@register.inclusion_tag("checks/_branch.html", takes_context=True)
def branch_checks(context, branch):
    """五好党支部 years, 班子调整 flags, the latest published scores and the monthly checks' link."""
    request = context.get("request")
    user = getattr(request, "user", None)
    can_record = bool(user) and has_role_on(user, Role.PARENT_REVIEWER, branch)
    return {**branch_check_summary(branch), "branch": branch, "can_record": can_record}
