"""Excel exports of the review lists: each is the rows its page lists, every page of them.

An export asks the same questions as its page before it answers (the same 404 outside the
user's scope, the same 403 for a role too low) and reads its rows through the same function
as the page, with the page's filters and tab, so the two never disagree. Rows stream from
``.iterator()`` into a write-only workbook (``branches.spreadsheets``); what a row needs
beyond its own columns is loaded per batch, so the queries do not grow with the rows. Team
scores follow the blind rules of ``team_scores_visibility``, row by row.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import require_role
from branches.spreadsheets import Sheet, batched, dated_filename, xlsx_response

from ..models import CertificateStatus, ReviewerAssignment
from ..selectors import (
    appeal_list_for,
    cycle_scores_visibility,
    get_cycle_for_user_or_404,
    reviewer_totals,
)
from .appeals import require_appeal_list_role
from .branch import _branch_or_404, star_history
from .committee import (
    _batches_of,
    _require_manager,
    cycle_assessments_listed,
    cycles_listed,
    decisions_listed,
    publicity_batch,
    publicity_listed,
    publicity_objections,
)
from .parent import _require_parent_reviewer, _reviewable_or_404, queue_listed
from .team import my_assignments_listed, require_team_member, team_overview_listed

# Rows read from the database per round trip, and rows whose extras (reviewers' totals,
# prefetched reviewers) are loaded together.
CHUNK = 500


def _person(user) -> str:
    return user.display_name if user is not None else ""


def _parent_name(branch) -> str:
    return branch.parent.name if branch.parent_id else ""


# ---------------------------------------------------------------------------- cycles


@login_required
@require_GET
def cycle_list_export(request: HttpRequest) -> HttpResponse:
    """The cycle list: every cycle the user's roles reach."""
    header = [
        _("Cycle"),
        _("Working committee"),
        _("Standard"),
        _("Status"),
        _("Branches"),
        _("Self-assessment deadline"),
        _("Preliminary review deadline"),
        _("Scoring deadline"),
        _("Opened at"),
        _("Closed at"),
    ]
    rows = (
        [
            cycle.name,
            cycle.committee.name,
            str(cycle.standard),
            cycle.get_status_display(),
            cycle.assessment_count,
            cycle.self_assessment_deadline,
            cycle.preliminary_deadline,
            cycle.scoring_deadline,
            cycle.opened_at,
            cycle.closed_at,
        ]
        for cycle in cycles_listed(request.user).iterator(chunk_size=CHUNK)
    )
    title = _("Certification cycles")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


