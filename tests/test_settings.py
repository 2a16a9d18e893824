"""Settings read from the environment: a bad value stops start-up and names the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROD = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "a-very-long-and-random-production-secret-key-for-tests-0123456789",
    "ALLOWED_HOSTS": "dangjian.example.org",
}


def run_settings(env_overrides: dict[str, str], code: str = "") -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (async.E001 would fail check --deploy).
    left_out = {"DATABASE_URL", "DJANGO_ENV", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in left_out}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    script = "import django; django.setup(); from django.conf import settings\n" + code
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "notadb://x"),
        ("CELERY_BROKER_URL", "localhost"),
        ("EMAIL_PORT", "twenty-five"),
        ("AXES_FAILURE_LIMIT", "0"),
        ("DJANGO_ENV", "staging"),
    ],
)
def test_a_bad_value_stops_startup_naming_the_variable(name, value):
    result = run_settings({name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_production_needs_a_secret_key():
    result = run_settings({"DJANGO_ENV": "production"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_embedded_defaults_are_sqlite_eager_tasks_and_chinese():
    result = run_settings(
        {},
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, "
        "settings.LANGUAGE_CODE, settings.TIME_ZONE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "zh-hans", "Asia/Shanghai"]


def test_database_url_and_broker_come_from_the_environment():
    result = run_settings(
        {
            "DATABASE_URL": "postgres://u:p@db.internal:5433/star",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/3",
        },
        "d = settings.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['PORT'], d['NAME'], "
        "settings.CELERY_TASK_ALWAYS_EAGER)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "db.internal", "5433", "star", "False"]


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit_unless_asked():
    """A page's queries are milliseconds: PostgreSQL's JIT compiling (hundreds) is turned off."""
    from django.db import connection

    if connection.vendor == "postgresql":  # the suite's own connection (CI): the setting applies
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
    show = "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options', '-'))"
    url = {"DATABASE_URL": "postgres://u:p@db.internal:5433/star"}
    assert run_settings(url, show).stdout.strip() == "-c jit=off"
    assert run_settings({**url, "POSTGRES_JIT": "true"}, show).stdout.strip() == "-"
    assert run_settings({}, show).stdout.strip() == "-"  # SQLite has no such option


def test_production_mode_passes_the_deploy_check_at_warning_level():
    # Test fixtures may set DJANGO_ALLOW_ASYNC_UNSAFE for live-server tests; a deployment never does.
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(PROD)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
