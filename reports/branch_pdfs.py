"""A branch's own reports: the 评定表 of an assessment and its star certificate, plus verification.

Each report is gathered first into a frozen plain dict (strings, numbers, lists: nothing that
can query the database afterwards), then rendered to HTML by a template and to PDF by
``reports.pdf.render_pdf``. The verification page uses the same certificate data, cut down
to what the certificate itself shows.
"""

import datetime
import re
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reviews.models import Assessment, Certificate, CertificateStatus, StarEvent, StarEventKind
from reviews.selectors import ScoresVisibility, scoring_summary
from scoring.arithmetic import DEDUCTION, veto_applies
from scoring.templatetags.points import MINUS, signed_points
from scoring.templatetags.stars import stars_text

from .pdf import FONT_FAMILY, PdfResult, render_pdf

STAR_LEVEL_NAMES = {
    1: gettext_lazy("one-star party branch"),
    2: gettext_lazy("two-star party branch"),
    3: gettext_lazy("three-star party branch"),
    4: gettext_lazy("four-star party branch"),
    5: gettext_lazy("five-star party branch"),
}

# What a person may type as a verification code: letters and digits, grouped by spaces or
# hyphens if they like. Codes are issued as 16 upper-case hexadecimal digits.
CODE_INPUT_MAX = 64
CODE_PATTERN = re.compile(r"^[0-9A-Z]{4,32}$")


# ---------------------------------------------------------------------------- small helpers


def _points(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.1f}"


def _max_points(value: Decimal) -> str:
    # Whole points print without a decimal (5, not 5.0), like the scoring sheet.
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:.1f}"


def _day(value: datetime.date | None) -> str:
    return date_format(value, "DATE_FORMAT") if value else ""


def certificate_state(certificate: Certificate, today: datetime.date | None = None) -> str:
    """valid, expired, revoked or superseded; a valid one past its last day already counts as expired.

    Expiry is written by a nightly job, so the date, not only the stored status, decides.
    """
    today = today or timezone.localdate()
    if certificate.status == CertificateStatus.VALID and certificate.valid_until < today:
        return CertificateStatus.EXPIRED
    return certificate.status


def verification_url(code: str) -> str:
    return f"{settings.SITE_URL}{reverse('reports:verify_code', args=[code])}"


def normalize_code(raw: str | None) -> str | None:
    """The code in its stored form (upper case, no spaces or hyphens), or None if it cannot be one."""
    if raw is None or len(raw) > CODE_INPUT_MAX:
        return None
    code = re.sub(r"[\s\-]", "", raw).upper()
    return code if CODE_PATTERN.fullmatch(code) else None


# ---------------------------------------------------------------------------- the 评定表


def _veto_mark(applies: bool) -> str:
    return _("applies") if applies else _("does not apply")


def assessment_report_data(assessment: Assessment, *, visibility: ScoresVisibility) -> dict:
    """Everything the 评定表 prints, as plain data; a fixed number of queries, whatever the number of items.

    ``visibility`` is ``reviews.selectors.team_scores_visibility`` of the reader: blind scoring
    holds in print as on the pages.
    """
    show_scores, show_names = visibility.scores, visibility.names
    summary = scoring_summary(assessment)
    branch = assessment.branch
    cycle = assessment.cycle
    standard = cycle.standard
    reviewers: list[dict] = []
    if show_scores:
        totals = {total.assignment.pk: total.total for total in summary.reviewer_totals}
        reviewers = [
            {
                "name": assignment.reviewer.display_name if show_names else _("Reviewer %(n)s") % {"n": n},
                "total": _points(totals.get(assignment.pk)),
            }
            for n, assignment in enumerate(summary.submitted, start=1)
        ]
    dimensions: list[dict] = []
    for row in summary.items:
        item = row.item
        if not dimensions or dimensions[-1]["code"] != item.dimension.code:
            dimensions.append(
                {
                    "code": item.dimension.code,
                    "title": item.dimension.title,
                    "max": _max_points(item.dimension.max_score),
                    "items": [],
                }
            )
        if row.is_veto:
            self_score = _veto_mark(veto_applies(row.self_score))
            scores = [_veto_mark(veto_applies(cell.score)) for cell in row.cells] if show_scores else []
            result = _veto_mark(row.veto_applies) if show_scores and row.cells else None
        else:
            # A deduction item (扣分项) prints its points with a minus: "−2.0" is two points off.
            kind = item.kind
            self_score = signed_points(_points(row.self_score), kind)
            scores = [signed_points(_points(cell.score), kind) for cell in row.cells] if show_scores else []
            result = signed_points(_points(row.mean), kind) if show_scores else None
        is_deduction = item.kind == DEDUCTION
        comments = []
        if show_scores:
            comments = [
                {"reviewer": reviewers[n]["name"], "text": cell.comment}
                for n, cell in enumerate(row.cells)
                if cell.comment.strip()
            ]
        dimensions[-1]["items"].append(
            {
                "code": item.code,
                "title": item.title,
                "max": "" if row.is_veto else f"{MINUS if is_deduction else ''}{_max_points(item.max_score)}",
                "is_veto": row.is_veto,
                "is_deduction": is_deduction,
                "self_score": self_score,
                "scores": scores,
                "result": result,
                "disagreement": show_scores and row.disagreement,
                "comments": comments,
            }
        )
    deducted = sum(
        (row.mean for row in summary.items if row.item.kind == DEDUCTION and row.mean is not None), Decimal(0)
    )
    decided = show_scores and assessment.decided_stars is not None
    return {
        "branch": branch.name,
        "parent": branch.parent.name if branch.parent_id else "",
        "committee": cycle.committee.name,
        "cycle": cycle.name,
        "standard": standard.name,
        "standard_version": standard.version,
        "max_score": _max_points(standard.max_score),
        "status": assessment.get_status_display(),
        "declared_stars": assessment.declared_stars,
        "declared_stars_text": stars_text(assessment.declared_stars),
        "self_total": _points(summary.self_total),
        "recommendation": assessment.recommendation,
        "show_scores": show_scores,
        "reviewers": reviewers,
        "dimensions": dimensions,
        "consolidated_score": _points(summary.consolidated_score) if show_scores else None,
        # The team's deductions already taken off the consolidated score, printed beside it.
        "consolidated_deducted": signed_points(_points(deducted), DEDUCTION)
        if show_scores and deducted
        else None,
        "proposed_stars": summary.proposed_stars if show_scores else None,
        "proposed_stars_text": stars_text(summary.proposed_stars) if show_scores else "",
        "applied_vetoes": list(summary.applied_vetoes) if show_scores else [],
        "decided_stars": assessment.decided_stars if decided else None,
        "decided_stars_text": stars_text(assessment.decided_stars) if decided else "",
        "decision_reason": assessment.decision_reason if decided else "",
        "decided_at": _day(timezone.localdate(assessment.decided_at))
        if decided and assessment.decided_at
        else "",
        "generated_at": date_format(timezone.localtime(), "DATETIME_FORMAT"),
    }


