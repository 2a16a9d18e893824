"""The directory owns no tables; it adds the audit trail to the admin of the quarterly schedule.

django-celery-beat's periodic tasks and crontabs are edited in the admin (with the names
``reports.admin`` gives them); whatever admin class is registered for them gets the
recording of ``branches.admin.AuditedAdminMixin`` on top. This module is imported after
``reports.admin`` (INSTALLED_APPS order), so it wraps the final registration.
"""

from django.contrib import admin
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from branches.admin import AuditedAdminMixin

for _scheduled_model in (PeriodicTask, CrontabSchedule):
    _current = admin.site._registry.get(_scheduled_model)
    if _current is not None and not isinstance(_current, AuditedAdminMixin):
        _audited = type(_current.__class__.__name__, (AuditedAdminMixin, _current.__class__), {})
        admin.site.unregister(_scheduled_model)
        admin.site.register(_scheduled_model, _audited)
