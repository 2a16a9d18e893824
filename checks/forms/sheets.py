"""Forms of a check sheet: the parent reviewer's scores, the secretary's self-report."""

from django import forms
from django.utils.translation import gettext_lazy as _


def check_score_field(item) -> str:
    return f"score_{item.pk}"


def check_comment_field(item) -> str:
    return f"comment_{item.pk}"


def self_report_field(item) -> str:
    return f"report_{item.pk}"


def self_report_file_field(item) -> str:
    return f"file_{item.pk}"


class CheckScoresForm(forms.Form):
    """One score and comment per item of the round's standard; blank scores are left unscored."""

    comment = forms.CharField(
        label=_("Overall comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )

    def __init__(self, *args, items, scores=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        scores = scores or {}
        for item in items:
            score, comment = scores.get(item.pk, (None, ""))
            self.fields[check_score_field(item)] = forms.CharField(
                label=f"{item.code} {item.title}",
                required=False,
                max_length=10,
                initial="" if score is None else score,
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "decimal",
                        "class": "form-control form-control-sm mw-6rem",
                    }
                ),
            )
            self.fields[check_comment_field(item)] = forms.CharField(
                required=False,
                max_length=1000,
                initial=comment,
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            )

    def scores(self) -> dict[int, tuple[str, str]]:
        return {
            item.pk: (
                self.cleaned_data.get(check_score_field(item), "").strip(),
                self.cleaned_data.get(check_comment_field(item), ""),
            )
            for item in self.items
        }

    def rows(self):
        for item in self.items:
            yield item, self[check_score_field(item)], self[check_comment_field(item)]


class CheckSelfReportForm(forms.Form):
    def __init__(self, *args, items, texts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        texts = texts or {}
        for item in items:
            self.fields[self_report_field(item)] = forms.CharField(
                label=f"{item.code} {item.title}",
                required=False,
                max_length=1000,
                initial=texts.get(item.pk, ""),
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )

    def texts(self) -> dict[int, str]:
        return {item.pk: self.cleaned_data.get(self_report_field(item), "") for item in self.items}


__all__ = [
    "CheckScoresForm",
    "CheckSelfReportForm",
    "check_comment_field",
    "check_score_field",
    "self_report_field",
    "self_report_file_field",
]
