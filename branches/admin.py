"""Admin for organizations, people and roles, scoped for staff who are not superusers.

A non-superuser staff member (party-affairs staff) sees and edits only the organizations
in the subtrees where they hold the staff role, the role assignments on those, and the
users who hold a role there (or none yet, so a new account can be given its first role).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from . import selectors as scoping
from .models import CommitteePolicy, Organization, RoleAssignment, User
from .roles import Role
from .services.organizations import save_organization


def staff_organizations(request):
    return scoping.organizations_for_role(request.user, Role.STAFF)


class ScopedAdminMixin:
    """Limits rows and foreign-key choices to the staff member's organizations."""

    org_lookup = "organization"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.org_lookup}__in": staff_organizations(request)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Organization and not request.user.is_superuser:
            kwargs["queryset"] = staff_organizations(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CommitteePolicyInline(admin.StackedInline):
    model = CommitteePolicy
    can_delete = False
    extra = 0
    max_num = 1


@admin.register(Organization)
class OrganizationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    org_lookup = "pk"
    list_display = ["indented_name", "code", "sort_order", "kind", "stage", "is_active"]
    list_editable = ["sort_order"]
    list_filter = ["kind", "stage", "is_active"]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]
    readonly_fields = ["path", "depth", "created_at"]
    fields = [
        "name",
        "code",
        "sort_order",
        "kind",
        "parent",
        "stage",
        "is_active",
        "path",
        "depth",
        "created_at",
    ]
    list_per_page = 100
    # The indented tree: each node under its parent (the model's own order is a flat one).
    ordering = ["path"]
    inlines = [CommitteePolicyInline]

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj):
        return ("— " * obj.depth) + obj.name

    def get_inlines(self, request, obj):
        return [CommitteePolicyInline] if obj is not None and obj.is_committee else []

    def save_model(self, request, obj, form, change):
        save_organization(org=obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent" and not request.user.is_superuser:
            kwargs["queryset"] = staff_organizations(request).exclude(kind="branch")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not request.user.is_superuser and "parent" in form.base_fields:
            # Staff cannot create a new top-level committee; that is the superuser's job.
            form.base_fields["parent"].required = True
        return form


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "role", "organization", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__real_name", "organization__name"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user"]
    list_per_page = 100

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = scoped_users(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    fk_name = "user"
    fields = ["role", "organization"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization" and not request.user.is_superuser:
            kwargs["queryset"] = staff_organizations(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("organization")
        if request.user.is_superuser:
            return qs
        return qs.filter(organization__in=staff_organizations(request))


def scoped_users(request):
    """Users holding a role in the staff member's organizations, or no role at all."""
    qs = User.objects.all()
    if request.user.is_superuser:
        return qs
    in_scope = RoleAssignment.objects.filter(
        user=OuterRef("pk"), organization__in=staff_organizations(request)
    )
    any_role = RoleAssignment.objects.filter(user=OuterRef("pk"))
    return qs.filter(Q(Exists(in_scope)) | ~Q(Exists(any_role))).filter(is_superuser=False)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "real_name", "phone", "email", "is_active", "is_staff"]
    search_fields = ["username", "real_name", "phone", "email"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["real_name", "phone", "email"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "real_name", "phone", "password1", "password2"]}),
    ]
    inlines = [RoleAssignmentInline]

    def get_queryset(self, request):
        return scoped_users(request) if not request.user.is_superuser else super().get_queryset(request)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        # Staff manage accounts and roles, never privileges.
        return ["is_staff", "is_superuser", "groups", "user_permissions", "last_login", "date_joined"]
