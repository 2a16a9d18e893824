"""Supervision in the admin: read-only views for superusers (every write goes through the services)."""

from django.contrib import admin

from .models import LiaisonAssignment, StageApplication, SupervisionVisit


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LiaisonAssignment)
class LiaisonAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("member", "branch", "committee", "assigned_at")
    list_select_related = ("member", "branch", "committee")


@admin.register(SupervisionVisit)
class SupervisionVisitAdmin(ReadOnlyAdmin):
    list_display = ("branch", "visited_on", "year", "quarter", "recorded_by")
    list_select_related = ("branch", "recorded_by")
    list_filter = ("year", "quarter")


@admin.register(StageApplication)
class StageApplicationAdmin(ReadOnlyAdmin):
    list_display = ("branch", "from_stage", "to_stage", "status", "submitted_at", "decided_at")
    list_select_related = ("branch",)
    list_filter = ("status",)
