import pytest

from branches.models import Organization
from branches.roles import Role
from tests.factories import make_branch, make_general_branch, make_user


@pytest.fixture
def tree(world):
    """The world's organizations by code, and a general branch under P1: G1 → B5.

    C1 → P1 (B1, B2, G1 → B5), P2 (B4), B3; C2 → D1.
    """
    general_branch = make_general_branch("教育局机关党总支", "G1", parent=world.party_committee)
    make_branch("党总支第一党支部", "B5", parent=general_branch)
    return {org.code: org for org in Organization.objects.all()}


@pytest.fixture
def people(world, tree):
    """One user for every role, each on the organization DOMAIN.md puts that role on.

    The staff member here works for the party committee P2, so the admin's scope is a subtree.
    """
    return {
        "secretary": world.secretary,
        "parent_reviewer": world.parent_reviewer,
        "assessment_reviewer": world.reviewers[0],
        "approver": world.approver,
        "staff": make_user("sunhua", "孙华", roles=((Role.STAFF, tree["P2"]),)),
        "outsider": world.outsider,
    }