ASSESSMENT_CSS = f"""
h1 {{ letter-spacing: 0.2em; margin-bottom: 1mm; }}
.subtitle {{ text-align: center; color: #444; margin: 0 0 5mm; }}
table.info th {{ width: 26mm; text-align: left; }}
table.info td {{ width: 64mm; }}
table.items {{ table-layout: fixed; font-size: 9.5pt; }}
table.items th {{ text-align: center; }}
table.items td.center {{ text-align: center; }}
tr.dimension td {{ background: #faf3f4; font-weight: 700; }}
tr.comments td {{ border-top: none; color: #444; font-size: 8.5pt; padding-left: 6mm; }}
tr.item.has-comments td {{ border-bottom: none; }}
.flag {{ color: #c8102e; font-weight: 700; }}
.stars {{ color: #c8102e; letter-spacing: 0.05em; }}
.withheld {{ border: 0.5pt dashed #888; padding: 3mm; color: #555; }}
table.signature {{ width: auto; margin: 14mm 0 0 auto; page-break-inside: avoid; }}
table.signature td {{ border: none; padding: 1mm 0; font-size: 11pt; line-height: 2; }}
.blank {{ display: inline-block; width: 38mm; border-bottom: 0.5pt solid #444; }}
.generated {{ font-size: 8pt; color: #777; margin-top: 6mm; }}
html {{ font-family: "{FONT_FAMILY}", sans-serif; }}
"""

ASSESSMENT_LANDSCAPE_CSS = "@page { size: A4 landscape; }"

# More reviewers than this do not fit across a portrait page.
PORTRAIT_MAX_REVIEWERS = 5


def render_assessment_report(data: dict, folder: Path) -> PdfResult:
    html = render_to_string("reports/branch/assessment_report.html", {"data": data})
    css = ASSESSMENT_CSS
    if len(data["reviewers"]) > PORTRAIT_MAX_REVIEWERS:
        css += ASSESSMENT_LANDSCAPE_CSS
    return render_pdf(html, Path(folder) / "assessment.pdf", extra_css=css)


# ---------------------------------------------------------------------------- the certificate


def certificate_changes(certificate: Certificate) -> list[dict]:
    """The later downgrades and the revocation of a certificate, oldest first, as the certificate prints them.

    The reason is referred to by the violation cited (违规违纪), as recorded with the change.
    """
    changes = []
    for event in StarEvent.objects.filter(
        certificate_id=certificate.pk, kind__in=[StarEventKind.DOWNGRADE, StarEventKind.REVOCATION]
    ).order_by("at", "pk"):
        revoked = event.kind == StarEventKind.REVOCATION
        changes.append(
            {
                "kind": event.kind,
                "date": _day(timezone.localdate(event.at)),
                "from_stars": event.from_stars,
                "to_stars": None if revoked else event.to_stars,
                "to_level_name": "" if revoked else str(STAR_LEVEL_NAMES[event.to_stars]),
                "to_stars_text": "" if revoked else stars_text(event.to_stars),
                "violation": event.violation,
            }
        )
    return changes


