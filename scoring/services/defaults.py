"""The shipped default standard, also for callers outside migrations (demo data, tests)."""

from importlib import import_module

from django.apps import apps


def ensure_default_standard() -> None:
    """Create the default standard exactly as its data migration does, unless it exists."""
    migration = import_module("scoring.migrations.0002_default_standard")
    migration.create_default_standard(apps, None)


def ensure_default_check_standard():
    """The default routine-check standard (季度考核细则), published and global; made on first use.

    Its data is in ``scoring/migrations/_default_check_standard.py`` (see there why it is not a
    migration); checks/default_check_standard.md explains the points.
    """
    from django.db import transaction

    migration = import_module("scoring.migrations._default_check_standard")
    with transaction.atomic():
        return migration.create_default_check_standard(apps)
