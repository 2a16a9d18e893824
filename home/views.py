"""我的工作: the home page composes one section per role from the apps' selectors.

It sits above every app, so the apps below it never import upwards to show themselves here.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from branches.roles import COMMITTEE_MANAGERS, Role
from branches.selectors import role_set, roles_with_reach
from checks import selectors as checks
from reports import selectors as reports
from reviews import selectors as reviews

ANNEXES_ON_HOME = 6


def sections_for(user) -> dict:
    """The sections each of the user's roles sees, a fixed number of queries per section."""
    roles = role_set(user)
    sections: dict = {}
    # Every member of a committee's tree sees its running public notice, whatever the role.
    if roles or user.is_superuser:
        sections["publicity"] = reviews.public_notice_section(user)
    if Role.BRANCH_SECRETARY in roles:
        sections["secretary"] = reviews.secretary_section(user)
    if Role.PARENT_REVIEWER in roles:
        sections["parent"] = reviews.parent_section(user)
        # The published bulletins' annexes of the party committees the reviewer works for.
        sections["annexes"] = list(reports.published_annexes_for(user)[:ANNEXES_ON_HOME])
    if Role.ASSESSMENT_REVIEWER in roles:
        sections["reviewer"] = reviews.reviewer_section(user)
    if roles & COMMITTEE_MANAGERS:
        sections["committee"] = reviews.committee_section(user)
    if roles & {*COMMITTEE_MANAGERS, Role.ASSESSMENT_REVIEWER}:
        sections["appeals"] = reviews.appeals_section(user)
    if roles & {*COMMITTEE_MANAGERS, Role.PARENT_REVIEWER} or user.is_superuser:
        sections["checks"] = checks.check_todos_for(user)
    return sections


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's roles, each with the organization it is held on and its reach, then the sections."""
    return render(
        request,
        "home/home.html",
        {"assignments": roles_with_reach(request.user), "sections": sections_for(request.user)},
    )
