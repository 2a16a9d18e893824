"""The "generate now" form of the bulletin list: a committee the user manages and a quarter."""

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from branches.models import ORG_ORDER, Organization

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
