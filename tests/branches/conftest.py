import pytest

from branches.models import OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization


@pytest.fixture
def tree(db):
    """Two committees. C1 → P1 (B1, B2), P2 → (B3); a general branch G1 nested in P1 → B4. C2 → Q1 → D1."""
    c1 = create_organization(name="第一工委", code="C1", kind=OrgKind.COMMITTEE)
    p1 = create_organization(name="甲党委", code="P1", kind=OrgKind.PARTY_COMMITTEE, parent=c1)
    p2 = create_organization(name="乙党委", code="P2", kind=OrgKind.PARTY_COMMITTEE, parent=c1)
    g1 = create_organization(name="甲党委下属党总支", code="G1", kind=OrgKind.GENERAL_BRANCH, parent=p1)
    b1 = create_organization(name="甲一支部", code="B1", kind=OrgKind.BRANCH, parent=p1)
    b2 = create_organization(name="甲二支部", code="B2", kind=OrgKind.BRANCH, parent=p1)
    b3 = create_organization(name="乙一支部", code="B3", kind=OrgKind.BRANCH, parent=p2)
    b4 = create_organization(name="总支一支部", code="B4", kind=OrgKind.BRANCH, parent=g1)
    c2 = create_organization(name="第二工委", code="C2", kind=OrgKind.COMMITTEE)
    q1 = create_organization(name="丙党委", code="Q1", kind=OrgKind.PARTY_COMMITTEE, parent=c2)
    d1 = create_organization(name="丙一支部", code="D1", kind=OrgKind.BRANCH, parent=q1)
    return {o.code: o for o in [c1, p1, p2, g1, b1, b2, b3, b4, c2, q1, d1]}


@pytest.fixture
def people(tree):
    """One user for every role, each on the organization DOMAIN.md puts that role on."""

    def make(username, role, code):
        user = User.objects.create_user(username, password="x-unused-x", real_name=username)
        if role:
            assign_role(user=user, role=role, organization=tree[code])
        return user

    return {
        "secretary": make("secretary", Role.BRANCH_SECRETARY, "B1"),
        "parent_reviewer": make("parent_reviewer", Role.PARENT_REVIEWER, "P1"),
        "assessment_reviewer": make("assessment_reviewer", Role.ASSESSMENT_REVIEWER, "C1"),
        "approver": make("approver", Role.COMMITTEE_APPROVER, "C1"),
        "staff": make("staff", Role.STAFF, "P2"),
        "outsider": make("outsider", None, None),
    }
