"""The quarterly check (季度考核) is opened by celery beat at 07:00 on the first day of each quarter.

Like ``0002_quarterly_schedule``: a django-celery-beat row found by name (a database where
staff already changed its time keeps it), editable in the admin.
"""

from django.db import migrations

from reports.beat import add_periodic_task, remove_periodic_task

NAME = "季度考核 · quarterly checks"
TASK = "reports.tasks.open_quarter_check_rounds"
DESCRIPTION = (
    "Each active committee's quarterly check of the new quarter (07:00 on the first day of the quarter)."
)


def create_schedule(apps, schema_editor):
    add_periodic_task(
        apps,
        name=NAME,
        task=TASK,
        crontab={
            "minute": "0",
            "hour": "7",
            "day_of_month": "1",
            "month_of_year": "1,4,7,10",
            "day_of_week": "*",
        },
        description=DESCRIPTION,
    )


def remove_schedule(apps, schema_editor):
    remove_periodic_task(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_bulletinevent"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
