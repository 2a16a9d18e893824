"""Forms of the assessment team: choosing reviewers and the score sheet; services do the real checks."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from scoring.arithmetic import VETO_APPLIES, VETO_DOES_NOT_APPLY, ScoreEntry, veto_applies
from scoring.models import Item, ItemKind

from ..selectors import ReviewerOption
from ..services.scoring import MAX_COMMENT
from .widgets import textarea as _textarea


class ReviewerChoiceForm(forms.Form):
    """Tick the reviewers of one assessment; conflicted team members are listed but not offered."""

    reviewers = forms.TypedMultipleChoiceField(
        label=_("Reviewers"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one reviewer.")},
    )

    def __init__(self, *args, options: list[ReviewerOption], **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options
        self.users = {option.user.pk: option.user for option in options}
        self.fields["reviewers"].choices = [
            (option.user.pk, str(option.user)) for option in options if option.eligible
        ]
        if not self.is_bound:
            self.initial["reviewers"] = [option.user.pk for option in options if option.assigned]

    def chosen_users(self) -> list:
        return [self.users[pk] for pk in self.cleaned_data["reviewers"]]


class ScoreSheetForm(forms.Form):
    """One score and one comment per item (a checkbox for veto items), named by item pk."""

    def __init__(self, *args, items: list[Item], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        self._field_for_code: dict[str, str] = {}
        for item in items:
            if item.kind == ItemKind.VETO:
                name = f"veto_{item.pk}"
                self.fields[name] = forms.BooleanField(
                    label=_("The veto applies"),
                    required=False,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
            else:
                name = f"score_{item.pk}"
                self.fields[name] = forms.DecimalField(
                    label=_("Score"),
                    required=False,
                    min_value=Decimal("0"),
                    max_value=item.max_score,
                    max_digits=5,
                    decimal_places=1,
                    widget=forms.NumberInput(
                        attrs={
                            "class": "form-control",
                            "step": "0.1",
                            "min": "0",
                            "max": str(item.max_score),
                            "inputmode": "decimal",
                        }
                    ),
                )
            self._field_for_code[item.code] = name
            self.fields[f"comment_{item.pk}"] = forms.CharField(
                label=_("Comment"),
                required=False,
                max_length=MAX_COMMENT,
                widget=_textarea(2),
            )

    @staticmethod
    def initial_from(items: list[Item], scores: dict) -> dict:
        """Initial values from ReviewScore rows keyed by item pk."""
        initial = {}
        for item in items:
            row = scores.get(item.pk)
            if row is None:
                continue
            if item.kind == ItemKind.VETO:
                initial[f"veto_{item.pk}"] = veto_applies(row.score)
            else:
                initial[f"score_{item.pk}"] = row.score
            initial[f"comment_{item.pk}"] = row.comment
        return initial

    def rows(self) -> list[tuple[Item, forms.BoundField, forms.BoundField]]:
        """(item, score field, comment field) in sheet order, for the template."""
        result = []
        for item in self.items:
            name = self._field_for_code[item.code]
            result.append((item, self[name], self[f"comment_{item.pk}"]))
        return result

    def entries(self) -> dict[int, ScoreEntry]:
        data = self.cleaned_data
        entries = {}
        for item in self.items:
            comment = data.get(f"comment_{item.pk}", "")
            if item.kind == ItemKind.VETO:
                score = VETO_APPLIES if data.get(f"veto_{item.pk}") else VETO_DOES_NOT_APPLY
            else:
                score = data.get(f"score_{item.pk}")
            entries[item.pk] = ScoreEntry(score, comment)
        return entries

    def add_service_errors(self, error: ValidationError) -> None:
        """Put the service's errors (keyed by item code) on the matching fields."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for code, messages in error.message_dict.items():
            name = self._field_for_code.get(code)
            if name is None:
                self.add_error(None, messages)
            else:
                # A missing score is marked on the score; anything else (a deduction without a
                # comment, a veto without a reason) on the comment, where the fix goes.
                missing = name.startswith("score_") and self.cleaned_data.get(name) is None
                target = name if missing else f"comment_{name.split('_', 1)[1]}"
                self.add_error(target, messages)


__all__ = ["ReviewerChoiceForm", "ScoreSheetForm"]
