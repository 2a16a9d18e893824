"""The form a member of the committee's tree fills in to lodge an objection to a published result."""

from django import forms
from django.utils.translation import gettext_lazy as _


class LodgeObjectionForm(forms.Form):
    content = forms.CharField(
        label=_("Your objection"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What you object to in this result, and why."),
    )
    contact = forms.CharField(
        label=_("How to reach you (optional)"),
        required=False,
        max_length=100,
        help_text=_("A phone number or e-mail address, if the committee may need to ask you more."),
    )
