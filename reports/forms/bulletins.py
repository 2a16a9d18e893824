"""The "generate now" forms of the bulletin list: a committee the user manages and a quarter,
or a year for the year bulletin (年度通报)."""

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from branches.models import ORG_ORDER, Organization

from ..bulletin.year import check_year_ready
from ..quarters import check_quarter, previous_quarter, quarter_label, quarter_of

QUARTERS_OFFERED = 8


def quarter_choices(today=None) -> list[tuple[str, str]]:
    """This quarter and the ones before it, newest first, as ("2026-3", "Q3 2026")."""
    year, quarter = quarter_of(today or timezone.localdate())
    choices = []
    for steps in range(QUARTERS_OFFERED):
        y, q = previous_quarter(year, quarter, steps=steps)
        choices.append((f"{y}-{q}", quarter_label(y, q)))
    return choices


class BulletinGenerateForm(forms.Form):
    committee = forms.ModelChoiceField(
        label=gettext_lazy("Working committee"), queryset=Organization.objects.none(), empty_label=None
    )
    quarter = forms.ChoiceField(label=gettext_lazy("Quarter"))

    def __init__(self, *args, committees: QuerySet[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees.order_by(*ORG_ORDER)
        choices = quarter_choices()
        self.fields["quarter"].choices = choices
        # The usual case: the bulletin of the quarter that has just ended.
        self.fields["quarter"].initial = choices[1][0]

    def clean_quarter(self) -> tuple[int, int]:
        year, quarter = (int(part) for part in self.cleaned_data["quarter"].split("-"))
        check_quarter(year=year, quarter=quarter)
        return year, quarter


YEARS_OFFERED = 3


class YearBulletinGenerateForm(forms.Form):
    """A committee the user manages and one of the last years; refused, with the quarters still
    unpublished named, until the year's four quarterly checks are published."""

    committee = forms.ModelChoiceField(
        label=gettext_lazy("Working committee"), queryset=Organization.objects.none(), empty_label=None
    )
    year = forms.TypedChoiceField(label=gettext_lazy("Year"), coerce=int)

    def __init__(self, *args, committees: QuerySet[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees.order_by(*ORG_ORDER)
        this_year = timezone.localdate().year
        self.fields["year"].choices = [(y, str(y)) for y in range(this_year, this_year - YEARS_OFFERED, -1)]
        # The usual case: the year that has just ended.
        self.fields["year"].initial = this_year - 1

    def clean(self):
        data = super().clean()
        if data.get("committee") and data.get("year"):
            check_year_ready(data["committee"].pk, data["year"])
        return data
