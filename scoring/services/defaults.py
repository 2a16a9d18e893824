"""The shipped default standard, also for callers outside migrations (demo data, tests)."""

from importlib import import_module

from django.apps import apps


def ensure_default_standard() -> None:
    """Create the default standard exactly as its data migration does, unless it exists."""
    migration = import_module("scoring.migrations.0002_default_standard")
    migration.create_default_standard(apps, None)
