"""Reviewer assignments carry their assessment's cycle, indexed with the reviewer.

The column is added empty, filled from each assessment in one statement, then made required.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_cycles(apps, schema_editor):
    Assessment = apps.get_model("reviews", "Assessment")
    ReviewerAssignment = apps.get_model("reviews", "ReviewerAssignment")
    ReviewerAssignment.objects.filter(cycle__isnull=True).update(
        cycle_id=Subquery(Assessment.objects.filter(pk=OuterRef("assessment_id")).values("cycle_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("reviews", "0007_objection_substantiated")]

    operations = [
        migrations.AddField(
            model_name="reviewerassignment",
            name="cycle",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="reviews.cycle",
                verbose_name="cycle",
            ),
        ),
        migrations.RunPython(fill_cycles, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="reviewerassignment",
            name="cycle",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="reviews.cycle",
                verbose_name="cycle",
            ),
        ),
        migrations.AddIndex(
            model_name="reviewerassignment",
            index=models.Index(fields=["reviewer", "cycle"], name="assignment_reviewer_cycle_idx"),
        ),
    ]
