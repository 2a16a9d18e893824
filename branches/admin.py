"""Admin for organizations, people and roles, scoped for staff who are not superusers.

A non-superuser staff member (party-affairs staff) sees and edits only the organizations
in the subtrees where they hold the staff role, the role assignments on those, and the
users who hold a role there, or none that their committee's audit trail records (a new
account, to be given its first role) — the same people as the site's (``people_visible_to``).
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from . import selectors as scoping
from .audit import AuditAction, committee_of_actor, form_changes, record, snapshot
from .models import CommitteePolicy, Organization, RoleAssignment, User
from .roles import Role
from .services import people as people_services
from .services.organizations import save_organization_recorded


def staff_organizations(request):
    return scoping.organizations_for_role(request.user, Role.STAFF)


class OrganizationChoiceField(forms.ModelChoiceField):
    """An organization select whose options say "name（parent name）": branch names repeat across the tree."""

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset.select_related("parent"), **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.parent.name}）" if obj.parent_id else obj.name


class ScopedAdminMixin:
    """Limits rows and foreign-key choices to the staff member's organizations."""

    org_lookup = "organization"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.org_lookup}__in": staff_organizations(request)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Organization:
            kwargs.setdefault("form_class", OrganizationChoiceField)
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
        save_organization_recorded(org=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        """The committee policy: saved as the admin does, each change recorded with from → to."""
        changed = [(inline, form_changes(inline)) for inline in formset.forms if inline.has_changed()]
        super().save_formset(request, form, formset, change)
        for inline, changes in changed:
            if changes and inline.instance.pk:
                record(
                    actor=request.user,
                    action=AuditAction.UPDATE,
                    target=inline.instance,
                    committee=inline.instance.committee,
                    changes=changes,
                )

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


class RoleAssignmentAdminForm(forms.ModelForm):
    """Separation of duties in the admin too: the same refusals as the people pages."""

    actor = None  # set per request by the admin (admin_form_for)

    def clean(self):
        data = super().clean()
        user = data.get("user") or (self.instance.user if self.instance.user_id else None)
        role, organization = data.get("role"), data.get("organization")
        if user is None or role is None or organization is None or self.actor is None:
            return data
        if self.instance.pk and not self.has_changed():
            return data  # an untouched row of the inline: nothing is granted or removed
        if user.pk == self.actor.pk:
            raise forms.ValidationError(_("Nobody may grant or remove a role of their own."))
        wanted = [(role, organization)]
        if self.instance.pk and self.has_changed():
            wanted.append((self.instance.role, self.instance.organization))
        for held_role, held_on in wanted:
            if not people_services.may_grant(self.actor, held_role, held_on):
                raise forms.ValidationError(
                    _("Only a system administrator may grant or remove this role here.")
                    if people_services.role_needs_superuser(held_role, held_on)
                    else _("You may grant roles only within your own organizations.")
                )
        return data


def admin_form_for(request, form_class=RoleAssignmentAdminForm):
    return type(form_class.__name__, (form_class,), {"actor": request.user})


def save_assignment_through_services(request, obj: RoleAssignment) -> RoleAssignment:
    """Grant (or, for an edited row, remove the old and grant the new) through the people service."""
    if obj.pk:
        old = RoleAssignment.objects.select_related("organization").get(pk=obj.pk)
        if (old.user_id, old.role, old.organization_id) == (obj.user_id, obj.role, obj.organization_id):
            return old
        people_services.revoke_role(actor=request.user, assignment=old)
        obj.pk = None
    granted = people_services.grant_role(
        actor=request.user, user=obj.user, role=obj.role, organization=obj.organization
    )
    obj.pk = granted.pk
    return granted


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

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = admin_form_for(request)
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        save_assignment_through_services(request, obj)

    def delete_model(self, request, obj):
        people_services.revoke_role(actor=request.user, assignment=obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            if people_services.may_grant(request.user, assignment.role, assignment.organization):
                people_services.revoke_role(actor=request.user, assignment=assignment)


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    fk_name = "user"
    fields = ["role", "organization"]

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = admin_form_for(request)
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization":
            kwargs.setdefault("form_class", OrganizationChoiceField)
        if db_field.name == "organization" and not request.user.is_superuser:
            kwargs["queryset"] = staff_organizations(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("organization")
        if request.user.is_superuser:
            return qs
        return qs.filter(organization__in=staff_organizations(request))


class AuditedAdminMixin:
    """For an admin of another app's model (the beat schedule): every save and delete recorded."""

    def save_model(self, request, obj, form, change):
        changes = form_changes(form) if change else {}
        super().save_model(request, obj, form, change)
        if change and not changes:
            return
        if not change:
            changes = {name: [None, value] for name, value in form_changes(form).items()}
        record(
            actor=request.user,
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            target=obj,
            committee=committee_of_actor(request.user),
            changes=changes,
        )

    def delete_model(self, request, obj):
        record(
            actor=request.user,
            action=AuditAction.DELETE,
            target=obj,
            committee=committee_of_actor(request.user),
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record(
                actor=request.user,
                action=AuditAction.DELETE,
                target=obj,
                committee=committee_of_actor(request.user),
            )
        super().delete_queryset(request, queryset)


def scoped_users(request):
    """The people the staff member looks after, as on the site (``people_visible_to``)."""
    return scoping.people_visible_to(request.user)


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

    def has_change_permission(self, request, obj=None):
        # Separation of duties: only someone who may grant every role of the person changes them.
        if (
            obj is not None
            and not request.user.is_superuser
            and not people_services.may_manage_person(request.user, obj)
        ):
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        changes = form_changes(form) if change else {}
        super().save_model(request, obj, form, change)
        if change and not changes:
            return
        if not change:
            changes = {
                name: [None, value]
                for name, value in snapshot(obj, people_services.PERSON_AUDITED_FIELDS).items()
            }
        action = AuditAction.UPDATE if change else AuditAction.CREATE
        if change and set(changes) == {"is_active"}:
            action = AuditAction.REACTIVATE if obj.is_active else AuditAction.DEACTIVATE
        record(
            actor=request.user,
            action=action,
            target=obj,
            target_label=people_services.person_audit_label(obj),
            committee=people_services.person_audit_committee(request.user, obj),
            changes=changes,
        )

    def save_formset(self, request, form, formset, change):
        """Roles added, changed or removed here go through the people service (and its record)."""
        if formset.model is not RoleAssignment:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for assignment in formset.deleted_objects:
            people_services.revoke_role(actor=request.user, assignment=assignment)
        for assignment, _fields in formset.changed_objects:
            save_assignment_through_services(request, assignment)
        for assignment in formset.new_objects:
            assignment.user = form.instance
            save_assignment_through_services(request, assignment)
        formset.save_m2m()

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.get(pk=id)
            record(
                actor=request.user,
                action=AuditAction.RESET_PASSWORD,
                target=user,
                target_label=people_services.person_audit_label(user),
                committee=people_services.person_audit_committee(request.user, user),
                note=str(_("Set in the administration site")),
            )
        return response

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        # Staff manage accounts and roles, never privileges.
        return ["is_staff", "is_superuser", "groups", "user_permissions", "last_login", "date_joined"]
