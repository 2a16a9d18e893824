"""The daily removal of sign-in records past their retention (a django-celery-beat row found by
name, like ``0007`` and ``0010``)."""

from django.db import migrations

from reports.beat import add_periodic_task, remove_periodic_task

NAME = "登录记录清理 · sign-in record retention"
TASK = "reports.tasks.prune_sign_in_logs"
DESCRIPTION = (
    "Daily: sign-in records (successful and failed) older than SIGN_IN_LOG_RETENTION_DAYS "
    "(400 days by default, at least 183) are removed (03:40)."
)


def create_schedule(apps, schema_editor):
    add_periodic_task(
        apps,
        name=NAME,
        task=TASK,
        crontab={"minute": "40", "hour": "3", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
        description=DESCRIPTION,
    )


def remove_schedule(apps, schema_editor):
    remove_periodic_task(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0010_rectification_reminders"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