def certificate_data(certificate: Certificate, today: datetime.date | None = None) -> dict:
    """What the star certificate prints: the level as certified, then any later change.

    A certificate records history: a branch certified with three stars and lowered a year
    later still was certified with three stars. The later downgrade or revocation is printed
    beneath with its date, the new level and the violation cited, as the verification page
    tells the certified level apart from the current one.
    """
    cycle = certificate.assessment.cycle
    state = certificate_state(certificate, today)
    return {
        "branch": certificate.branch.name,
        "committee": cycle.committee.name,
        "cycle": cycle.name,
        "stars": certificate.stars,
        "stars_text": stars_text(certificate.certified_stars),
        "level_name": str(STAR_LEVEL_NAMES[certificate.certified_stars]),
        "current_stars": certificate.stars,
        "current_level_name": str(STAR_LEVEL_NAMES[certificate.stars]),
        "changes": certificate_changes(certificate),
        "certified_stars": certificate.certified_stars,
        "issued": _day(timezone.localdate(certificate.issued_at)),
        "valid_until": _day(certificate.valid_until),
        "code": certificate.verification_code,
        "verification_url": verification_url(certificate.verification_code),
        "state": state,
        "state_label": str(CertificateStatus(state).label),
    }


CERTIFICATE_CSS = """
@page { size: A4 landscape; margin: 9mm; @bottom-center { content: none; } }
html { font-size: 12pt; }
.frame { border: 2.4mm double #c8102e; height: 186mm; box-sizing: border-box; padding: 2mm; position: relative; }
.inner { border: 0.7pt solid #c9a227; height: 100%; box-sizing: border-box; padding: 9mm 22mm 0; position: relative; }
.emblem { text-align: center; color: #c8102e; font-size: 26pt; line-height: 1; margin: 0; }
h1.certificate-title { font-size: 34pt; letter-spacing: 0.35em; margin: 3mm 0 1mm; color: #c8102e; }
.subtitle { text-align: center; letter-spacing: 0.3em; color: #8a6d1a; margin: 0 0 7mm; }
.addressee { font-size: 17pt; font-weight: 700; margin: 0 0 3mm; }
.text { font-size: 15pt; text-indent: 2em; line-height: 1.9; margin: 0; }
.level { text-align: center; font-size: 26pt; color: #c8102e; font-weight: 700; letter-spacing: 0.15em; margin: 3mm 0 0; }
.stars { text-align: center; font-size: 30pt; color: #c8102e; letter-spacing: 0.12em; margin: 0 0 2mm; line-height: 1.3; }
.details { position: absolute; left: 22mm; bottom: 10mm; font-size: 10pt; line-height: 1.7; color: #333; }
.details td, .details th { border: none; padding: 0 3mm 0 0; background: none; text-align: left; }
.details th { font-weight: 400; color: #666; }
.code { font-weight: 700; letter-spacing: 0.08em; }
.issuer { position: absolute; right: 24mm; bottom: 14mm; text-align: center; font-size: 14pt; line-height: 1.9; }
.changes { font-size: 9.5pt; line-height: 1.45; margin: 1mm 0 0; padding: 1mm 3mm; border: 0.5pt solid #c8102e; color: #333; }
.changes p { margin: 0; }
/* Room for the later changes above the details at the foot: the same page, a little tighter. */
.has-changes .emblem { font-size: 20pt; }
.has-changes h1.certificate-title { font-size: 28pt; margin-top: 1mm; }
.has-changes .subtitle { margin-bottom: 3mm; }
.has-changes .text { line-height: 1.6; }
.has-changes .level { font-size: 22pt; margin-top: 1mm; }
.has-changes .stars { font-size: 24pt; margin-bottom: 0; }
.void { position: absolute; top: 58mm; left: 0; right: 0; text-align: center; }
.void span { display: inline-block; border: 1.6mm solid #c8102e; color: #c8102e; font-size: 40pt;
  font-weight: 700; padding: 1mm 8mm; transform: rotate(-12deg); opacity: 0.8; letter-spacing: 0.2em; }
"""


def render_certificate(data: dict, folder: Path) -> PdfResult:
    html = render_to_string("reports/branch/certificate.html", {"data": data})
    return render_pdf(html, Path(folder) / "certificate.pdf", extra_css=CERTIFICATE_CSS)


# ---------------------------------------------------------------------------- verification


def verification_data(certificate: Certificate, today: datetime.date | None = None) -> dict:
    """Only what the certificate itself shows: branch, level, dates, and the state today."""
    state = certificate_state(certificate, today)
    return {
        "branch": certificate.branch.name,
        "committee": certificate.assessment.cycle.committee.name,
        "stars": certificate.stars,
        "stars_text": stars_text(certificate.stars),
        "certified_stars": certificate.certified_stars,
        "issued": _day(timezone.localdate(certificate.issued_at)),
        "valid_until": _day(certificate.valid_until),
        "code": certificate.verification_code,
        "state": state,
        "state_label": str(CertificateStatus(state).label),
    }


__all__ = [
    "STAR_LEVEL_NAMES",
    "assessment_report_data",
    "certificate_changes",
    "certificate_data",
    "certificate_state",
    "normalize_code",
    "render_assessment_report",
    "render_certificate",
    "verification_data",
    "verification_url",
]
