"""Forms of the official documents: the draft's texts, the issuer, the source of a new document,
and the confirmation before issuing."""

from django import forms
from django.utils.translation import gettext_lazy

from ..models import DocumentIssuer, OfficialDocument


class DocumentTextForm(forms.ModelForm):
    """What staff may change in a draft: the title, the lead paragraph and the closing text."""

    class Meta:
        model = OfficialDocument
        fields = ["title", "lead", "closing"]
        widgets = {
            "lead": forms.Textarea(attrs={"rows": 5}),
            "closing": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "lead": gettext_lazy("The paragraph after the addressee; each line becomes a paragraph."),
            "closing": gettext_lazy("The text after the tables, before the signature."),
        }


class IssuerForm(forms.ModelForm):
    class Meta:
        model = DocumentIssuer
        fields = ["organ_name", "code"]
        help_texts = {
            "organ_name": gettext_lazy(
                "Printed in red at the top of every document (followed by “文件”) and as its signature."
            ),
            "code": gettext_lazy("The short name document numbers start with, as in 滨直工委〔2026〕12号."),
        }


class IssueConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I have checked this document. Once issued it gets its number and can no longer be changed."
        ),
        required=True,
    )


class CycleDocumentForm(forms.Form):
    """Which document to make of a cycle, for the whole cycle or for one certified batch."""

    KINDS = [
        ("commendation", gettext_lazy("Commendation decision")),
        ("results_notice", gettext_lazy("Notices of certification results, one per party committee")),
    ]
    kind = forms.ChoiceField(label=gettext_lazy("Kind of document"), choices=KINDS)
    batch = forms.TypedChoiceField(
        label=gettext_lazy("Results"), coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, batches=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["batch"].choices = [("", gettext_lazy("Every certified result of the cycle"))] + [
            (str(batch.number), gettext_lazy("Batch %(number)s") % {"number": batch.number})
            for batch in batches
        ]
