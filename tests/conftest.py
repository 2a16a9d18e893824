"""Fixtures every suite shares: the named world of tests/factories.py, the default standard, settings."""

import pytest

from tests import factories
from tests.factories import World, build_world
from tests.storage.support import any_storage, local_storage, s3_server, s3_storage  # noqa: F401 (fixtures)


def pytest_configure(config):
    # Tests never run collectstatic, so WhiteNoise (DEBUG is off under test) finds no
    # STATIC_ROOT and warns on every first request; warnings are errors here. Static files
    # are still served in tests: live_server goes through the staticfiles finders.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")
    # On S3 (CI), a test that points MEDIA_ROOT at its own folder gets a key prefix of its own.
    from django.test.signals import setting_changed

    from tests.storage.support import keep_tests_apart_on_s3

    setting_changed.connect(keep_tests_apart_on_s3, dispatch_uid="keep_tests_apart_on_s3")


@pytest.fixture
def world(db) -> World:
    """The committee, its party committees and branches, one person per role, the other committee."""
    return build_world()


@pytest.fixture
def default_standard(db):
    """The standard shipped by the data migration."""
    return factories.default_standard()


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
def _empty_local_cache():
    """Rate-limit counts and cached sessions of one test never reach the next.

    Only a local-memory cache is emptied: a Redis named by CACHE_URL may hold someone else's keys.
    """
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    for cache in caches.all(initialized_only=True):
        if isinstance(cache, LocMemCache):
            cache.clear()


@pytest.fixture(autouse=True)
def _no_cached_standards(settings):
    """Tests read published standards afresh, so that a page's query count does not depend on
    which request came first (tests/scoring/test_standard_cache.py turns the cache on)."""
    from scoring.selectors import forget_frozen_standards

    settings.CACHE_PUBLISHED_STANDARDS = False
    forget_frozen_standards()
    yield
    forget_frozen_standards()


@pytest.fixture(autouse=True)
def _cached_figures(settings):
    """Committee-wide figures are kept in the cache in every test, as with a shared Redis in
    production: each test's own cache is emptied first (``_empty_local_cache``), so a figure is
    counted on a test's first look and must follow every change after it. Pages are kept too
    (branches/kept.py), though only a test on real commits sees one kept."""
    settings.CACHE_FIGURES = True
    settings.KEEP_PAGES = True


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request in English activates English for the thread; the next test starts in the default."""
    yield
    from django.utils import translation

    translation.deactivate()


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
