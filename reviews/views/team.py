"""The assessment team (考核组): the committee assigns reviewers, reviewers score, revise, compare."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches.kept import kept_page
from branches.roles import COMMITTEE_MANAGERS, Role
from branches.selectors import require_role, role_set

from ..forms.team import ReviewerChoiceForm, ScoreSheetForm
from ..jobs import is_large, start_bulk_job
from ..models import Assessment, AssessmentStatus, CycleStatus
from ..selectors import (
    FORWARDED_ON,
    cycle_status_counts,
    get_assessment_for_user_or_404,
    get_assignment_for_reviewer_or_404,
    get_cycle_for_user_or_404,
    latest_own_scores,
    reviewer_assignments,
    reviewer_cycles,
    reviewer_options,
    scoring_summary,
    self_assessment_data,
    standard_items,
    team_assessments,
    team_scores_visibility,
)
from ..services.scoring import assign_reviewers, auto_assign, revise_scores, save_draft_scores, submit_scores
from .common import done, page_of, workflow_action

OVERVIEW_FILTERS = {
    "all": None,
    "unassigned": [AssessmentStatus.FORWARDED],
    "scoring": [AssessmentStatus.SCORING],
    "scored": [AssessmentStatus.SCORED],
}
ALL_CYCLES = "all"


# ---------------------------------------------------------------------------- the committee


def _committee_assessment_or_404(request, pk) -> Assessment:
    """In scope → the assessment; without an approver's or staff role on the committee → 403."""
    assessment = get_assessment_for_user_or_404(request.user, pk)
    require_role(request.user, COMMITTEE_MANAGERS, assessment.cycle.committee)
    return assessment


def team_overview_listed(request: HttpRequest, cycle) -> tuple:
    """The overview's rows under its ``?show=`` tab, and the tab: shared by the page and its export."""
    shown = request.GET.get("show", "all")
    if shown not in OVERVIEW_FILTERS:
        shown = "all"
    assessments = team_assessments(cycle)
    if OVERVIEW_FILTERS[shown]:
        assessments = assessments.filter(status__in=OVERVIEW_FILTERS[shown])
    return assessments, shown


@login_required
@kept_page
@require_GET
def team_overview(request: HttpRequest, cycle_pk: int) -> HttpResponse:
    """A cycle's forwarded assessments with their reviewers; the automatic assignment button."""
    cycle = get_cycle_for_user_or_404(request.user, cycle_pk)
    require_role(request.user, COMMITTEE_MANAGERS, cycle.committee)
    assessments, shown = team_overview_listed(request, cycle)
    # The pager's count and the unassigned count from the cycle's status counts (kept in the cache).
    counts = cycle_status_counts(cycle.pk)
    listed = OVERVIEW_FILTERS[shown] or FORWARDED_ON
    page = page_of(request, assessments, count=sum(counts.get(status, 0) for status in listed))
    context = {
        "cycle": cycle,
        "page": page,
        "shown": shown,
        "query": f"show={shown}",
        "unassigned": counts.get(AssessmentStatus.FORWARDED, 0),
    }
    return render(request, "reviews/team/overview.html", context)


