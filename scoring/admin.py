"""Admin for standards and items: scoped to the user's committees, read-only once published.

Every save and delete is handed to ``scoring.services`` so the admin cannot bypass the
guard that keeps published standards frozen; the permission hooks below only make the
pages say so up front instead of failing on save.
"""

from collections.abc import Callable, Mapping

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from branches.errors import WorkflowError
from branches.models import OrgKind
from branches.selectors import organizations_visible_to
from branches.workflow import Transition

from .models import Dimension, Item, Standard, StandardEvent, StarThreshold
from .selectors import can_edit_standard, can_move_standard, standards_editable_by, standards_visible_to
from .services import standards as services
from .workflow import STANDARD_TRANSITIONS


class EventActionFilter(admin.SimpleListFilter):
    """Filter a status history by action, offering the actions by their translated labels."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return list(model_admin.action_labels().items())

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class EventActionAdminMixin:
    """Shows the action codes an event row stores ("submit", "forward") as the workflow's labels.

    ``transitions`` is the app's status table, whose ``Transition.label`` names each action;
    ``other_actions`` labels the actions recorded outside the table (an appeal's "apply").
    """

    transitions: Mapping[str, Transition] = {}
    other_actions: Mapping[str, str] = {}

    def action_labels(self) -> dict[str, str]:
        labels = {code: spec.label for code, spec in self.transitions.items()}
        labels.update(self.other_actions)
        return labels

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj) -> str:
        return self.action_labels().get(obj.action, obj.action)


def _editable(request: HttpRequest, standard: Standard | None) -> bool:
    """Whether the user may change ``standard``; None (a page about a new one) is editable."""
    if standard is None:
        return True
    if standard.is_published:
        return False
    if request.user.is_superuser:
        return True
    if standard.committee_id is None:
        return False
    # The admin asks several times per page; answer from one query per standard.
    cache: dict[int, bool] = request.__dict__.setdefault("_scoring_editable", {})
    if standard.pk not in cache:
        cache[standard.pk] = can_edit_standard(request.user, standard)
    return cache[standard.pk]


_SAVE: dict[type[Model], Callable[..., object]] = {
    StarThreshold: lambda obj: services.save_threshold(threshold=obj),
    Dimension: lambda obj: services.save_dimension(dimension=obj),
}
_DELETE: dict[type[Model], Callable[..., object]] = {
    StarThreshold: lambda obj: services.delete_threshold(threshold=obj),
    Dimension: lambda obj: services.delete_dimension(dimension=obj),
}


class _FrozenWhenPublishedInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and _editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _editable(request, obj)


class StarThresholdInline(_FrozenWhenPublishedInline):
    model = StarThreshold
    fields = ("stars", "min_score")
    ordering = ("-stars",)


class DimensionInline(_FrozenWhenPublishedInline):
    model = Dimension
    fields = ("order", "code", "title", "max_score")
    ordering = ("order", "code")


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "status", "purpose", "owner", "max_score", "published_at")
    list_filter = ("status", "purpose")
    list_select_related = ("committee",)
    search_fields = ("name",)
    fields = (
        "name",
        "version",
        "status",
        "purpose",
        "committee",
        "max_score",
        "bonus_cap",
        "allow_total_above_max",
        "published_at",
        "created_at",
        "copied_from",
    )
    # The purpose follows the standard it is copied from (a copy of the check standard is one).
    readonly_fields = ("version", "status", "purpose", "published_at", "created_at", "copied_from")
    inlines = [StarThresholdInline, DimensionInline]
    actions = ["publish_selected", "copy_selected_to_new_draft"]

    @admin.display(description=_("working committee"), ordering="committee__name")
    def owner(self, obj: Standard) -> str:
        return str(obj.committee) if obj.committee_id else gettext("All committees")

    def get_queryset(self, request):
        queryset = standards_visible_to(request.user).select_related("committee")
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The versions of a standard share its name; renaming one would split the line.
            readonly.append("name")
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "committee":
            kwargs["queryset"] = organizations_visible_to(request.user).filter(kind=OrgKind.COMMITTEE)
            if not request.user.is_superuser:
                # Only superusers make global standards; everyone else writes for a committee.
                kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _editable(request, obj)

    def save_model(self, request, obj, form, change):
        services.save_standard(standard=obj)

    def delete_model(self, request, obj):
        services.delete_standard(standard=obj)

    def delete_queryset(self, request, queryset):
        for standard in queryset:
            services.delete_standard(standard=standard)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            _DELETE[type(obj)](obj)
        for obj in instances:
            _SAVE[type(obj)](obj)
        formset.save_m2m()

    @admin.action(description=_("Publish the selected standards"), permissions=["change"])
    def publish_selected(self, request, queryset: QuerySet[Standard]) -> None:
        for standard in queryset:
            if standard.is_published:
                self.message_user(
                    request,
                    gettext("“%(standard)s” is already published.") % {"standard": standard},
                    messages.WARNING,
                )
                continue
            if not can_move_standard(request.user, standard, "publish"):
                self.message_user(
                    request,
                    gettext("You may not publish “%(standard)s”.") % {"standard": standard},
                    messages.ERROR,
                )
                continue
            try:
                services.publish_standard(standard=standard, actor=request.user)
            except ValidationError as exc:
                self.message_user(
                    request,
                    gettext("“%(standard)s” was not published: %(problems)s")
                    % {"standard": standard, "problems": " ".join(exc.messages)},
                    messages.ERROR,
                )
            except WorkflowError as exc:  # published by someone else since the page was loaded
                self.message_user(request, exc.message, messages.WARNING)
            else:
                self.message_user(
                    request,
                    gettext("“%(standard)s” is published; it can no longer be changed.")
                    % {"standard": standard},
                    messages.SUCCESS,
                )

    @admin.action(description=_("Copy the selected standards to a new draft version"), permissions=["add"])
    def copy_selected_to_new_draft(self, request, queryset: QuerySet[Standard]) -> None:
        for standard in queryset:
            committee = services.UNCHANGED
            if standard.is_global and not request.user.is_superuser:
                # A committee adapts a global standard by taking a copy of its own.
                committees = list(organizations_visible_to(request.user).filter(kind=OrgKind.COMMITTEE)[:2])
                if len(committees) != 1:
                    self.message_user(
                        request,
                        gettext(
                            "“%(standard)s” is shared by all committees; ask a superuser to copy it "
                            "for one of your committees."
                        )
                        % {"standard": standard},
                        messages.ERROR,
                    )
                    continue
                committee = committees[0]
            copy = services.copy_standard_to_new_draft(standard=standard, committee=committee)
            self.message_user(
                request,
                gettext("“%(standard)s” was copied to the new draft “%(copy)s”.")
                % {"standard": standard, "copy": copy},
                messages.SUCCESS,
            )


@admin.register(StandardEvent)
class StandardEventAdmin(EventActionAdminMixin, admin.ModelAdmin):
    """Who published which standard when: read-only, for the standards the user can see."""

    transitions = STANDARD_TRANSITIONS
    list_display = ("at", "standard", "action_label", "from_status", "to_status", "actor")
    list_filter = (EventActionFilter,)
    list_select_related = ("standard", "actor")
    search_fields = ("standard__name",)
    raw_id_fields = ("standard", "actor")
    fields = ("at", "standard", "action_label", "from_status", "to_status", "actor", "note")
    readonly_fields = ("at", "action_label")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(standard__in=standards_visible_to(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StandardListFilter(admin.SimpleListFilter):
    """Filter items by standard, offering only the standards the user can see."""

    title = _("standard")
    parameter_name = "standard"

    def lookups(self, request, model_admin):
        return [(str(standard.pk), str(standard)) for standard in standards_visible_to(request.user)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(dimension__standard_id=self.value())
        return queryset


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "dimension", "standard", "kind", "max_score", "evidence_required")
    list_filter = (StandardListFilter, "kind", "evidence_required")
    list_select_related = ("dimension__standard",)
    search_fields = ("code", "title")
    ordering = (
        "dimension__standard__name",
        "-dimension__standard__version",
        "dimension__order",
        "order",
        "code",
    )
    fields = (
        "dimension",
        "order",
        "code",
        "title",
        "guidance",
        "evidence_hint",
        "evidence_required",
        "max_score",
        "kind",
        "veto_star_cap",
    )

    @admin.display(description=_("standard"), ordering="dimension__standard__name")
    def standard(self, obj: Item) -> Standard:
        return obj.dimension.standard

    def get_queryset(self, request):
        queryset = Item.objects.filter(
            dimension__standard__in=standards_visible_to(request.user)
        ).select_related("dimension__standard")
        return queryset.order_by(*self.get_ordering(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "dimension":
            kwargs["queryset"] = Dimension.objects.filter(
                standard__in=standards_editable_by(request.user)
            ).select_related("standard")
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            # Dimension codes repeat across standards; name the standard in each choice.
            field.label_from_instance = lambda dimension: f"{dimension.standard} · {dimension}"
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _standard_of(self, obj: Item | None) -> Standard | None:
        return None if obj is None else obj.dimension.standard

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _editable(request, self._standard_of(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _editable(request, self._standard_of(obj))

    def save_model(self, request, obj, form, change):
        services.save_item(item=obj)

    def delete_model(self, request, obj):
        services.delete_item(item=obj)

    def delete_queryset(self, request, queryset):
        for item in queryset:
            services.delete_item(item=item)
