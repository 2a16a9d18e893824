"""The self-assessment form: one score (or veto checkbox) and one explanation per item.

On a deduction item the score is the points deducted, and above 0 it needs an explanation:
that pair is checked together, and kept at its saved values until both are right.

Fields are validated one by one, so a draft can keep every valid field even when others are
wrong: ``entries()`` hands the service the valid values and, for an invalid field, the value
already saved, while the bound form still shows what was typed next to its error.
"""

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from scoring.arithmetic import ScoreEntry, ScoreError, validate_item_score, veto_applies
from scoring.models import Dimension, Item, ItemKind
from scoring.templatetags.stars import star_label

from ..models import Evidence, SelfScore
from ..services.assessment import DEDUCTION_NEEDS_REASON, EXPLANATION_MAX_LENGTH


class ScoreField(forms.CharField):
    """A one-decimal score from 0 to the item's points, checked by scoring.arithmetic."""

    def __init__(self, *, max_score: Decimal, **kwargs):
        self.max_score = max_score
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value) -> Decimal | None:
        text = super().to_python(value)
        if not text:
            return None
        # Phones with a Chinese keyboard may type a full-width point or digits.
        text = text.replace("．", ".").replace("。", ".").translate(_FULL_WIDTH_DIGITS)
        try:
            return validate_item_score(text, self.max_score)
        except ScoreError as error:
            raise ValidationError(str(error), code="score") from None


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def score_field_name(item: Item) -> str:
    return f"{'applies' if item.kind == ItemKind.VETO else 'score'}_{item.pk}"


def explanation_field_name(item: Item) -> str:
    return f"explanation_{item.pk}"


def evidence_field_name(item: Item) -> str:
    return f"evidence_{item.pk}"


STAR_CHOICES = [("", _("— choose —"))] + [(str(n), lazy(star_label, str)(n)) for n in range(1, 6)]


class SelfAssessmentForm(forms.Form):
    declared_stars = forms.TypedChoiceField(
        label=_("Declared star level"),
        choices=STAR_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(
        self,
        data=None,
        *,
        items: Sequence[Item],
        self_scores: Mapping[int, SelfScore],
        declared_stars: int | None,
        **kwargs,
    ):
        self.items = list(items)
        self.saved = self_scores
        initial = {"declared_stars": declared_stars}
        for item in self.items:
            row = self_scores.get(item.pk)
            score = row.score if row else None
            if item.kind == ItemKind.VETO:
                initial[score_field_name(item)] = veto_applies(score)
            else:
                initial[score_field_name(item)] = "" if score is None else str(score)
            initial[explanation_field_name(item)] = row.explanation if row else ""
        super().__init__(data, initial=initial, **kwargs)
        for item in self.items:
            if item.kind == ItemKind.VETO:
                self.fields[score_field_name(item)] = forms.BooleanField(
                    label=_("This applies to our branch"), required=False
                )
            else:
                self.fields[score_field_name(item)] = ScoreField(
                    label=_("Points deducted") if item.kind == ItemKind.DEDUCTION else _("Self-score"),
                    max_score=item.max_score,
                )
            self.fields[explanation_field_name(item)] = forms.CharField(
                label=_("Explanation"), required=False, max_length=EXPLANATION_MAX_LENGTH
            )

    def clean(self):
        cleaned = super().clean()
        for item in self.items:
            if item.kind != ItemKind.DEDUCTION:
                continue
            score_name, explanation_name = score_field_name(item), explanation_field_name(item)
            score = cleaned.get(score_name)
            if (
                score is not None
                and score > 0
                and explanation_name in cleaned
                and not cleaned[explanation_name].strip()
            ):
                # The item keeps what is saved (score and explanation) until both are typed;
                # the page shows what was typed with the message, so nothing is lost.
                self.add_error(explanation_name, str(DEDUCTION_NEEDS_REASON))
                cleaned.pop(score_name, None)
        return cleaned

    def _valid_or_saved(self, name: str):
        """The cleaned value of a valid field, else the value already saved (kept unchanged)."""
        if name in self.cleaned_data:
            return self.cleaned_data[name]
        return self.initial.get(name)

    def entries(self) -> dict[int, ScoreEntry]:
        """Item id → (score or veto flag, explanation) for the service, valid fields only."""
        result: dict[int, ScoreEntry] = {}
        for item in self.items:
            score = self._valid_or_saved(score_field_name(item))
            if item.kind != ItemKind.VETO and score == "":
                score = None
            explanation = self._valid_or_saved(explanation_field_name(item)) or ""
            result[item.pk] = ScoreEntry(score, explanation)
        return result

    def declared_stars_value(self) -> int | None:
        return self._valid_or_saved("declared_stars")

    def rows(
        self,
        dimensions: Iterable[Dimension],
        evidence: Mapping[int, list[Evidence]],
        upload_errors: Mapping[int, list[str]] | None = None,
    ) -> list[dict]:
        """The form laid out for the page: dimension by dimension, one card per item.

        Plain dictionaries computed once, because the page reads each value several times over
        its one card per item: a key is the template engine's quickest lookup, while a bound
        field works out its name, id, value and errors again on every access.
        """
        upload_errors = upload_errors or {}
        return [
            {
                "dimension": dimension,
                "items": [
                    item_row(
                        item,
                        score=self[score_field_name(item)],
                        explanation=self[explanation_field_name(item)],
                        evidence=evidence.get(item.pk, []),
                        upload_errors=upload_errors.get(item.pk, []),
                    )
                    for item in dimension.items.all()
                ],
            }
            for dimension in dimensions
        ]


def field_view(bound: forms.BoundField) -> dict:
    """What the page reads of one field: its name, id, value and errors."""
    errors = bound.errors
    return {
        "html_name": bound.html_name,
        "auto_id": bound.auto_id,
        "value": bound.value(),
        # An ErrorList iterates through Sequence.__iter__ (an IndexError per list): most are empty.
        "errors": list(errors) if errors else [],
    }


def item_row(
    item: Item,
    *,
    score: forms.BoundField,
    explanation: forms.BoundField,
    evidence: list[Evidence],
    upload_errors: list[str],
) -> dict:
    """One item's card: the item, its two fields, its evidence and what went wrong."""
    score_view, explanation_view = field_view(score), field_view(explanation)
    value = score_view["value"]
    return {
        "item": item,
        "score": score_view,
        "explanation": explanation_view,
        "evidence_field": evidence_field_name(item),
        "evidence": evidence,
        "upload_errors": upload_errors,
        "is_veto": item.kind == ItemKind.VETO,
        "is_bonus": item.kind == ItemKind.BONUS,
        "is_deduction": item.kind == ItemKind.DEDUCTION,
        "has_errors": bool(score_view["errors"] or explanation_view["errors"] or upload_errors),
        # What to put in the score box: the typed text after an error, else the saved score.
        "score_value": "" if value is None else str(value),
    }
