"""The bulletin as a PDF: its HTML document printed by WeasyPrint with the CJK fonts."""

from pathlib import Path

from ..pdf import PdfResult, render_pdf
from .html import annex_html, bulletin_html


def bulletin_pdf(data: dict, target: Path) -> PdfResult:
    """Print the frozen data to ``target``; the result lists any missing-glyph warnings."""
    return render_pdf(bulletin_html(data), target)


def annex_pdf(data: dict, unit: dict, target: Path) -> PdfResult:
    """Print one party committee's annex (``unit``, an entry of ``data["units"]``) to ``target``."""
    return render_pdf(annex_html(data, unit), target)
