"""The quarterly check (季度考核) is opened by celery beat at 07:00 on the first day of each quarter.

Like ``0002_quarterly_schedule``: a django-celery-beat row found by name (a database where
staff already changed its time keeps it), editable in the admin.
"""

from django.db import migrations
from django.utils import timezone

TIMEZONE = "Asia/Shanghai"
NAME = "季度考核 · quarterly checks"
TASK = "reports.tasks.open_quarter_check_rounds"
DESCRIPTION = (
    "Each active committee's quarterly check of the new quarter (07:00 on the first day of the quarter)."
)


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(name=NAME).exists():
        return
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="0", hour="7", day_of_month="1", month_of_year="1,4,7,10", day_of_week="*", timezone=TIMEZONE
    )
    PeriodicTask.objects.create(name=NAME, task=TASK, crontab=crontab, enabled=True, description=DESCRIPTION)
    # Historical models send no signals: tell a running beat that the schedule changed.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTask.objects.filter(name=NAME).delete()
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_bulletinevent"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
