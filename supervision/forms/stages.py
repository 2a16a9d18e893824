"""The branch's stage application and the committee's decision."""

from django import forms
from django.utils.translation import gettext_lazy as _

from checks.forms.entries import MultipleFileField


class StageApplicationForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None)
    name = forms.CharField(
        label=_("Name of the highlight or brand"),
        max_length=100,
        help_text=_(
            "To the distinctive stage: the branch's highlight (特色亮点); to the model stage: its brand (品牌)."
        ),
    )
    description = forms.CharField(
        label=_("Description"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    files = MultipleFileField(label=_("Evidence files"), required=False)

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].label_from_instance = lambda org: f"{org.name}（{org.get_stage_display()}）"


class StageDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve: the branch moves up")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class StageWithdrawForm(forms.Form):
    """Nothing to fill in: the confirmation's button."""


class StageFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        from ..models import ApplicationStatus

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *ApplicationStatus.choices]
        self.fields["status"].widget.attrs["class"] = "form-select form-select-sm"


__all__ = ["StageApplicationForm", "StageDecisionForm", "StageFilterForm", "StageWithdrawForm"]
