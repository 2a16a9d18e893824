"""The daily certificate expiry is a recorded job of the reports app now: rename its beat row's task."""

from django.db import migrations
from django.utils import timezone

OLD, NEW = "reviews.tasks.expire_certificates", "reports.tasks.expire_certificates"


def rename(apps, schema_editor, old=OLD, new=NEW):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(task=old).update(task=new):
        # Historical models send no signals: tell a running beat that the schedule changed.
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, old=NEW, new=OLD)


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_quarterly_schedule")]

    operations = [migrations.RunPython(rename, rename_back)]