@login_required
@require_POST
def auto_assign_view(request: HttpRequest, cycle_pk: int) -> HttpResponse:
    cycle = get_cycle_for_user_or_404(request.user, cycle_pk)
    forwarded = cycle.assessments.filter(status=AssessmentStatus.FORWARDED).count()
    if is_large(forwarded):
        require_role(request.user, COMMITTEE_MANAGERS, cycle.committee)
        return start_bulk_job(request, "auto_assign", committee_id=cycle.committee_id, cycle_id=cycle.pk)
    result = auto_assign(cycle=cycle, actor=request.user)
    message = _("Reviewers assigned to %(count)s assessments.") % {"count": result["assigned"]}
    if result["short"]:
        message += " " + _("Not enough eligible reviewers for: %(branches)s.") % {
            "branches": "、".join(str(a.branch) for a in result["short"])
        }
    return done(request, message, "reviews:team_overview", cycle.pk)


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def assign_reviewers_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the reviewers of one assessment; conflicted team members are shown with the reason."""
    assessment = _committee_assessment_or_404(request, pk)
    options = reviewer_options(assessment)
    form = ReviewerChoiceForm(request.POST or None, options=options)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                assign_reviewers(assessment=assessment, actor=request.user, reviewers=form.chosen_users())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return done(
                    request,
                    _("The reviewers of %(branch)s were saved.") % {"branch": assessment.branch},
                    "reviews:team_overview",
                    assessment.cycle_id,
                )
        status = 400
    context = {
        "assessment": assessment,
        "form": form,
        "checked": {int(pk) for pk in form["reviewers"].value() or [] if str(pk).isdigit()},
        "eligible": [o for o in options if o.eligible],
        "excluded": [o for o in options if not o.eligible],
        "can_assign": assessment.status in (AssessmentStatus.FORWARDED, AssessmentStatus.SCORING),
    }
    return render(request, "reviews/team/assign.html", context, status=status)


@login_required
@require_GET
def team_scores(request: HttpRequest, pk: int) -> HttpResponse:
    """The committee's view of every reviewer's scores, with the disagreements flagged."""
    assessment = _committee_assessment_or_404(request, pk)
    if not team_scores_visibility(request.user, assessment).scores:
        # A committee member who is also one of the reviewers scores blind like the others.
        raise PermissionDenied(_("Submit your own scores before looking at the team's."))
    summary = scoring_summary(assessment)
    return render(request, "reviews/team/scores.html", {"assessment": assessment, "summary": summary})


# ---------------------------------------------------------------------------- the reviewers


def require_team_member(user) -> None:
    if not user.is_superuser and Role.ASSESSMENT_REVIEWER not in role_set(user):
        raise PermissionDenied(_("Only members of the assessment team have assignments."))


def my_assignments_listed(request: HttpRequest) -> tuple:
    """The reviewer's assignments under the cycle filter (``?cycle=<pk>`` or ``all``), the cycle, the choices.

    Without a choice the filter is the newest open cycle the reviewer has work in, so this
    cycle's work comes first; "all cycles" when no open cycle has any.
    """
    cycles = list(reviewer_cycles(request.user)[:50])
    wanted = request.GET.get("cycle", "")
    chosen = next((cycle for cycle in cycles if str(cycle.pk) == wanted), None)
    if chosen is None and wanted != ALL_CYCLES:
        chosen = next((cycle for cycle in cycles if cycle.status == CycleStatus.OPEN), None)
    assignments = reviewer_assignments(request.user)
    if chosen is not None:
        assignments = assignments.filter(cycle_id=chosen.pk)
    return assignments, chosen, cycles


@login_required
@kept_page
@require_GET
def my_assignments(request: HttpRequest) -> HttpResponse:
    """A reviewer's home: what they are to score, the deadline, and whether they have submitted."""
    require_team_member(request.user)
    assignments, chosen, cycles = my_assignments_listed(request)
    value = str(chosen.pk) if chosen else ALL_CYCLES
    context = {
        "page": page_of(request, assignments),
        "cycles": cycles,
        "cycle_filter": value,
        "all_cycles": ALL_CYCLES,
        "query": f"cycle={value}",
    }
    return render(request, "reviews/team/my_assignments.html", context)


def _sheet_rows(assessment, form, summary):
    own = self_assessment_data(assessment)
    by_item = {row.item.pk: row for row in summary.items} if summary else {}
    return [
        {
            "item": item,
            "score_field": score_field,
            "comment_field": comment_field,
            "self": own.self_scores.get(item.pk),
            "files": own.evidence.get(item.pk, []),
            "summary": by_item.get(item.pk),
        }
        for item, score_field, comment_field in form.rows()
    ]


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def score(request: HttpRequest, pk: int) -> HttpResponse:
    """The reviewer's score sheet for one assessment (``pk`` is the assessment's).

    Blind: until the reviewer has submitted, the page is built without anyone else's
    scores, so nothing of theirs can leak into it.
    """
    assignment = get_assignment_for_reviewer_or_404(request.user, pk)
    assessment = assignment.assessment
    items = standard_items(assessment)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        form = ScoreSheetForm(request.POST, items=items)
        if action not in ("save", "submit", "revise"):
            return HttpResponseBadRequest(_("Unknown action."))
        if form.is_valid():
            entries = form.entries()
            try:
                if action == "save":
                    save_draft_scores(assignment=assignment, actor=request.user, entries=entries)
                    message = _("Your draft was saved.")
                elif action == "submit":
                    submit_scores(assignment=assignment, actor=request.user, entries=entries)
                    message = _("Your scores were submitted.")
                else:
                    revise_scores(
                        assignment=assignment,
                        actor=request.user,
                        entries=entries,
                        note=request.POST.get("note", ""),
                    )
                    message = _("Your revised scores were saved.")
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                return done(request, message, "reviews:score", assessment.pk)
        status = 400
    else:
        form = ScoreSheetForm(
            initial=ScoreSheetForm.initial_from(items, latest_own_scores(assignment)), items=items
        )

    submitted = assignment.submitted_at is not None
    summary = scoring_summary(assessment) if team_scores_visibility(request.user, assessment).scores else None
    if not submitted and assessment.status == AssessmentStatus.SCORING:
        mode = "edit"
    elif submitted and assessment.status == AssessmentStatus.SCORED:
        mode = "revise"
    else:
        mode = "read"
    context = {
        "assessment": assessment,
        "assignment": assignment,
        "form": form,
        "rows": _sheet_rows(assessment, form, summary),
        "summary": summary,
        "mode": mode,
    }
    return render(request, "reviews/team/score.html", context, status=status)


urlpatterns = [
    path("team/cycles/<int:cycle_pk>/", team_overview, name="team_overview"),
    path("team/cycles/<int:cycle_pk>/auto-assign/", auto_assign_view, name="auto_assign"),
    path("team/assessments/<int:pk>/reviewers/", assign_reviewers_view, name="assign_reviewers"),
    path("team/assessments/<int:pk>/scores/", team_scores, name="team_scores"),
    path("scoring/", my_assignments, name="my_assignments"),
    path("scoring/<int:pk>/", score, name="score"),
]
