"""Read-only admin of the star-rating workflow, scoped to what the staff member can see.

Scores and stars change only through the workflow's services, which check roles and state
and write the events; the admin therefore never adds, changes or deletes these rows.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from branches.selectors import organizations_visible_to
from scoring.admin import EventActionAdminMixin, EventActionFilter

from .models import (
    Appeal,
    AppealEvent,
    Assessment,
    AssessmentEvent,
    Certificate,
    Cycle,
    CycleEvent,
    NoticeBatch,
    Objection,
    StarEvent,
)
from .workflow import APPEAL_TRANSITIONS, CYCLE_TRANSITIONS, TRANSITIONS


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    """View only; non-superusers see the rows of the organizations in their scope."""

    org_lookup = "branch"
    list_per_page = 100

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.org_lookup}__in": organizations_visible_to(request.user)})

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AssessmentColumnMixin:
    """Labels an ``assessment`` foreign key that has no verbose name of its own (it read "Assessment")."""

    @admin.display(description=_("assessment"), ordering="assessment__branch__name")
    def assessment_column(self, obj) -> Assessment:
        return obj.assessment

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "assessment_column"]

    def get_fields(self, request, obj=None):
        fields = [name for name in super().get_fields(request, obj) if name != "assessment_column"]
        return ["assessment_column" if name == "assessment" else name for name in fields]


@admin.register(Cycle)
class CycleAdmin(ReadOnlyScopedAdmin):
    org_lookup = "committee"
    list_display = ["name", "committee", "standard", "status", "opened_at", "closed_at"]
    list_filter = ["status"]
    search_fields = ["name"]
    list_select_related = ["committee", "standard"]
    date_hierarchy = "opened_at"


@admin.register(NoticeBatch)
class NoticeBatchAdmin(ReadOnlyScopedAdmin):
    org_lookup = "cycle__committee"
    list_display = ["cycle", "number", "started_at", "ends_at", "certified_at"]
    search_fields = ["cycle__name"]
    list_select_related = ["cycle"]


@admin.register(CycleEvent)
class CycleEventAdmin(EventActionAdminMixin, ReadOnlyScopedAdmin):
    org_lookup = "cycle__committee"
    transitions = CYCLE_TRANSITIONS
    list_display = ["at", "cycle", "action_label", "from_status", "to_status", "actor"]
    list_filter = [EventActionFilter]
    search_fields = ["cycle__name"]
    list_select_related = ["cycle", "actor"]
    raw_id_fields = ["cycle", "actor"]
    fields = ["at", "cycle", "action_label", "from_status", "to_status", "actor", "note"]
    readonly_fields = ["at", "action_label"]


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "branch",
        "cycle",
        "status",
        "declared_stars",
        "consolidated_score",
        "proposed_stars",
        "decided_stars",
    ]
    list_filter = ["status", "cycle"]
    search_fields = ["branch__name", "branch__code"]
    list_select_related = ["branch", "cycle"]
    # Drop-downs of every user or branch would be one huge query per page.
    raw_id_fields = ["cycle", "branch", "decided_by"]


@admin.register(AssessmentEvent)
class AssessmentEventAdmin(AssessmentColumnMixin, EventActionAdminMixin, ReadOnlyScopedAdmin):
    org_lookup = "assessment__branch"
    transitions = TRANSITIONS
    list_display = ["at", "assessment_column", "action_label", "from_status", "to_status", "actor"]
    list_filter = [EventActionFilter]
    search_fields = ["assessment__branch__name"]
    list_select_related = ["assessment__branch", "assessment__cycle", "actor"]
    raw_id_fields = ["assessment", "actor"]
    fields = ["at", "assessment", "action_label", "from_status", "to_status", "actor", "note"]
    readonly_fields = ["at", "action_label"]


@admin.register(Objection)
class ObjectionAdmin(AssessmentColumnMixin, ReadOnlyScopedAdmin):
    org_lookup = "assessment__branch"
    list_display = ["recorded_at", "assessment_column", "received_from", "resolved_at"]
    search_fields = ["assessment__branch__name", "content"]
    list_select_related = ["assessment__branch", "assessment__cycle"]
    raw_id_fields = ["assessment", "recorded_by", "resolved_by"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "branch",
        "stars",
        "certified_stars",
        "status",
        "issued_at",
        "valid_until",
        "verification_code",
    ]
    list_filter = ["status", "stars"]
    search_fields = ["branch__name", "branch__code", "verification_code"]
    list_select_related = ["branch"]
    raw_id_fields = ["branch", "assessment"]


@admin.register(StarEvent)
class StarEventAdmin(ReadOnlyScopedAdmin):
    list_display = ["at", "branch", "kind", "from_stars", "to_stars", "actor"]
    list_filter = ["kind"]
    search_fields = ["branch__name", "branch__code", "reason", "violation"]
    list_select_related = ["branch", "actor"]
    raw_id_fields = ["branch", "certificate", "actor"]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyScopedAdmin):
    org_lookup = "assessment__branch"
    list_display = ["submitted_at", "assessment", "status", "original_stars", "outcome_stars"]
    list_filter = ["status"]
    search_fields = ["assessment__branch__name", "reason"]
    list_select_related = ["assessment__branch", "assessment__cycle"]
    raw_id_fields = ["assessment", "submitted_by", "reviewed_by", "decided_by"]


@admin.register(AppealEvent)
class AppealEventAdmin(EventActionAdminMixin, ReadOnlyScopedAdmin):
    org_lookup = "appeal__assessment__branch"
    transitions = APPEAL_TRANSITIONS
    # Recorded by ``services.appeals.apply_for_appeal`` when the appeal is lodged, not a move.
    other_actions = {"apply": _("apply for an appeal")}
    list_display = ["at", "appeal", "action_label", "from_status", "to_status", "actor"]
    list_filter = [EventActionFilter]
    fields = ["at", "appeal", "action_label", "from_status", "to_status", "actor", "note"]
    readonly_fields = ["at", "action_label"]
    list_select_related = ["appeal__assessment__branch", "appeal__assessment__cycle", "actor"]
    raw_id_fields = ["appeal", "actor"]
