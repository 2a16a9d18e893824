"""The upload form of the Excel import: one .xlsx file within the size limit."""

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.archives import check_archive
from reviews.uploads import check_file_name

from ..imports import IMPORT_MAX_BYTES, ImportFileError, read_import_workbook


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s; split it into several files.")
                % {"limit": filesizeformat(IMPORT_MAX_BYTES)}
            )
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(
                _("Only Excel workbooks (.xlsx) can be imported. Save the file as .xlsx and upload it again.")
            )
        check_file_name(upload.name)  # no control or bidirectional characters
        check_archive(upload, upload.name)
        try:
            # The file itself (a workbook, with the right sheets and headers); rows come later.
            read_import_workbook(upload)
        except ImportFileError as error:
            raise forms.ValidationError(error.messages) from None
        upload.seek(0)
        return upload


class ImportConfirmForm(forms.Form):
    """Nothing to fill in: the POST itself is the confirmation (CSRF-protected)."""
