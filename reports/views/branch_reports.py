"""A branch's PDFs (评定表, star certificate) and the public certificate verification page."""

import logging
import tempfile
from io import BytesIO
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from reviews.selectors import get_readable_assessment_or_404, team_scores_visibility

from .. import branch_pdfs
from ..selectors import find_certificate_by_code, get_certificate_for_user_or_404

logger = logging.getLogger(__name__)


def _pdf_response(request: HttpRequest, render_function, data: dict, filename: str) -> HttpResponse:
    """Render into a temporary folder, refuse a PDF with missing glyphs, answer with its bytes."""
    with tempfile.TemporaryDirectory(prefix="branch-pdf-") as folder:
        result = render_function(data, Path(folder))
        if result.notdef_warnings:
            # A character the fonts lack would print as a box: no PDF rather than a wrong one.
            logger.error("PDF %s refused, glyphs missing: %s", filename, result.notdef_warnings[:5])
            return render(request, "reports/branch/pdf_failed.html", {"filename": filename}, status=422)
        content = result.path.read_bytes()
    response = FileResponse(BytesIO(content), content_type="application/pdf", filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def assessment_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The 评定表 of an assessment, for whoever may read the assessment."""
    assessment = get_readable_assessment_or_404(request.user, pk)
    visibility = team_scores_visibility(request.user, assessment)
    data = branch_pdfs.assessment_report_data(assessment, visibility=visibility)
    label = _("assessment form")  # outside the f-string, where makemessages can find it
    filename = f"{assessment.branch.name}-{label}.pdf"
    return _pdf_response(request, branch_pdfs.render_assessment_report, data, filename)


@login_required
@require_GET
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The star certificate, for anyone whose role reaches the branch."""
    certificate = get_certificate_for_user_or_404(request.user, pk)
    data = branch_pdfs.certificate_data(certificate)
    label = _("star certificate")
    filename = f"{certificate.branch.name}-{label}-{certificate.verification_code}.pdf"
    return _pdf_response(request, branch_pdfs.render_certificate, data, filename)


# ---------------------------------------------------------------------------- verification


def _invalid_code(request: HttpRequest, raw: str) -> HttpResponse:
    context = {"code": raw[: branch_pdfs.CODE_INPUT_MAX], "error": _("This is not a verification code.")}
    return render(request, "reports/verify/form.html", context, status=400)


@never_cache
@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    """The public form: type the code printed on a certificate. No sign-in needed."""
    raw = request.GET.get("code")
    if raw is None or not raw.strip():
        return render(request, "reports/verify/form.html", {"code": ""})
    code = branch_pdfs.normalize_code(raw)
    if code is None:
        return _invalid_code(request, raw)
    return redirect("reports:verify_code", code)


@never_cache
@require_GET
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    """Whether a code belongs to a valid, expired, revoked or superseded certificate; 404 if to none."""
    normalized = branch_pdfs.normalize_code(code)
    if normalized is None:
        return _invalid_code(request, code)
    if normalized != code:
        return redirect("reports:verify_code", normalized)
    certificate = find_certificate_by_code(normalized)
    if certificate is None:
        return render(request, "reports/verify/not_found.html", {"code": normalized}, status=404)
    data = branch_pdfs.verification_data(certificate)
    return render(request, "reports/verify/result.html", {"data": data})


urlpatterns = [
    path("assessments/<int:pk>/report.pdf", assessment_pdf, name="assessment_pdf"),
    path("certificates/<int:pk>/certificate.pdf", certificate_pdf, name="certificate_pdf"),
    path("verify/", verify, name="verify"),
    path("verify/<str:code>/", verify_code, name="verify_code"),
]