def _most_reviewers(assessments) -> int:
    """The most reviewers any of the listed assessments has: the export's reviewer columns."""
    return (
        ReviewerAssignment.objects.filter(assessment__in=assessments.order_by().values("pk"))
        .values("assessment_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("n", flat=True)
        .first()
        or 0
    )


def _assessment_sheet(request, cycle, assessments, title: str) -> Sheet:
    """Branch, state, self-score, each reviewer's total as the user may see it, result columns."""
    reviewers = _most_reviewers(assessments)
    visibility = cycle_scores_visibility(request.user, cycle)
    header = [
        _("Code"),
        _("Party branch"),
        _("Parent organization"),
        _("Status"),
        _("Self-score"),
        _("Declared stars"),
    ]
    for number in range(1, reviewers + 1):
        header += [
            _("Reviewer %(number)s") % {"number": number},
            _("Reviewer %(number)s total") % {"number": number},
        ]
    header += [_("Consolidated score"), _("Proposed stars"), _("Decided stars"), _("Reason for the decision")]

    def rows():
        for batch in batched(assessments.iterator(chunk_size=CHUNK), CHUNK):
            totals = reviewer_totals(cycle, [a.pk for a in batch])
            for assessment in batch:
                seen = visibility(assessment)
                cells = []
                for total in totals.get(assessment.pk, [])[:reviewers] if seen.scores else []:
                    cells += [_person(total.reviewer) if seen.names else "", total.total]
                cells += [None] * (2 * reviewers - len(cells))
                yield [
                    assessment.branch.code,
                    assessment.branch.name,
                    _parent_name(assessment.branch),
                    assessment.get_status_display(),
                    assessment.self_total,
                    assessment.declared_stars,
                    *cells,
                    assessment.consolidated_score if seen.scores else None,
                    assessment.proposed_stars if seen.scores else None,
                    assessment.decided_stars,
                    assessment.decision_reason,
                ]

    return Sheet(title, header, rows())


@login_required
@require_GET
def cycle_detail_export(request: HttpRequest, pk: int) -> HttpResponse:
    """A cycle's branches under the page's status filter, with their scores and stars."""
    cycle = get_cycle_for_user_or_404(request.user, pk)
    assessments, _status = cycle_assessments_listed(request, cycle)
    sheet = _assessment_sheet(request, cycle, assessments, _("Branches"))
    return xlsx_response(dated_filename(cycle.name), [sheet])


@login_required
@require_GET
def cycle_decisions_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The decision list (all scored, or not yet decided), for the committee's approvers and staff."""
    cycle = get_cycle_for_user_or_404(request.user, pk)
    _require_manager(request.user, cycle)
    pool, _show = decisions_listed(request, cycle)
    sheet = _assessment_sheet(request, cycle, pool, _("Decisions"))
    return xlsx_response(dated_filename(f"{cycle.name}-{_('Decisions')}"), [sheet])


@login_required
@require_GET
def cycle_publicity_export(request: HttpRequest, pk: int) -> HttpResponse:
    """公示: one batch's branches and star levels (``?batch=N``, else the newest), and its objections."""
    cycle = get_cycle_for_user_or_404(request.user, pk)
    batch = publicity_batch(request, _batches_of(cycle))
    results = [
        _("Batch"),
        _("Code"),
        _("Party branch"),
        _("Parent organization"),
        _("Stars"),
        _("Status"),
        _("Public notice started"),
        _("Public notice ends"),
    ]
    objections = [
        _("Party branch"),
        _("Received from"),
        _("Content"),
        _("Recorded at"),
        _("Recorded by"),
        _("Status"),
        _("Resolved at"),
        _("Resolved by"),
        _("Resolution"),
    ]

    def result_rows():
        for assessment in publicity_listed(cycle, batch).iterator(chunk_size=CHUNK):
            yield [
                batch.number,
                assessment.branch.code,
                assessment.branch.name,
                _parent_name(assessment.branch),
                assessment.decided_stars,
                assessment.get_status_display(),
                batch.started_at,
                batch.ends_at,
            ]

    def objection_rows():
        for objection in publicity_objections(batch).iterator(chunk_size=CHUNK):
            yield [
                objection.assessment.branch.name,
                objection.received_from,
                objection.content,
                objection.recorded_at,
                _person(objection.recorded_by),
                _("Resolved") if objection.resolved_at else _("Open"),
                objection.resolved_at,
                _person(objection.resolved_by),
                objection.resolution,
            ]

    sheets = [
        Sheet(_("Public notice"), results, result_rows() if batch else []),
        Sheet(_("Objections"), objections, objection_rows() if batch else []),
    ]
    label = f"{cycle.name}-{_('Public notice')}" + (f"-{batch.number}" if batch else "")
    return xlsx_response(dated_filename(label), sheets)


# ---------------------------------------------------------------------------- the team and the queue


@login_required
@require_GET
def team_overview_export(request: HttpRequest, cycle_pk: int) -> HttpResponse:
    """The assessment team's overview of a cycle under its tab, with each assessment's reviewers."""
    cycle = get_cycle_for_user_or_404(request.user, cycle_pk)
    require_role(request.user, COMMITTEE_MANAGERS, cycle.committee)
    assessments, _shown = team_overview_listed(request, cycle)
    visibility = cycle_scores_visibility(request.user, cycle)
    header = [
        _("Code"),
        _("Party branch"),
        _("Parent organization"),
        _("Status"),
        _("Reviewers"),
        _("Submitted"),
        _("Consolidated score"),
        _("Proposed stars"),
    ]

    def rows():
        for assessment in assessments.iterator(chunk_size=CHUNK):
            assignments = list(assessment.assignments.all())
            seen = visibility(assessment)
            yield [
                assessment.branch.code,
                assessment.branch.name,
                _parent_name(assessment.branch),
                assessment.get_status_display(),
                "、".join(_person(a.reviewer) for a in assignments),
                sum(1 for a in assignments if a.submitted_at is not None),
                assessment.consolidated_score if seen.scores else None,
                assessment.proposed_stars if seen.scores else None,
            ]

    title = _("Assessment team")
    return xlsx_response(dated_filename(f"{cycle.name}-{title}"), [Sheet(title, header, rows())])


@login_required
@require_GET
def preliminary_queue_export(request: HttpRequest) -> HttpResponse:
    """初审: the parent reviewer's queue under its tab (waiting, or reviewed)."""
    _require_parent_reviewer(request.user)
    queue, _state = queue_listed(request)
    header = [
        _("Code"),
        _("Party branch"),
        _("Parent organization"),
        _("Cycle"),
        _("Status"),
        _("Declared stars"),
        _("Self-score"),
        _("Round"),
        _("Submitted at"),
    ]
    rows = (
        [
            assessment.branch.code,
            assessment.branch.name,
            _parent_name(assessment.branch),
            assessment.cycle.name,
            assessment.get_status_display(),
            assessment.declared_stars,
            assessment.self_total,
            assessment.round_number,
            assessment.round_submitted_at,
        ]
        for assessment in queue.iterator(chunk_size=CHUNK)
    )
    title = _("Preliminary review")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


@login_required
@require_GET
def preliminary_review_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The history of one submission, as its preliminary review page lists it."""
    assessment = _reviewable_or_404(request, pk)
    header = [_("At"), _("By"), _("From"), _("To"), _("Note")]
    rows = (
        [
            event.at,
            _person(event.actor),
            event.get_from_status_display(),
            event.get_to_status_display(),
            event.note,
        ]
        for event in assessment.events.select_related("actor")
        .order_by("-at", "-pk")
        .iterator(chunk_size=CHUNK)
    )
    label = f"{assessment.branch.name}-{_('History')}"
    return xlsx_response(dated_filename(label), [Sheet(_("History"), header, rows)])


@login_required
@require_GET
def my_assignments_export(request: HttpRequest) -> HttpResponse:
    """The reviewer's own assignments under the page's cycle filter."""
    require_team_member(request.user)
    assignments, _chosen, _cycles = my_assignments_listed(request)
    header = [
        _("Code"),
        _("Party branch"),
        _("Parent organization"),
        _("Cycle"),
        _("Scoring deadline"),
        _("Status"),
        _("Submitted at"),
    ]
    rows = (
        [
            assignment.assessment.branch.code,
            assignment.assessment.branch.name,
            _parent_name(assignment.assessment.branch),
            assignment.assessment.cycle.name,
            assignment.assessment.cycle.scoring_deadline,
            _("Submitted") if assignment.submitted_at else _("To score"),
            assignment.submitted_at,
        ]
        for assignment in assignments.select_related("assessment__branch__parent").iterator(chunk_size=CHUNK)
    )
    title = _("My scoring assignments")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


# ---------------------------------------------------------------------------- appeals and a branch's history


@login_required
@require_GET
def appeal_list_export(request: HttpRequest) -> HttpResponse:
    """The committee's appeals for its approvers and staff; a re-reviewer's own."""
    require_appeal_list_role(request.user)
    header = [
        _("Code"),
        _("Party branch"),
        _("Cycle"),
        _("Submitted at"),
        _("Submitted by"),
        _("Status"),
        _("Original stars"),
        _("Reason for the appeal"),
        _("Outcome (stars)"),
        _("Reason for the outcome"),
        _("Outcome decided at"),
    ]
    rows = (
        [
            appeal.assessment.branch.code,
            appeal.assessment.branch.name,
            appeal.assessment.cycle.name,
            appeal.submitted_at,
            _person(appeal.submitted_by),
            appeal.get_status_display(),
            appeal.original_stars,
            appeal.reason,
            appeal.outcome_stars,
            appeal.outcome_reason,
            appeal.decided_at,
        ]
        for appeal in appeal_list_for(request.user).iterator(chunk_size=CHUNK)
    )
    title = _("Appeals")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


@login_required
@require_GET
def branch_detail_export(request: HttpRequest, pk: int) -> HttpResponse:
    """A branch's star history (the timeline of its page) and its certificates."""
    branch = _branch_or_404(request.user, pk)
    history = [
        _("At"),
        pgettext("star level change", "Change"),
        _("From (stars)"),
        _("To (stars)"),
        _("By"),
        _("Cycle"),
        _("Violation"),
        _("Reason"),
    ]
    certificates = [
        _("Cycle"),
        _("Certified level"),
        _("Current star level"),
        _("Issued"),
        _("Valid until"),
        _("Status"),
        _("Verification code"),
    ]

    def history_rows():
        for event in star_history(branch).iterator(chunk_size=CHUNK):
            certificate = event.certificate
            yield [
                event.at,
                event.get_kind_display(),
                event.from_stars,
                event.to_stars,
                _person(event.actor) if event.actor_id else _("automatic"),
                certificate.assessment.cycle.name if certificate else "",
                event.violation,
                event.reason,
            ]

    def certificate_rows():
        listed = (
            branch.certificates.select_related("assessment__cycle")
            .order_by("-issued_at", "-pk")
            .iterator(chunk_size=CHUNK)
        )
        for certificate in listed:
            yield [
                certificate.assessment.cycle.name,
                certificate.certified_stars,
                certificate.stars,
                certificate.issued_at,
                certificate.valid_until,
                CertificateStatus(certificate.status).label,
                certificate.verification_code,
            ]

    sheets = [
        Sheet(_("Star history"), history, history_rows()),
        Sheet(_("Certificates"), certificates, certificate_rows()),
    ]
    return xlsx_response(dated_filename(f"{branch.name}-{_('Star history')}"), sheets)


urlpatterns = [
    path("cycles/export/", cycle_list_export, name="cycle_list_export"),
    path("cycles/<int:pk>/export/", cycle_detail_export, name="cycle_detail_export"),
    path("cycles/<int:pk>/decisions/export/", cycle_decisions_export, name="cycle_decisions_export"),
    path("cycles/<int:pk>/publicity/export/", cycle_publicity_export, name="cycle_publicity_export"),
    path("team/cycles/<int:cycle_pk>/export/", team_overview_export, name="team_overview_export"),
    path("preliminary/export/", preliminary_queue_export, name="preliminary_queue_export"),
    path("preliminary/<int:pk>/export/", preliminary_review_export, name="preliminary_review_export"),
    path("scoring/export/", my_assignments_export, name="my_assignments_export"),
    path("appeals/export/", appeal_list_export, name="appeal_list_export"),
    path("branches/<int:pk>/export/", branch_detail_export, name="branch_detail_export"),
]
