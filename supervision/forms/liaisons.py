"""Giving a committee member liaison branches: pick the member, then several branches at once."""

from django import forms
from django.utils.translation import gettext_lazy as _


class LiaisonAssignForm(forms.Form):
    committee = forms.ModelChoiceField(label=_("Working committee"), queryset=None)
    member = forms.ModelChoiceField(label=_("Committee member"), queryset=None)
    branches = forms.ModelMultipleChoiceField(
        label=_("Branches"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick every branch this member is to look after."),
    )

    def __init__(self, *args, committees, members, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda user: f"{user.display_name}（{user.username}）"
        self.fields["branches"].queryset = branches
        self.fields["branches"].label_from_instance = lambda org: (
            f"{org.parent.name} · {org.name}" if org.parent_id and org.parent.parent_id else org.name
        )

    def clean(self):
        data = super().clean()
        committee, branches = data.get("committee"), data.get("branches")
        if committee is not None and branches and any(b.ancestor_ids[0] != committee.pk for b in branches):
            self.add_error("branches", _("Choose branches of this committee."))
        return data


class LiaisonFilterForm(forms.Form):
    """The parent organization whose branches the form lists (a committee can have hundreds)."""

    parent = forms.ModelChoiceField(label=_("Branches of"), queryset=None, required=False)

    def __init__(self, *args, parents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents
        self.fields["parent"].empty_label = _("All branches")
        self.fields["parent"].widget.attrs["class"] = "form-select form-select-sm"


class LiaisonRemoveForm(forms.Form):
    """Nothing to fill in: the confirmation page's button."""


__all__ = ["LiaisonAssignForm", "LiaisonFilterForm", "LiaisonRemoveForm"]
