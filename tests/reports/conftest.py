import pytest

from tests.reports.bulletin_world import BulletinWorld, build_bulletin_world


@pytest.fixture
def bulletin_world(db) -> BulletinWorld:
    """The quarterly bulletin's world of tests/reports/bulletin_world.py."""
    return build_bulletin_world()
