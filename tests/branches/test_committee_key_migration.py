"""The migration that adds the committee key fills it for the organizations already there."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("branches", "0006_stage_changes_and_rectification_policy")]
AFTER = [("branches", "0007_organization_committee_key")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps():
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_every_existing_organization_gets_the_root_of_its_path(old_apps, monkeypatch):
    # Small batches, so that the fill runs over several of them.
    module = importlib.import_module("branches.migrations.0007_organization_committee_key")
    monkeypatch.setattr(module, "BATCH", 2)
    Organization = old_apps.get_model("branches", "Organization")
    made = {}

    def org(code, kind, parent=None):
        row = Organization.objects.create(
            name=code, code=code, kind=kind, parent=parent, path=f"/new-{code}/", depth=0
        )
        row.path = f"{parent.path if parent else '/'}{row.pk}/"
        row.save(update_fields=["path"])
        made[code] = row
        return row

    first = org("C1", "committee")
    party = org("P1", "party_committee", first)
    org("B1", "branch", party)
    org("B2", "branch", first)
    second = org("C2", "committee")
    org("D1", "branch", second)

    new_apps = migrate(AFTER)

    keys = dict(new_apps.get_model("branches", "Organization").objects.values_list("code", "committee_id"))
    assert keys == {
        "C1": made["C1"].pk,
        "P1": made["C1"].pk,
        "B1": made["C1"].pk,
        "B2": made["C1"].pk,
        "C2": made["C2"].pk,
        "D1": made["C2"].pk,
    }
