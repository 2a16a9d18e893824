"""The "start now" form of the job list: a committee, a quarter, and which jobs."""

from django import forms
from django.utils.translation import gettext_lazy

from ..quarters import FIRST_YEAR, LAST_YEAR, check_quarter

BULLETIN, NOTICES = "bulletin", "notices"


class JobStartForm(forms.Form):
    """Which committee, quarter and jobs; the committee is checked against the scope in the view."""

    committee = forms.IntegerField(label=gettext_lazy("Working committee"), widget=forms.Select)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=FIRST_YEAR, max_value=LAST_YEAR)
    quarter = forms.TypedChoiceField(
        label=gettext_lazy("Quarter"), coerce=int, choices=[(q, f"Q{q}") for q in range(1, 5)]
    )
    jobs = forms.MultipleChoiceField(
        label=gettext_lazy("Jobs"),
        widget=forms.CheckboxSelectMultiple,
        choices=[
            (BULLETIN, gettext_lazy("Quarterly bulletin")),
            (NOTICES, gettext_lazy("Quarterly notices")),
        ],
    )

    def __init__(self, *args, committees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].widget.choices = [(c.pk, c.name) for c in committees]

    def clean(self):
        data = super().clean()
        if data.get("year") and data.get("quarter"):
            check_quarter(year=data["year"], quarter=data["quarter"])  # a quarter that has begun
        return data
