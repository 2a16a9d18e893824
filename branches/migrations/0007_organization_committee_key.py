import django.db.models.deletion
from django.db import migrations, models
from django.db.models import IntegerField, Value
from django.db.models.functions import Cast, StrIndex, Substr

# Rows per UPDATE when filling the key of existing organizations.
BATCH = 5000


def root_key_of_path():
    """The first key of a materialized path ("/12/34/56/" → 12), as SQL (SQLite and PostgreSQL)."""
    rest = Substr("path", 2)
    return Cast(Substr(rest, 1, StrIndex(rest, Value("/")) - 1), output_field=IntegerField())


def fill_committee_key(apps, schema_editor):
    """Every organization's committee is the root of its path, set in batches of primary keys."""
    Organization = apps.get_model("branches", "Organization")
    manager = Organization.objects.using(schema_editor.connection.alias)
    bounds = manager.aggregate(low=models.Min("pk"), high=models.Max("pk"))
    if bounds["low"] is None:
        return
    for start in range(bounds["low"], bounds["high"] + 1, BATCH):
        manager.filter(pk__gte=start, pk__lt=start + BATCH).update(committee_id=root_key_of_path())
    if schema_editor.connection.vendor == "postgresql":
        # The planner's statistics of the new column now, not at the next autovacuum: scoping
        # by the key relies on them.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f'ANALYZE "{Organization._meta.db_table}"')


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0006_stage_changes_and_rectification_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="committee",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="branches.organization",
                verbose_name="working committee",
            ),
        ),
        migrations.RunPython(fill_committee_key, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="organization",
            index=models.Index(fields=["committee", "kind", "is_active"], name="org_committee_kind_idx"),
        ),
    ]
