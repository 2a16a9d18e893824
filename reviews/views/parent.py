"""The preliminary review (初审) by the parent organization: the queue, one review, forward, return."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from branches.kept import kept_page
from branches.roles import Role
from branches.selectors import has_role_on, role_set

from ..forms.parent import ForwardForm, ReturnForm
from ..models import Assessment, AssessmentStatus
from ..selectors import (
    QUEUE_STATES,
    get_assessment_for_user_or_404,
    queue_for,
    self_assessment_data,
    standard_items,
)
from ..services.preliminary import forward_assessment, return_assessment
from .common import done, page_of, workflow_action


def _require_parent_reviewer(user) -> None:
    if not user.is_superuser and Role.PARENT_REVIEWER not in role_set(user):
        raise PermissionDenied(_("Only a preliminary reviewer can open this page."))


def queue_listed(request: HttpRequest) -> tuple:
    """The queue under its ``?state=`` tab, and the tab: shared by the page and its export."""
    state = request.GET.get("state", "pending")
    if state not in QUEUE_STATES:
        state = "pending"
    return queue_for(request.user, state), state


@login_required
@kept_page
@require_GET
def preliminary_queue(request: HttpRequest) -> HttpResponse:
    """初审: the submissions waiting for this parent reviewer, or those already handled."""
    _require_parent_reviewer(request.user)
    queue, state = queue_listed(request)
    page = page_of(request, queue)
    context = {"page": page, "state": state, "query": f"state={state}"}
    return render(request, "reviews/parent/queue.html", context)


def _reviewable_or_404(request, pk) -> Assessment:
    """In scope with any role → the assessment; without the parent reviewer's role → 403."""
    assessment = get_assessment_for_user_or_404(request.user, pk)
    if not has_role_on(request.user, Role.PARENT_REVIEWER, assessment.branch):
        raise PermissionDenied(_("Only the parent organization's preliminary reviewer can review this."))
    return assessment


def _review_page(request, assessment: Assessment, *, forward_form=None, return_form=None, status=200):
    own = self_assessment_data(assessment)
    rows = [
        (item, own.self_scores.get(item.pk), own.evidence.get(item.pk, []))
        for item in standard_items(assessment)
    ]
    rounds = assessment.rounds.select_related("submitted_by", "reviewed_by").order_by("-number")
    events = assessment.events.select_related("actor").order_by("-at", "-pk")
    context = {
        "assessment": assessment,
        "rows": rows,
        "rounds": rounds,
        "events": events,
        "can_review": assessment.status == AssessmentStatus.SUBMITTED,
        "forward_form": forward_form or ForwardForm(),
        "return_form": return_form or ReturnForm(),
    }
    return render(request, "reviews/parent/review.html", context, status=status)


@login_required
@require_GET
def preliminary_review(request: HttpRequest, pk: int) -> HttpResponse:
    """One submission: items, self-scores, explanations, evidence, every round so far."""
    return _review_page(request, _reviewable_or_404(request, pk))


def _decide(request: HttpRequest, pk: int, *, form_class, field: str, service, message: str, page_key: str):
    """Forward or return: validate the one text field, hand it to the service, or re-show the page."""
    assessment = _reviewable_or_404(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(assessment=assessment, actor=request.user, **{field: form.cleaned_data[field]})
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return done(request, message % {"branch": assessment.branch}, "reviews:preliminary_queue")
    return _review_page(request, assessment, status=400, **{page_key: form})


@login_required
@require_POST
@workflow_action
def preliminary_forward(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        form_class=ForwardForm,
        field="recommendation",
        service=forward_assessment,
        message=_("%(branch)s was forwarded to the committee."),
        page_key="forward_form",
    )


@login_required
@require_POST
@workflow_action
def preliminary_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        form_class=ReturnForm,
        field="reason",
        service=return_assessment,
        message=_("%(branch)s was returned to the branch."),
        page_key="return_form",
    )


urlpatterns = [
    path("preliminary/", preliminary_queue, name="preliminary_queue"),
    path("preliminary/<int:pk>/", preliminary_review, name="preliminary_review"),
    path("preliminary/<int:pk>/forward/", preliminary_forward, name="preliminary_forward"),
    path("preliminary/<int:pk>/return/", preliminary_return, name="preliminary_return"),
]
