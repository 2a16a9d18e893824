"""Admin for background-job runs and bulletin events: read-only, and scoped for non-superusers.

The quarterly schedule itself is django-celery-beat's "Periodic tasks" (its own admin);
staff who are not superusers need the ``django_celery_beat`` permissions on periodic tasks
and crontabs to edit it (the demo staff group has them).
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from scoring.admin import EventActionAdminMixin, EventActionFilter

from .models import BulletinEvent, DocumentIssuer, JobRun, JobStatus, OfficialDocument
from .selectors import committees_for_jobs, job_runs_visible_to, managed_committees
from .workflow import BULLETIN_TRANSITIONS


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["task_name", "status", "committee", "attempt", "started_at", "finished_at"]
    list_filter = ["status", "task_name"]
    search_fields = ["task_name", "error"]
    date_hierarchy = "started_at"
    fields = ["task_name", "arguments", "status", "attempt", "started_at", "finished_at", "error"]
    readonly_fields = fields
    list_per_page = 50

    def get_queryset(self, request):
        return job_runs_visible_to(request.user)

    @admin.display(description=_("working committee"), ordering="committee_name")
    def committee(self, obj):
        return obj.committee_name or "—"

    # Staff of a committee may read its runs without a model permission: the same rule as the
    # job list page. Nobody edits a run; only superusers may delete old ones.
    def _reads_runs(self, request) -> bool:
        user = request.user
        return (
            user.is_superuser
            or user.has_perm("reports.view_jobrun")
            or (user.is_active and user.is_staff and committees_for_jobs(user).exists())
        )

    def has_module_permission(self, request):
        return self._reads_runs(request)

    def has_view_permission(self, request, obj=None):
        return self._reads_runs(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and (obj is None or obj.status != JobStatus.RUNNING)


@admin.register(BulletinEvent)
class BulletinEventAdmin(EventActionAdminMixin, admin.ModelAdmin):
    """Who generated and published which bulletin when: read-only, for the committees one manages."""

    transitions = BULLETIN_TRANSITIONS
    list_display = ["at", "bulletin", "action_label", "from_status", "to_status", "actor"]
    list_filter = [EventActionFilter]
    fields = ["at", "bulletin", "action_label", "from_status", "to_status", "actor", "note"]
    readonly_fields = ["at", "action_label"]
    search_fields = ["bulletin__committee__name"]
    list_select_related = ["bulletin__committee", "actor"]
    raw_id_fields = ["bulletin", "actor"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(bulletin__committee__in=managed_committees(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Official documents (公文): the issuer is edited here (or on the site); documents are read-only
# here, since drafts are edited and issued only through the site's services.


@admin.register(DocumentIssuer)
class DocumentIssuerAdmin(admin.ModelAdmin):
    list_display = ["committee", "organ_name", "code"]
    fields = ["committee", "organ_name", "code"]
    search_fields = ["committee__name", "organ_name", "code"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("committee")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(committee__in=managed_committees(request.user))

    def get_readonly_fields(self, request, obj=None):
        return ["committee"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "committee" and not request.user.is_superuser:
            kwargs["queryset"] = managed_committees(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(OfficialDocument)
class OfficialDocumentAdmin(admin.ModelAdmin):
    list_display = ["document_number", "title", "kind", "status", "committee", "issued_at"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "document_number", "committee__name"]
    list_select_related = ["committee"]
    fields = [
        "committee",
        "kind",
        "status",
        "title",
        "document_number",
        "unit",
        "issued_at",
        "issued_by",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(committee__in=managed_committees(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- django-celery-beat: the quarterly schedule -------------------------------------------
# Its admin labels a few columns from attribute names, which no catalogue can translate
# ("Human readable", "Scheduler", "Crontab translation", the inline's "Task Name"); the
# subclasses below only name them. Everything else is django-celery-beat's own admin.


class ScheduledTasksInline(beat_admin.PeriodicTaskInline):
    fields = ("name", "task_to_run", "args", "kwargs")
    readonly_fields = fields

    @admin.display(description=_("task to run"))
    def task_to_run(self, obj: PeriodicTask) -> str:
        return obj.task


class ScheduledCrontabAdmin(beat_admin.CrontabScheduleAdmin):
    inlines = [ScheduledTasksInline]
    list_display = ("__str__", "in_words")
    fields = ("in_words", "minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone")
    readonly_fields = ("in_words",)

    @admin.display(description=_("in words"))
    def in_words(self, obj: CrontabSchedule) -> str:
        return obj.human_readable


class ScheduledPeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    list_display = ("name", "enabled", "task_schedule", "interval", "start_time", "last_run_at", "one_off")

    @admin.display(description=_("schedule"))
    def task_schedule(self, obj: PeriodicTask):
        return obj.scheduler

    @admin.display(description=_("crontab in words"))
    def crontab_translation(self, obj: PeriodicTask) -> str:
        return obj.crontab.human_readable if obj.crontab_id else "—"


def _with_named_inline(admin_class):
    return type(admin_class.__name__, (admin_class,), {"inlines": [ScheduledTasksInline]})


for _model, _admin_class in (
    (PeriodicTask, ScheduledPeriodicTaskAdmin),
    (CrontabSchedule, ScheduledCrontabAdmin),
    (ClockedSchedule, _with_named_inline(beat_admin.ClockedScheduleAdmin)),
    (SolarSchedule, _with_named_inline(beat_admin.SolarScheduleAdmin)),
    (IntervalSchedule, _with_named_inline(beat_admin.IntervalScheduleAdmin)),
):
    admin.site.unregister(_model)
    admin.site.register(_model, _admin_class)
