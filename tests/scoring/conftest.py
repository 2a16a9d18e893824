"""Fixtures for the scoring tests: two committees, three kinds of admin user, a valid draft."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from branches.models import Organization, OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization
from scoring.models import Dimension, Item, ItemKind, Standard, StarThreshold
from scoring.services import standards as services

DEFAULT_NAME = "党支部建设星级管理考核细则"


def d(value: str) -> Decimal:
    return Decimal(value)


@dataclass
class Committees:
    ours: Organization
    theirs: Organization


@pytest.fixture
def committees(db) -> Committees:
    """Two working committees, each with one branch under it."""
    ours = create_organization(name="市直机关工委", code="SC-OURS", kind=OrgKind.COMMITTEE)
    theirs = create_organization(name="县直机关工委", code="SC-THEIRS", kind=OrgKind.COMMITTEE)
    create_organization(name="工委机关党支部", code="SB-OURS", kind=OrgKind.BRANCH, parent=ours)
    create_organization(name="县委机关党支部", code="SB-THEIRS", kind=OrgKind.BRANCH, parent=theirs)
    return Committees(ours=ours, theirs=theirs)


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", password="unused-password-root")


def _admin_user(username: str) -> User:
    user = User.objects.create_user(username, password="unused-password", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="scoring"))
    return user


@pytest.fixture
def committee_staff(committees) -> User:
    """Party-affairs staff of our committee, with every scoring permission in the admin."""
    user = _admin_user("ours_staff")
    assign_role(user=user, role=Role.STAFF, organization=committees.ours)
    return user


@pytest.fixture
def outsider(committees) -> User:
    """Same admin permissions, but no role anywhere."""
    return _admin_user("outsider")


def build_draft(
    *,
    name: str = "测试细则",
    committee: Organization | None = None,
    with_bonus: bool = True,
    with_veto: bool = True,
) -> Standard:
    """A draft that passes publication: 20 points in two dimensions of 10, thresholds 19/18/16/14/0."""
    standard = services.create_standard(name=name, committee=committee, max_score=d("20"), bonus_cap=d("2"))
    for stars, min_score in [(5, "19"), (4, "18"), (3, "16"), (2, "14"), (1, "0")]:
        services.save_threshold(
            threshold=StarThreshold(standard=standard, stars=stars, min_score=d(min_score))
        )
    first = services.save_dimension(
        dimension=Dimension(standard=standard, order=1, code="1", title="班子建设", max_score=d("10"))
    )
    second = services.save_dimension(
        dimension=Dimension(standard=standard, order=2, code="2", title="工作业绩", max_score=d("10"))
    )
    items = [
        Item(
            dimension=first,
            order=1,
            code="1.1",
            title="支部设置合理",
            max_score=d("5"),
            evidence_required=True,
        ),
        Item(dimension=first, order=2, code="1.2", title="班子团结", max_score=d("5")),
        Item(dimension=second, order=1, code="2.1", title="出色完成任务", max_score=d("10")),
    ]
    if with_bonus:
        items.append(
            Item(
                dimension=second, order=2, code="B1", title="获得表彰", max_score=d("3"), kind=ItemKind.BONUS
            )
        )
    if with_veto:
        items.append(
            Item(
                dimension=second,
                order=3,
                code="V1",
                title="发生严重违纪",
                max_score=d("0"),
                kind=ItemKind.VETO,
                veto_star_cap=1,
            )
        )
    for item in items:
        services.save_item(item=item)
    return standard


@pytest.fixture
def draft(db) -> Standard:
    return build_draft()


@pytest.fixture
def published(draft) -> Standard:
    return services.publish_standard(standard=draft)


@pytest.fixture
def default_standard(db) -> Standard:
    """The standard shipped by the data migration."""
    return Standard.objects.get(name=DEFAULT_NAME, version=1)


@pytest.fixture(autouse=True)
def _english(english):
    """The scoring tests assert on the English source messages."""
