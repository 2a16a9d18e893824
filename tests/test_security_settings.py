"""The cache, connection, session and limit settings: read from the environment, checked at start-up."""

import pytest

from tests.test_settings import PROD, run_settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CACHE_URL", "memcached://127.0.0.1:11211"),
        ("CACHE_URL", "127.0.0.1:6379"),
        ("CONN_MAX_AGE", "a minute"),
        ("SESSION_IDLE_TIMEOUT", "10"),
        ("SESSION_IDLE_TIMEOUT", "half an hour"),
        ("SIGN_IN_ADDRESS_LIMIT", "0"),
        ("SIGN_IN_ADDRESS_WINDOW", "soon"),
        ("VERIFY_RATE_LIMIT", "-1"),
        ("TRUSTED_PROXIES", "10.0.0.1,proxy.example.org"),
        ("ARCHIVE_MAX_UNPACKED_MB", "lots"),
        ("EVIDENCE_MAX_FILES_PER_ITEM", "0"),
        ("PASSWORD_MIN_LENGTH", "6"),
    ],
)
def test_a_bad_value_stops_startup_naming_the_variable(name, value):
    result = run_settings({name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_embedded_defaults():
    result = run_settings(
        {},
        "print(settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE, "
        "settings.DATABASES['default']['CONN_MAX_AGE'], settings.DATABASES['default']['CONN_HEALTH_CHECKS'], "
        "settings.SESSION_IDLE_TIMEOUT, settings.SIGN_IN_ADDRESS_LIMIT, settings.SIGN_IN_ADDRESS_WINDOW, "
        "settings.TRUSTED_PROXIES, settings.EVIDENCE_MAX_FILES_PER_ITEM)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.contrib.sessions.backends.db",
        "0",
        "True",
        "1800",
        "20",
        "900",
        "[]",
        "20",
    ]


def test_production_keeps_connections_and_a_redis_cache_is_used_when_named():
    result = run_settings(
        {**PROD, "CACHE_URL": "redis://127.0.0.1:6379/1", "DATABASE_URL": "postgres://u@db:5432/dangjian"},
        "c = settings.CACHES['default']; print(c['BACKEND'], c['LOCATION'], settings.SESSION_ENGINE, "
        "settings.DATABASES['default']['CONN_MAX_AGE'], settings.DATABASES['default']['CONN_HEALTH_CHECKS'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "config.redis_cache.SharedClientRedisCache",
        "redis://127.0.0.1:6379/1",
        "django.contrib.sessions.backends.cached_db",
        "60",
        "True",
    ]


def test_conn_max_age_is_read_from_the_environment():
    result = run_settings({"CONN_MAX_AGE": "300"}, "print(settings.DATABASES['default']['CONN_MAX_AGE'])")
    assert result.stdout.strip() == "300"


def test_the_deploy_checks_pass_in_production():
    result = run_settings(
        {**PROD, "CACHE_URL": "redis://127.0.0.1:6379/1"},
        "from django.core.management import call_command\n"
        "call_command('check', deploy=True, fail_level='WARNING')",
    )
    assert result.returncode == 0, result.stderr
