"""The year bulletin (年度通报) as a kind of bulletin, the reminders of quarterly check rounds,
and their daily schedule (a django-celery-beat row found by name, like ``0005``)."""

import django.core.validators
from django.conf import settings
from django.db import migrations, models

from reports.beat import add_periodic_task, remove_periodic_task

NAME = "季度考核提醒 · quarterly check reminders"
TASK = "reports.tasks.check_round_reminders"
DESCRIPTION = (
    "Daily: reminders of the open quarterly checks' deadlines to the secretaries and parent reviewers "
    "who still have work (09:00)."
)


def create_schedule(apps, schema_editor):
    add_periodic_task(
        apps,
        name=NAME,
        task=TASK,
        crontab={"minute": "0", "hour": "9", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
        description=DESCRIPTION,
    )


def remove_schedule(apps, schema_editor):
    remove_periodic_task(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0004_five_good_threshold"),
        ("reports", "0006_jobrun_progress"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="bulletin",
            name="one_bulletin_per_quarter",
        ),
        migrations.RemoveConstraint(
            model_name="bulletin",
            name="bulletin_quarter_1_4",
        ),
        migrations.AddField(
            model_name="bulletin",
            name="kind",
            field=models.CharField(
                choices=[("quarterly", "Quarterly bulletin"), ("year", "Year bulletin")],
                default="quarterly",
                max_length=10,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="bulletin",
            name="quarter",
            field=models.PositiveSmallIntegerField(
                blank=True,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(4),
                ],
                verbose_name="quarter",
            ),
        ),
        migrations.AlterField(
            model_name="notice",
            name="kind",
            field=models.CharField(
                choices=[
                    ("quarterly", "Quarterly notice"),
                    ("expiry", "Certificate expiry"),
                    ("check_report_due", "Quarterly check: self-report due"),
                    ("check_scoring_due", "Quarterly check: scoring due"),
                    ("check_scoring_late", "Quarterly check: scoring overdue"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="bulletin",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "quarterly")),
                fields=("committee", "year", "quarter"),
                name="one_bulletin_per_quarter",
            ),
        ),
        migrations.AddConstraint(
            model_name="bulletin",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "year")),
                fields=("committee", "year"),
                name="one_year_bulletin_per_year",
            ),
        ),
        migrations.AddConstraint(
            model_name="bulletin",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "quarterly"), ("quarter__gte", 1), ("quarter__lte", 4)),
                    models.Q(("kind", "year"), ("quarter__isnull", True)),
                    _connector="OR",
                ),
                name="bulletin_quarter_1_4",
            ),
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
