"""Admin for background-job runs and bulletin events: read-only, and scoped for non-superusers.

The quarterly schedule itself is django-celery-beat's "Periodic tasks" (its own admin);
staff who are not superusers need the ``django_celery_beat`` permissions on periodic tasks
and crontabs to edit it (the demo staff group has them).
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import BulletinEvent, JobRun, JobStatus
from .selectors import committees_for_jobs, job_runs_visible_to, managed_committees


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
class BulletinEventAdmin(admin.ModelAdmin):
    """Who generated and published which bulletin when: read-only, for the committees one manages."""

    list_display = ["at", "bulletin", "action", "from_status", "to_status", "actor"]
    list_filter = ["action"]
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
