"""Rectification in the admin: read-only views for superusers (every write goes through the services)."""

from django.contrib import admin

from .models import RectificationEvent, RectificationReport, RectificationTask


class RectificationReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RectificationTask)
class RectificationTaskAdmin(RectificationReadOnlyAdmin):
    list_display = ("title", "branch", "source_kind", "status", "owner", "deadline")
    list_filter = ("status", "source_kind")
    list_select_related = ("branch", "owner")


@admin.register(RectificationReport)
class RectificationReportAdmin(RectificationReadOnlyAdmin):
    list_display = ("task", "written_by", "written_at")
    list_select_related = ("task__branch", "written_by")


@admin.register(RectificationEvent)
class RectificationEventAdmin(RectificationReadOnlyAdmin):
    list_display = ("task", "action", "from_status", "to_status", "actor", "at")
    list_select_related = ("task__branch", "actor")
