"""Appeal pages (复核申请): the branch applies, the approver answers, re-reviewers re-score.

Outside the user's scope every page answers 404; in scope with a role too low, 403; a step
the appeal's state no longer allows, 409 with the reason (``workflow_action``).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from branches.kept import kept_page
from branches.roles import APPROVERS, COMMITTEE_MANAGERS, SECRETARIES, Role
from branches.selectors import has_role_on, require_role, role_set

from ..forms.appeals import (
    AppealDecisionForm,
    AppealForm,
    AppealReviewForm,
    ReviewerChoiceForm,
    ScoreSheetForm,
)
from ..models import AppealEvent, AppealScore, AppealStatus
from ..selectors import (
    appeal_deadline,
    appeal_list_for,
    appeal_reviewer_options,
    appeal_scores_visibility,
    appeal_summary,
    contestable_items,
    get_appeal_assignment_or_404,
    get_appeal_file_for_user_or_404,
    get_appeal_for_user_or_404,
    get_readable_assessment_or_404,
    scoring_summary,
    self_assessment_data,
    team_scores_visibility,
)
from ..services import appeals as services
from .common import add_service_errors, done, handle_form, page_of, workflow_action


def _contested(appeal):
    return list(appeal.items.order_by("dimension__order", "dimension__code", "order", "code"))


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def appeal_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """The branch secretary's application for a re-review of the branch's published result."""
    assessment = get_readable_assessment_or_404(request.user, pk)
    require_role(request.user, SECRETARIES, assessment.branch)
    services.check_may_appeal(assessment)
    team_scores = {}
    if team_scores_visibility(request.user, assessment).scores:  # public from the notice on
        team_scores = {
            row.item.pk: row.mean for row in scoring_summary(assessment).items if row.mean is not None
        }
    form = AppealForm(
        request.POST or None,
        request.FILES or None,
        items=contestable_items(assessment),
        team_scores=team_scores,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appeal = services.apply_for_appeal(
                assessment=assessment,
                actor=request.user,
                reason=data["reason"],
                items=list(data["items"]),
                files=data["files"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return done(request, _("Your appeal was submitted."), "reviews:appeal_detail", appeal.pk)
    return render(
        request,
        "reviews/appeals/apply.html",
        {"assessment": assessment, "form": form, "deadline": appeal_deadline(assessment)},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An appeal's state, reason, files, steps and, where visible, the re-scores."""
    appeal = get_appeal_for_user_or_404(request.user, pk)
    committee = appeal.assessment.cycle.committee
    visibility = appeal_scores_visibility(request.user, appeal)
    approver = has_role_on(request.user, Role.COMMITTEE_APPROVER, committee)
    manager = approver or has_role_on(request.user, Role.STAFF, committee)
    context = {
        "appeal": appeal,
        "assessment": appeal.assessment,
        "items": _contested(appeal),
        "files": list(appeal.files.all()),
        "events": AppealEvent.objects.filter(appeal_id=appeal.pk)
        .select_related("actor")
        .order_by("at", "pk"),
        "summary": appeal_summary(appeal) if visibility.scores else None,
        "names": visibility.names,
        "can_review": approver and appeal.status == AppealStatus.SUBMITTED,
        "can_assign": manager and appeal.status in (AppealStatus.ACCEPTED, AppealStatus.RESCORING),
        "can_decide": approver and appeal.status == AppealStatus.RESCORED,
        "is_rereviewer": appeal.reviewers.filter(reviewer_id=request.user.pk).exists(),
    }
    return render(request, "reviews/appeals/detail.html", context)


