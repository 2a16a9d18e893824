"""Forms of the rounds pages: open a quarterly check, return a sheet's scores."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CheckRoundOpenForm(forms.Form):
    committee = forms.ModelChoiceField(label=_("Working committee"), queryset=None, empty_label=None)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"), coerce=int, choices=[(q, _("Q%(quarter)s") % {"quarter": q}) for q in range(1, 5)]
    )
    self_reports = forms.BooleanField(
        label=_("Secretaries may add a self-report per item"), required=False, initial=True
    )
    self_report_deadline = forms.DateField(
        label=_("Self-report deadline"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Empty: the last day of the quarter."),
    )
    scoring_deadline = forms.DateField(
        label=_("Scoring deadline"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Empty: fifteen days after the quarter."),
    )

    def __init__(self, *args, committees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees
        today = timezone.localdate()
        self.fields["year"].initial = today.year
        self.fields["quarter"].initial = (today.month - 1) // 3 + 1


class CheckSheetReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the scores go back"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The parent reviewer sees this reason and scores the branch again."),
    )


__all__ = ["CheckRoundOpenForm", "CheckSheetReturnForm"]
