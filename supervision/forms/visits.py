"""The visit form (short enough for a phone at the branch) and the task opened from a finding."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from checks.forms.entries import MultipleFileField, MultipleFileInput


class VisitForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None)
    visited_on = forms.DateField(
        label=_("Date of the visit"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Committee members who went"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    others = forms.CharField(
        label=_("Others who went"),
        max_length=200,
        required=False,
        help_text=_("Names of people from outside the committee, if any."),
    )
    checked = forms.CharField(
        label=_("What was checked"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    findings = forms.CharField(
        label=_("Findings"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A finding can then be followed up as a rectification task from the visit's page."),
    )
    photos = MultipleFileField(
        label=_("Photos"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,image/jpeg,image/png"}),
        help_text=_("JPEG or PNG images, at most 10."),
    )

    def __init__(self, *args, branches, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].label_from_instance = lambda org: (
            f"{org.parent.name} · {org.name}" if org.parent_id and org.parent.parent_id else org.name
        )
        self.fields["members"].queryset = members
        self.fields["members"].label_from_instance = lambda user: user.display_name
        self.fields["visited_on"].initial = timezone.localdate()


class VisitFilterForm(forms.Form):
    """The visit list's filters: the quarter, a member who went, a branch."""

    year = forms.IntegerField(label=_("Year"), required=False, min_value=2000, max_value=9999)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any quarter")), *((q, str(q)) for q in range(1, 5))],
    )
    member = forms.ModelChoiceField(label=_("Member"), queryset=None, required=False)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["member"].empty_label = _("Anyone")
        self.fields["member"].label_from_instance = lambda user: user.display_name
        self.fields["year"].widget.attrs["class"] = "form-control form-control-sm"
        for name in ("quarter", "member"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"


class OpenTaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    requirement = forms.CharField(
        label=_("Requirement"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    owner = forms.ModelChoiceField(label=_("Person responsible"), queryset=None)
    deadline = forms.DateField(
        label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].label_from_instance = lambda user: user.display_name
        self.fields["deadline"].initial = timezone.localdate() + datetime.timedelta(days=30)


__all__ = ["OpenTaskForm", "VisitFilterForm", "VisitForm"]
