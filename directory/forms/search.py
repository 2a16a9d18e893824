"""The branch search box."""

from django import forms
from django.utils.translation import gettext_lazy as _


class BranchSearchForm(forms.Form):
    q = forms.CharField(label=_("Branch name or code"), required=False, max_length=100)
