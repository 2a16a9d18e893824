"""Organizations carry their list order (parent's sort number and code, then their own), indexed.

Filled in batches from the rows themselves (their parents' numbers and codes read once).
"""

from django.db import migrations, models


def _order_part(sort_order, code):
    # As branches.models._order_part (a migration keeps its own copy).
    return f"{sort_order + 2**31:010d}{code.encode().hex()}00"


def fill_order_keys(apps, schema_editor):
    Organization = apps.get_model("branches", "Organization")
    rows = {pk: (parent_id, sort_order, code) for pk, parent_id, sort_order, code in Organization.objects.values_list("pk", "parent_id", "sort_order", "code").iterator(chunk_size=5000)}
    batch = []
    for pk, (parent_id, sort_order, code) in rows.items():
        parent = rows.get(parent_id)
        head = _order_part(parent[1], parent[2]) if parent else _order_part(0, "")
        batch.append(Organization(pk=pk, order_key=head + _order_part(sort_order, code)))
        if len(batch) >= 2000:
            Organization.objects.bulk_update(batch, ["order_key"])
            batch = []
    if batch:
        Organization.objects.bulk_update(batch, ["order_key"])


class Migration(migrations.Migration):
    dependencies = [("branches", "0007_organization_committee_key")]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="order_key",
            field=models.CharField(default="", editable=False, max_length=700, verbose_name="list order"),
        ),
        migrations.RunPython(fill_order_keys, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="organization",
            index=models.Index(fields=["order_key"], name="org_order_key_idx"),
        ),
    ]
