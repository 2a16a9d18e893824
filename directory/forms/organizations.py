"""Forms of the organization pages: search, and create / edit / move an organization."""

from django import forms
from django.utils.translation import gettext_lazy as _

from branches.models import BranchStage, Organization, OrgKind

from ..selectors import parent_choices


class OrgSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or code"), required=False, max_length=100)
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("yes", _("Active")), ("no", _("Inactive"))],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


def path_labels(orgs: list[Organization]) -> dict[int, str]:
    """Each organization's place in the tree as text, "市直机关工委 › 教育局党委" (one query)."""
    ancestor_ids = {pk for org in orgs for pk in org.ancestor_ids}
    names = dict(Organization.objects.filter(pk__in=ancestor_ids).values_list("pk", "name"))
    return {org.pk: " › ".join(names.get(pk, "?") for pk in org.ancestor_ids) for org in orgs}


class PathChoiceField(forms.ModelChoiceField):
    """A parent organization, shown with the path from the committee down."""

    labels: dict[int, str] = {}

    def label_from_instance(self, obj):
        return self.labels.get(obj.pk, obj.name)


class OrganizationForm(forms.Form):
    """What an organization is and where it stands; the service checks the tree's rules."""

    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_("A unique short code, e.g. the organization's number in the party-member system."),
    )
    kind = forms.ChoiceField(label=_("Kind"))
    parent = PathChoiceField(
        label=_("Parent organization"), queryset=Organization.objects.none(), required=False
    )
    stage = forms.ChoiceField(
        label=_("Stage"),
        required=False,
        choices=[("", "—"), *BranchStage.choices],
        help_text=_("Party branches only."),
    )
    sort_order = forms.IntegerField(
        label=_("Order"),
        initial=0,
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text=_("Organizations are listed by this number, then by code (smaller first)."),
    )

    def __init__(self, *args, user, instance: Organization | None = None, **kwargs):
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": instance.name,
                    "code": instance.code,
                    "kind": instance.kind,
                    "parent": instance.parent_id,
                    "stage": instance.stage,
                    "sort_order": instance.sort_order,
                },
            )
        super().__init__(*args, **kwargs)
        self.instance = instance
        kinds = list(OrgKind.choices)
        if not user.is_superuser and not (instance is not None and instance.is_committee):
            # A new working committee is the system administrator's to create.
            kinds = [(value, label) for value, label in kinds if value != OrgKind.COMMITTEE]
        self.fields["kind"].choices = kinds
        choices = parent_choices(user, moving=instance)
        orgs = list(choices)
        if instance is not None and instance.parent_id and instance.parent_id not in {o.pk for o in orgs}:
            # The current parent stays a choice even when it is above the user's scope.
            orgs.append(instance.parent)
            choices = Organization.objects.filter(pk__in=[o.pk for o in orgs]).order_by("path")
        self.fields["parent"].queryset = choices
        self.fields["parent"].labels = path_labels(orgs)
        if instance is not None and instance.is_committee:
            self.fields["kind"].disabled = True
            self.fields["parent"].disabled = True

    def clean(self):
        data = super().clean()
        if data.get("kind") != OrgKind.BRANCH:
            data["stage"] = ""
        return data
