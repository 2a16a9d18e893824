"""The quarterly checks in the admin: read-only views for superusers (every write goes through the services)."""

from django.contrib import admin

from .models import CheckEntry, CheckRound, CheckSheet, DowngradeProposal, LeadershipFlag, YearResult


class CheckReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CheckRound)
class CheckRoundAdmin(CheckReadOnlyAdmin):
    list_display = ("committee", "year", "quarter", "status", "standard", "published_at")
    list_filter = ("status", "year")


@admin.register(CheckSheet)
class CheckSheetAdmin(CheckReadOnlyAdmin):
    list_display = ("branch", "round", "status", "total", "rank_committee", "rank_group")
    list_select_related = ("branch", "round__committee")


@admin.register(CheckEntry)
class CheckEntryAdmin(CheckReadOnlyAdmin):
    list_display = ("branch", "checked_on", "violation", "recorded_by")
    list_select_related = ("branch", "recorded_by")


@admin.register(YearResult)
class YearResultAdmin(CheckReadOnlyAdmin):
    list_display = ("branch", "year", "rounds", "average", "five_good", "last_places")
    list_filter = ("year", "five_good")
    list_select_related = ("branch",)


@admin.register(LeadershipFlag)
class LeadershipFlagAdmin(CheckReadOnlyAdmin):
    list_display = ("branch", "year", "action_on")
    list_select_related = ("branch",)


@admin.register(DowngradeProposal)
class DowngradeProposalAdmin(CheckReadOnlyAdmin):
    list_display = ("branch", "source", "status", "proposed_at")
    list_filter = ("status", "source")
    list_select_related = ("branch",)
