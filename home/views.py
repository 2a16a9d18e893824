"""我的工作: the home page composes one section per role from the apps' selectors.

It sits above every app, so the apps below it never import upwards to show themselves here.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from branches.kept import kept_page
from branches.roles import COMMITTEE_MANAGERS, Role
from branches.selectors import role_set, roles_with_reach
from checks import selectors as checks
from rectification import selectors as rectification
from reports import selectors as reports
from reviews import selectors as reviews
from supervision import selectors as supervision

ANNEXES_ON_HOME = 6
DASHBOARDS_ON_HOME = 4


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
    if roles & {*COMMITTEE_MANAGERS, Role.PARENT_REVIEWER}:
        # The dashboards (数据看板) of the committees and party committees the user oversees.
        sections["dashboards"] = list(reports.dashboard_scopes_for(user)[:DASHBOARDS_ON_HOME])
    # Supervision: liaison branches without a visit, coverage, stage applications.
    if roles & {*COMMITTEE_MANAGERS, Role.ASSESSMENT_REVIEWER, Role.BRANCH_SECRETARY} or user.is_superuser:
        sections["supervision"] = supervision.supervision_home_for(user)
    if roles & {Role.BRANCH_SECRETARY, Role.PARENT_REVIEWER, *COMMITTEE_MANAGERS} or user.is_superuser:
        sections["rectification"] = rectification.home_section(user)
    return sections


@login_required
@kept_page
def home(request: HttpRequest) -> HttpResponse:
    """The user's roles, each with the organization it is held on and its reach, then the sections.

    Kept per user until a table it was drawn from is written (branches/kept.py), as every list is.
    """
    return render(
        request,
        "home/home.html",
        {"assignments": roles_with_reach(request.user), "sections": sections_for(request.user)},
    )
