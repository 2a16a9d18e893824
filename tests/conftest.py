"""Fixtures shared by the shell and browser tests: a small organization tree and its people."""

from dataclasses import dataclass

import pytest

from branches.models import Organization, OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization

PASSWORD = "correct-horse-battery-staple"


def pytest_configure(config):
    # Tests never run collectstatic, so WhiteNoise (DEBUG is off under test) finds no
    # STATIC_ROOT and warns on every first request; warnings are errors here. Static files
    # are still served in tests: live_server goes through the staticfiles finders.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


@dataclass
class OrgTree:
    committee: Organization
    party_committee: Organization
    branch_one: Organization
    branch_two: Organization
    branch_under_committee: Organization


@pytest.fixture
def org_tree(db) -> OrgTree:
    """市直机关工委 → 教育局机关党委 → two branches, plus one branch directly under the committee."""
    committee = create_organization(name="市直机关工委", code="C1", kind=OrgKind.COMMITTEE)
    party_committee = create_organization(
        name="市教育局机关党委", code="P1", kind=OrgKind.PARTY_COMMITTEE, parent=committee
    )
    return OrgTree(
        committee=committee,
        party_committee=party_committee,
        branch_one=create_organization(
            name="教育局第一党支部", code="B1", kind=OrgKind.BRANCH, parent=party_committee
        ),
        branch_two=create_organization(
            name="教育局第二党支部", code="B2", kind=OrgKind.BRANCH, parent=party_committee
        ),
        branch_under_committee=create_organization(
            name="工委机关党支部", code="B3", kind=OrgKind.BRANCH, parent=committee
        ),
    )


@pytest.fixture
def make_user(db):
    def make(username: str, real_name: str = "", **extra) -> User:
        return User.objects.create_user(username=username, password=PASSWORD, real_name=real_name, **extra)

    return make


@pytest.fixture
def secretary(make_user, org_tree) -> User:
    """张伟, secretary of 教育局第一党支部."""
    user = make_user("zhangwei", "张伟")
    assign_role(user=user, role=Role.BRANCH_SECRETARY, organization=org_tree.branch_one)
    return user


@pytest.fixture(autouse=True)
def _default_standard(request):
    """Put the shipped default standard back where a transactional test flushed it away.

    The standard comes from a data migration; tests with ``transaction=True`` (browser and
    race tests) end with a flush that empties every table, so later tests would lose it.
    """
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if not uses_db:
        return
    request.getfixturevalue(
        "transactional_db"
        if (marker and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames
        else "db"
    )
    from scoring.services.defaults import ensure_default_standard

    ensure_default_standard()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def english(client):
    """For tests that assert on the English source messages: gettext and the test client in English."""
    from django.utils import translation

    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def private_media(settings, tmp_path):
    """Uploaded and generated files go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
