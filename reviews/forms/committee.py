"""Forms of the committee's pages: opening a cycle, deciding, objections.

They validate input and show messages; the services make the final checks and the writes.
"""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from scoring.models import MAX_STARS, MIN_STARS
from scoring.selectors import published_standards_for
from scoring.templatetags.stars import star_label

from ..models import Cycle
from ..services.cycles import deadline_errors

STAR_LEVELS = range(MAX_STARS, MIN_STARS - 1, -1)


def star_choices(levels=STAR_LEVELS):
    """Star levels, most first, labelled in the language of the request (hence called late)."""
    return [(stars, star_label(stars)) for stars in levels]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class CycleOpenForm(forms.ModelForm):
    """A new cycle of one committee; the star caps are five optional percentages."""

    cap_fields = {stars: f"cap_{stars}" for stars in STAR_LEVELS}

    class Meta:
        model = Cycle
        fields = [
            "name",
            "standard",
            "self_assessment_deadline",
            "preliminary_deadline",
            "scoring_deadline",
            "validity_months",
            "publicity_days",
            "appeal_days",
            "reviewers_per_branch",
            "disagreement_fraction",
        ]
        widgets = {
            "self_assessment_deadline": DateInput(),
            "preliminary_deadline": DateInput(),
            "scoring_deadline": DateInput(),
        }
        help_texts = {
            "name": _("For example “2025—2026年度星级认定”."),
            "standard": _("Only published standards can be used; the cycle keeps this version."),
        }

    def __init__(self, *args, committee, **kwargs):
        super().__init__(*args, **kwargs)
        self.committee = committee
        self.fields["standard"].queryset = published_standards_for(committee).order_by("name", "-version")
        self.fields["standard"].empty_label = None
        self.fields["disagreement_fraction"].initial = Decimal("0.333")
        # A form sent without it (an older page) keeps the model's default of 5 days.
        self.fields["appeal_days"].required = False
        for stars, name in self.cap_fields.items():
            self.fields[name] = forms.DecimalField(
                label=_("Max %% of %(stars)s-star branches") % {"stars": stars},
                required=False,
                min_value=Decimal("0"),
                max_value=Decimal("100"),
                decimal_places=1,
                help_text=_("Leave blank for no cap."),
            )

    def clean(self):
        cleaned = super().clean()
        for field, message in deadline_errors(
            cleaned.get("self_assessment_deadline"),
            cleaned.get("preliminary_deadline"),
            cleaned.get("scoring_deadline"),
        ).items():
            self.add_error(field, message)
        return cleaned

    def clean_appeal_days(self):
        value = self.cleaned_data.get("appeal_days")
        return Cycle._meta.get_field("appeal_days").default if value is None else value

    def _post_clean(self):
        # The service builds and validates the cycle (it needs committee and actor, which the
        # form does not have); skip ModelForm's instance validation to avoid doubled messages.
        pass

    def bound_cap_fields(self):
        return [self[name] for name in self.cap_fields.values()]

    def service_kwargs(self) -> dict:
        data = {field: self.cleaned_data[field] for field in self.Meta.fields}
        data["star_caps"] = {
            str(stars): self.cleaned_data[name]
            for stars, name in self.cap_fields.items()
            if self.cleaned_data.get(name) is not None
        }
        return data


class DecisionForm(forms.Form):
    stars = forms.TypedChoiceField(label=_("Decided star level"), choices=star_choices, coerce=int)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the decision differs from the proposed star level."),
    )


class ObjectionForm(forms.Form):
    received_from = forms.CharField(
        label=_("Received from"),
        required=False,
        max_length=100,
        help_text=_("Who raised the objection; leave blank if anonymous."),
    )
    content = forms.CharField(label=_("Objection"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))


class ResolutionForm(forms.Form):
    resolution = forms.CharField(
        label=_("Resolution"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    substantiated = forms.BooleanField(
        label=_("The objection is substantiated (异议属实)"),
        required=False,
        help_text=_("A rectification task is then opened for the branch."),
    )
