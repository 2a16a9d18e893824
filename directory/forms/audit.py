"""The audit trail's filters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from branches.audit import AuditAction


class DateInputField(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


AUDIT_TARGET_TYPES = [
    ("organization", _("Organization")),
    ("user", _("Person")),
    ("standard", _("Standard")),
    ("committeepolicy", _("Committee policy")),
    ("periodictask", _("Scheduled job")),
    ("crontabschedule", _("Schedule")),
]


class AuditFilterForm(forms.Form):
    target_type = forms.ChoiceField(
        label=_("Object type"), required=False, choices=[("", _("Any")), *AUDIT_TARGET_TYPES]
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any")), *AuditAction.choices]
    )
    actor = forms.CharField(label=_("By"), required=False, max_length=100)
    since = forms.DateField(label=_("Date from"), required=False, widget=DateInputField())
    until = forms.DateField(label=_("Date to"), required=False, widget=DateInputField())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data
