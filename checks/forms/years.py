"""The parent organization records the action taken on a 班子调整 flag."""

from django import forms
from django.utils.translation import gettext_lazy as _


class FlagActionForm(forms.Form):
    action_taken = forms.CharField(
        label=_("Action taken"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("How the branch's leadership was adjusted (e.g. a new secretary elected)."),
    )
    action_on = forms.DateField(
        label=_("Date of the action"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


__all__ = ["FlagActionForm"]
