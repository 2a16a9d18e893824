"""The monthly check (月检查) form: short enough to fill in on a phone at the branch."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reviews.uploads import ACCEPT_ATTRIBUTE


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(one, initial) for one in data]
        return [super().clean(data, initial)] if data else []


class CheckEntryForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None)
    checked_on = forms.DateField(
        label=_("Date of the check"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    items = forms.ModelMultipleChoiceField(
        label=_("Items looked at"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    findings = forms.CharField(label=_("Findings"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    violation = forms.BooleanField(
        label=_("A violation (违规违纪) was found"),
        required=False,
        help_text=_("The committee's approver then gets a downgrade proposal with this check as evidence."),
    )
    violation_note = forms.CharField(label=_("Violation"), max_length=200, required=False)
    files = MultipleFileField(label=_("Evidence files"), required=False)

    def __init__(self, *args, branches, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].label_from_instance = lambda org: f"{org.parent.name} · {org.name}"
        self.fields["items"].queryset = items
        self.fields["items"].label_from_instance = lambda item: f"{item.code} {item.title}"
        self.fields["checked_on"].initial = timezone.localdate()


__all__ = ["CheckEntryForm", "MultipleFileField", "MultipleFileInput"]
