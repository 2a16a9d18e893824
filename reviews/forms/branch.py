"""Forms of dynamic management (动态管理): lowering or revoking a branch's star level."""

from django import forms
from django.utils.translation import gettext_lazy as _

from scoring.models import MIN_STARS

from .committee import star_choices


class _DynamicForm(forms.Form):
    violation = forms.CharField(
        label=_("Violation cited"),
        max_length=200,
        help_text=_("The violation of discipline (违规违纪) that causes the change."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(
        label=_("I confirm this change; it is recorded in the branch's star history and cannot be undone."),
        required=True,
    )


class DowngradeForm(_DynamicForm):
    field_order = ["to_stars", "violation", "reason", "confirm"]

    def __init__(self, *args, current_stars: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stars"] = forms.TypedChoiceField(
            label=_("New star level"),
            choices=star_choices(range(current_stars - 1, MIN_STARS - 1, -1)),
            coerce=int,
        )
        self.order_fields(self.field_order)


class RevokeForm(_DynamicForm):
    pass
