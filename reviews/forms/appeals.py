"""Forms of the appeal pages (复核申请); the services make the final checks and the writes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from scoring.models import Item

from ..services.appeals import MAX_FILES, MAX_TEXT
from ..uploads import ACCEPT_ATTRIBUTE
from .committee import star_choices
from .team import ReviewerChoiceForm, ScoreSheetForm
from .widgets import textarea


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is judged by ``reviews.uploads.check_upload`` later."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTRIBUTE, "class": "form-control"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(part, initial) for part in data]
        return [single(data, initial)] if data else []


class AppealForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the appeal"),
        max_length=MAX_TEXT,
        widget=textarea(5),
        help_text=_("Say what you contest in the result and why."),
    )
    items = forms.ModelMultipleChoiceField(
        label=_("Items contested"),
        queryset=Item.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose the items you contest.")},
    )
    files = MultipleFileField(
        label=_("Evidence"),
        required=False,
        help_text=_("Optional; at most %(max)s files.") % {"max": MAX_FILES},
    )

    def __init__(self, *args, items: list[Item], team_scores: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        team_scores = team_scores or {}
        self.fields["items"].queryset = Item.objects.filter(pk__in=[item.pk for item in items]).order_by(
            "dimension__order", "dimension__code", "order", "code"
        )
        self.fields["items"].label_from_instance = lambda item: (
            f"{item.code} {item.title}"
            + (f"（{team_scores[item.pk]} / {item.max_score}）" if item.pk in team_scores else "")
        )


class AppealReviewForm(forms.Form):
    """Accept or reject an appeal, with the reason; accepting says how many re-reviewers."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept: re-score the contested items")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=MAX_TEXT, widget=textarea(3))
    reviewers_wanted = forms.IntegerField(
        label=_("Number of re-reviewers"), min_value=1, max_value=9, initial=2, required=False
    )


class AppealDecisionForm(forms.Form):
    stars = forms.TypedChoiceField(label=_("Star level after the appeal"), coerce=int, choices=())
    reason = forms.CharField(label=_("Reason"), max_length=MAX_TEXT, widget=textarea(3))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stars"].choices = star_choices()


__all__ = ["AppealDecisionForm", "AppealForm", "AppealReviewForm", "ReviewerChoiceForm", "ScoreSheetForm"]
