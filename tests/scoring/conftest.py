"""Fixtures for the scoring tests: the world's two committees as admin users see them, a valid draft."""

import pytest
from django.contrib.auth.models import Permission

from branches.models import User
from scoring.models import Standard
from scoring.services import standards as services
from tests.factories import make_draft_standard


def _scoring_admin(user: User) -> User:
    """Let ``user`` into the admin with every scoring permission; the role decides the rest."""
    User.objects.filter(pk=user.pk).update(is_staff=True)
    user.refresh_from_db()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="scoring"))
    return user


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", password="unused-password-root")


@pytest.fixture
def committee_staff(world) -> User:
    """The world's party-affairs staff of 市直机关工委, with every scoring permission in the admin."""
    return _scoring_admin(world.staff)


@pytest.fixture
def outsider(world) -> User:
    """The world's outsider with the same admin permissions, but no role anywhere."""
    return _scoring_admin(world.outsider)


@pytest.fixture
def draft(db) -> Standard:
    return make_draft_standard()


@pytest.fixture
def published(draft, superuser) -> Standard:
    return services.publish_standard(standard=draft, actor=superuser)


@pytest.fixture(autouse=True)
def _english(english):
    """The scoring tests assert on the English source messages."""
