"""Forms of the people pages: filters, an account, a role to grant; the password change at first sign-in."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from branches.models import ROLE_ORG_KINDS, Organization, OrgKind
from branches.roles import Role
from branches.services.people import may_grant, role_needs_superuser

from ..selectors import NON_BRANCH_KINDS, organization_label, staff_scope


class PersonFilterForm(forms.Form):
    q = forms.CharField(label=_("User name, name or phone"), required=False, max_length=100)
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("Any role")), *Role.choices])
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        required=False,
        queryset=Organization.objects.none(),
        empty_label=_("Any organization"),
    )
    active = forms.ChoiceField(
        label=_("Account"),
        required=False,
        choices=[("", _("All")), ("yes", _("Active")), ("no", _("Deactivated"))],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        field.queryset = staff_scope(user).filter(kind__in=NON_BRANCH_KINDS).select_related("parent")
        field.label_from_instance = organization_label
        for name in ("role", "organization", "active"):
            self.fields[name].widget.attrs["class"] = "form-select"


class PersonForm(forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        help_text=_("Letters, digits and @ . + - _ only; used to sign in."),
    )
    real_name = forms.CharField(label=_("Real name"), max_length=50, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)

    def __init__(self, *args, instance=None, **kwargs):
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "username": instance.username,
                    "real_name": instance.real_name,
                    "phone": instance.phone,
                    "email": instance.email,
                },
            )
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["username"].disabled = True
            self.fields["username"].help_text = _("A user name cannot be changed.")


class RoleGrantForm(forms.Form):
    """A role and an organization, offered only as far as the actor may grant them."""

    role = forms.ChoiceField(label=_("Role"))
    organization = forms.ModelChoiceField(label=_("Organization"), queryset=Organization.objects.none())

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["role"].choices = [
            (value, label)
            for value, label in Role.choices
            if actor.is_superuser or value != Role.COMMITTEE_APPROVER
        ]
        scope = Organization.objects.all() if actor.is_superuser else staff_scope(actor)
        field = self.fields["organization"]
        field.queryset = scope.filter(is_active=True).select_related("parent").order_by("path")
        field.label_from_instance = organization_label
        field.help_text = _(
            "A branch secretary is held on a party branch, a preliminary reviewer on a party committee "
            "or general branch, the assessment team and the approver on the working committee."
        )

    def clean(self):
        data = super().clean()
        role, organization = data.get("role"), data.get("organization")
        if role and organization is not None:
            if organization.kind not in ROLE_ORG_KINDS[role]:
                self.add_error(
                    "organization",
                    _("The role “%(role)s” cannot be held on a %(kind)s.")
                    % {"role": Role(role).label, "kind": OrgKind(organization.kind).label},
                )
            elif not may_grant(self.actor, role, organization):
                if role_needs_superuser(role, organization):
                    message = _("Only a system administrator may grant this role on a working committee.")
                else:
                    message = _("You may grant roles only within your own organizations.")
                self.add_error("organization", message)
        return data


class FirstPasswordChangeForm(PasswordChangeForm):
    """Django's password change, which also clears the "change it at first sign-in" flag."""

    def save(self, commit=True):
        self.user.must_change_password = False
        return super().save(commit=commit)
