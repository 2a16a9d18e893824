"""Forms of rectification tasks: open by hand, confirm, dismiss, report progress, send back, accept."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from checks.forms.entries import MultipleFileField

from ..services.tasks import DEFAULT_DEADLINE_DAYS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _person_label(user) -> str:
    return f"{user.display_name} ({user.username})"


def _default_deadline() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=DEFAULT_DEADLINE_DAYS)


class TaskOpenForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None)
    title = forms.CharField(label=_("Title"), max_length=200)
    requirement = forms.CharField(
        label=_("Requirement"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What is to be rectified, and what counts as done."),
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DATE_WIDGET)

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].label_from_instance = lambda org: (
            f"{org.parent.name} · {org.name}" if org.parent_id else org.name
        )
        self.fields["branch"].help_text = _("The branch secretary becomes the person responsible.")
        self.fields["deadline"].initial = _default_deadline()


class TaskConfirmForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Person responsible"), queryset=None)
    deadline = forms.DateField(label=_("Deadline"), widget=DATE_WIDGET)
    requirement = forms.CharField(
        label=_("Requirement"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].label_from_instance = _person_label
        self.fields["deadline"].initial = _default_deadline()


class TaskDismissForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class TaskReportForm(forms.Form):
    text = forms.CharField(
        label=_("What has been done"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    files = MultipleFileField(label=_("Evidence files"), required=False)


class TaskSendBackForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is sent back"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    deadline = forms.DateField(
        label=_("New deadline"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Leave empty to keep the current deadline."),
    )


class TaskAcceptForm(forms.Form):
    note = forms.CharField(
        label=_("Comment"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm = forms.BooleanField(
        label=_("I confirm the rectification is done; the task is closed and cannot be reopened."),
        required=True,
    )


__all__ = [
    "TaskAcceptForm",
    "TaskConfirmForm",
    "TaskDismissForm",
    "TaskOpenForm",
    "TaskReportForm",
    "TaskSendBackForm",
]
