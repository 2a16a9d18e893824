"""Rectification reminders: notices of a task (one per recipient, task, kind and interval slot),
and their daily schedule (a django-celery-beat row found by name, like ``0007``)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from reports.beat import add_periodic_task, remove_periodic_task

NAME = "整改提醒 · rectification reminders"
TASK = "reports.tasks.rectification_reminders"
DESCRIPTION = (
    "Daily: reminders of the rectification tasks to their owners and branch secretaries every few days "
    "until accepted, and to the parent reviewers once a task is overdue (09:10)."
)


def create_schedule(apps, schema_editor):
    add_periodic_task(
        apps,
        name=NAME,
        task=TASK,
        crontab={"minute": "10", "hour": "9", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
        description=DESCRIPTION,
    )


def remove_schedule(apps, schema_editor):
    remove_periodic_task(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0006_stage_changes_and_rectification_policy"),
        ("rectification", "0001_tasks"),
        ("reports", "0009_official_documents"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="notice",
            name="one_notice_per_quarter_and_kind",
        ),
        migrations.AddField(
            model_name="notice",
            name="slot",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="reminder interval"),
        ),
        migrations.AddField(
            model_name="notice",
            name="task",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="rectification.rectificationtask",
                verbose_name="rectification task",
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
                    ("rect_due", "Rectification: reminder"),
                    ("rect_overdue", "Rectification: overdue"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="notice",
            constraint=models.UniqueConstraint(
                condition=models.Q(("task__isnull", True)),
                fields=("recipient", "committee", "year", "quarter", "kind"),
                name="one_notice_per_quarter_and_kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="notice",
            constraint=models.UniqueConstraint(
                condition=models.Q(("task__isnull", False)),
                fields=("recipient", "task", "kind", "slot"),
                name="one_notice_per_task_kind_slot",
            ),
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
