"""Forms of the preliminary review (初审): forward with a recommendation, or return with a reason."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..services.preliminary import MAX_TEXT
from .widgets import textarea as _textarea


class ForwardForm(forms.Form):
    recommendation = forms.CharField(
        label=_("Recommendation to the committee"),
        max_length=MAX_TEXT,
        widget=_textarea(4),
        help_text=_("Why the branch deserves the level it declares, or what the committee should check."),
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for returning"),
        max_length=MAX_TEXT,
        widget=_textarea(4),
        help_text=_("The branch sees this reason and can correct its self-assessment."),
    )


__all__ = ["ForwardForm", "ReturnForm"]