@login_required
@require_GET
def appeal_file(request: HttpRequest, pk: int) -> FileResponse:
    """A file of an appeal, for anyone who may read the appeal; always as a download."""
    row = get_appeal_file_for_user_or_404(request.user, pk)
    try:
        handle = row.file.storage.open(row.file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=row.original_name, content_type=row.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def appeal_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The approver accepts or rejects an appeal, with the reason."""
    appeal = get_appeal_for_user_or_404(request.user, pk)
    require_role(request.user, APPROVERS, appeal.assessment.cycle.committee)
    form = AppealReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "accept":
                services.accept_appeal(
                    appeal=appeal,
                    actor=request.user,
                    reason=data["reason"],
                    reviewers_wanted=data["reviewers_wanted"] or 2,
                )
                message = _("The appeal is accepted; choose its re-reviewers.")
                to = "reviews:appeal_assign"
            else:
                services.reject_appeal(appeal=appeal, actor=request.user, reason=data["reason"])
                message, to = _("The appeal is rejected."), "reviews:appeal_detail"
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return done(request, message, to, appeal.pk)
    return render(
        request,
        "reviews/appeals/review.html",
        {
            "appeal": appeal,
            "assessment": appeal.assessment,
            "items": _contested(appeal),
            "form": form,
            "answerable": appeal.status == AppealStatus.SUBMITTED,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def appeal_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the re-reviewers: team members who did not score the result and have no conflict."""
    appeal = get_appeal_for_user_or_404(request.user, pk)
    require_role(request.user, COMMITTEE_MANAGERS, appeal.assessment.cycle.committee)
    options = appeal_reviewer_options(appeal)
    form = ReviewerChoiceForm(request.POST or None, options=options)
    if request.method == "POST" and form.is_valid():
        try:
            services.assign_appeal_reviewers(appeal=appeal, actor=request.user, reviewers=form.chosen_users())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return done(request, _("The re-reviewers were saved."), "reviews:appeal_detail", appeal.pk)
    context = {
        "appeal": appeal,
        "assessment": appeal.assessment,
        "form": form,
        "checked": {int(pk) for pk in form["reviewers"].value() or [] if str(pk).isdigit()},
        "eligible": [o for o in options if o.eligible],
        "excluded": [o for o in options if not o.eligible],
        "can_assign": appeal.status in (AppealStatus.ACCEPTED, AppealStatus.RESCORING),
    }
    return render(request, "reviews/appeals/assign.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def appeal_score(request: HttpRequest, pk: int) -> HttpResponse:
    """A re-reviewer's sheet of the contested items; blind until submitted (``pk`` is the appeal's)."""
    assignment = get_appeal_assignment_or_404(request.user, pk)
    appeal = assignment.appeal
    items = _contested(appeal)
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("save", "submit"):
            return HttpResponseBadRequest(_("Unknown action."))
        form = ScoreSheetForm(request.POST, items=items)
        if form.is_valid():
            try:
                services.save_appeal_scores(
                    assignment=assignment,
                    actor=request.user,
                    entries=form.entries(),
                    submit=action == "submit",
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                message = (
                    _("Your re-scores were submitted.") if action == "submit" else _("Your draft was saved.")
                )
                return done(request, message, "reviews:appeal_score", appeal.pk)
    else:
        own = {row.item_id: row for row in AppealScore.objects.filter(assignment_id=assignment.pk)}
        form = ScoreSheetForm(initial=ScoreSheetForm.initial_from(items, own), items=items)
    visible = appeal_scores_visibility(request.user, appeal).scores
    own = self_assessment_data(appeal.assessment)
    context = {
        "appeal": appeal,
        "assessment": appeal.assessment,
        "assignment": assignment,
        "form": form,
        # The branch's self-score and evidence of each contested item, and the appeal's files.
        "rows": [
            (item, score, comment, own.self_scores.get(item.pk), own.evidence.get(item.pk, []))
            for item, score, comment in form.rows()
        ],
        "files": list(appeal.files.all()),
        "summary": appeal_summary(appeal) if visible else None,
        "editable": assignment.submitted_at is None and appeal.status == AppealStatus.RESCORING,
    }
    return render(request, "reviews/appeals/score.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def appeal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The approver upholds or changes the star level after the re-scoring, with the reason."""
    appeal = get_appeal_for_user_or_404(request.user, pk)
    require_role(request.user, APPROVERS, appeal.assessment.cycle.committee)
    summary = appeal_summary(appeal)
    initial = {"stars": appeal.proposed_stars or appeal.original_stars}
    form = AppealDecisionForm(request.POST or None, initial=initial)
    response = handle_form(
        request,
        form,
        lambda data: services.decide_appeal(
            appeal=appeal, actor=request.user, stars=data["stars"], reason=data["reason"]
        ),
        message=_("The outcome of the appeal is recorded."),
        to="reviews:appeal_detail",
        args=(appeal.pk,),
    )
    return response or render(
        request,
        "reviews/appeals/decide.html",
        {
            "appeal": appeal,
            "assessment": appeal.assessment,
            "summary": summary,
            "form": form,
            "can_decide": appeal.status == AppealStatus.RESCORED,
        },
        status=400 if form.errors else 200,
    )


def require_appeal_list_role(user) -> None:
    """The appeal list is for the committee's approvers and staff, and for re-reviewers; else 403."""
    if not user.is_superuser and not role_set(user) & {*COMMITTEE_MANAGERS, Role.ASSESSMENT_REVIEWER}:
        raise PermissionDenied(_("Your role does not allow this action."))


@login_required
@kept_page
@require_GET
def appeal_list(request: HttpRequest) -> HttpResponse:
    """The committee's appeals for its approvers and staff; a re-reviewer's own."""
    require_appeal_list_role(request.user)
    return render(
        request,
        "reviews/appeals/list.html",
        {"page": page_of(request, appeal_list_for(request.user)), "query": ""},
    )


urlpatterns = [
    path("assessments/<int:pk>/appeal/", appeal_apply, name="appeal_apply"),
    path("appeals/", appeal_list, name="appeal_list"),
    path("appeals/<int:pk>/", appeal_detail, name="appeal_detail"),
    path("appeals/<int:pk>/review/", appeal_review, name="appeal_review"),
    path("appeals/<int:pk>/reviewers/", appeal_assign, name="appeal_assign"),
    path("appeals/<int:pk>/score/", appeal_score, name="appeal_score"),
    path("appeals/<int:pk>/decide/", appeal_decide, name="appeal_decide"),
    path("appeal-files/<int:pk>/", appeal_file, name="appeal_file"),
]
