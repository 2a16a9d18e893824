"""The approver's answer to a downgrade proposal: downgrade (the existing downgrade) or dismiss."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ProposalDecisionForm(forms.Form):
    DOWNGRADE, DISMISS = "downgrade", "dismiss"
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(DOWNGRADE, _("Lower the star level")), (DISMISS, _("Dismiss the proposal"))],
        widget=forms.RadioSelect,
    )
    to_stars = forms.TypedChoiceField(label=_("New star level"), coerce=int, required=False, choices=())
    violation = forms.CharField(label=_("Violation cited"), max_length=200, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, stars: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stars"].choices = [(level, f"{level} ★") for level in range(stars - 1, 0, -1)]


__all__ = ["ProposalDecisionForm"]
