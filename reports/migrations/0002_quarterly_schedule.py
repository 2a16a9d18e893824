"""The quarterly schedule as django-celery-beat rows, editable by staff in the admin.

Notices at 08:00 and bulletins at 01:00 (Asia/Shanghai) on the first day of each quarter
(1 January, 1 April, 1 July, 1 October); certificates past their validity expire every day
at 00:30. Rows are found by name, so running it on a database
where staff already changed the times keeps their times.
"""

from django.db import migrations
from django.utils import timezone

TIMEZONE = "Asia/Shanghai"
SCHEDULE = [
    # (name, task, hour, description); a quarterly schedule unless listed in DAILY
    (
        "季度通知 · quarterly notices",
        "reports.tasks.quarter_start_jobs",
        "8",
        "Each active committee's notices for the new quarter (08:00 on the first day of the quarter).",
    ),
    (
        "季度通报 · quarterly bulletins",
        "reports.tasks.quarter_end_jobs",
        "1",
        "Each active committee's bulletin of the quarter just ended (01:00 on the first day of the quarter).",
    ),
    (
        "星级证书到期 · certificate expiry",
        "reports.tasks.expire_certificates",  # was reviews.tasks.…; 0003 renames old rows
        "0",
        "Certificates past their validity expire and their branches show as unrated (00:30 every day).",
    ),
]
DAILY = {"reports.tasks.expire_certificates"}


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, hour, description in SCHEDULE:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        daily = task in DAILY
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute="30" if daily else "0",
            hour=hour,
            day_of_month="*" if daily else "1",
            month_of_year="*" if daily else "1,4,7,10",
            day_of_week="*",
            timezone=TIMEZONE,
        )
        PeriodicTask.objects.create(
            name=name, task=task, crontab=crontab, enabled=True, description=description
        )
    # Historical models send no signals: tell a running beat that the schedule changed.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTask.objects.filter(name__in=[name for name, *_rest in SCHEDULE]).delete()
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
