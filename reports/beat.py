"""The beat rows the migrations create: one django-celery-beat ``PeriodicTask`` each, found by name.

A migration passes its historical ``apps``. A row that exists already is left as it is (staff
may have changed its time in the admin), and every change tells a running beat that the
schedule changed (historical models send no signals).
"""

from django.utils import timezone

TIMEZONE = "Asia/Shanghai"


def _schedule_changed(apps) -> None:
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def add_periodic_task(apps, *, name: str, task: str, crontab: dict[str, str], description: str) -> None:
    """Create the row ``name`` running ``task`` on ``crontab`` (minute, hour, day_of_month,
    month_of_year, day_of_week; Asia/Shanghai) unless a row of that name exists."""
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=name).exists():
        return
    schedule, _created = CrontabSchedule.objects.get_or_create(timezone=TIMEZONE, **crontab)
    PeriodicTask.objects.create(name=name, task=task, crontab=schedule, enabled=True, description=description)
    _schedule_changed(apps)


def remove_periodic_task(apps, *, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
    _schedule_changed(apps)
