"""The roles a user can hold, and the named sets of roles the rules speak of.

Every app asks "may this person do that?" through these names, so a rule such as "the
committee's approver or its party-affairs staff" is written once, here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    BRANCH_SECRETARY = "branch_secretary", _("Branch secretary")
    PARENT_REVIEWER = "parent_reviewer", _("Preliminary reviewer")
    ASSESSMENT_REVIEWER = "assessment_reviewer", _("Assessment-team reviewer")
    COMMITTEE_APPROVER = "committee_approver", _("Committee approver")
    STAFF = "staff", _("Party-affairs staff")


# The committee's own people who run a cycle and its paperwork: open cycles, assign
# reviewers, see every score, publish the public notice, record objections, generate and
# publish bulletins, start background jobs.
COMMITTEE_MANAGERS = frozenset({Role.COMMITTEE_APPROVER, Role.STAFF})

# Decisions that are the committee's alone: star levels, certification, resolving
# objections, lowering or revoking a star (DOMAIN, "Roles and scope").
APPROVERS = frozenset({Role.COMMITTEE_APPROVER})

SECRETARIES = frozenset({Role.BRANCH_SECRETARY})
PARENT_REVIEWERS = frozenset({Role.PARENT_REVIEWER})
TEAM_REVIEWERS = frozenset({Role.ASSESSMENT_REVIEWER})

# Roles that reach an assessment through the tree. Assessment-team reviewers hold their role
# on the whole committee but may read only what they were assigned, so they are not here.
TREE_READERS = frozenset({Role.BRANCH_SECRETARY, Role.PARENT_REVIEWER, Role.COMMITTEE_APPROVER, Role.STAFF})

__all__ = [
    "APPROVERS",
    "COMMITTEE_MANAGERS",
    "PARENT_REVIEWERS",
    "SECRETARIES",
    "TEAM_REVIEWERS",
    "TREE_READERS",
    "Role",
]
