"""A branch's page (star, stage, certificate, star history) and dynamic management (动态管理)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from branches import timeline
from branches.errors import WorkflowError
from branches.models import OrgKind
from branches.roles import APPROVERS, Role
from branches.selectors import get_organization_for_user_or_404, has_role_on, require_role, role_holders_of
from scoring.models import MIN_STARS

from ..forms.branch import DowngradeForm, RevokeForm
from ..models import Assessment, StarEvent
from ..selectors import current_certificate
from ..services import decision as decision_services
from .common import add_service_errors, done, page_of, workflow_action


def _branch_or_404(user, pk):
    branch = get_organization_for_user_or_404(user, pk)
    if branch.kind != OrgKind.BRANCH:
        raise Http404
    return branch


def star_history(branch):
    """The branch's star events, newest first, with their certificates: page and export."""
    return (
        StarEvent.objects.filter(branch_id=branch.pk)
        .select_related("actor", "certificate__assessment__cycle")
        .order_by("-at", "-pk")
    )


@login_required
def branch_detail(request, pk):
    """A branch's current star, stage, certificate and its star history as a timeline."""
    branch = _branch_or_404(request.user, pk)
    certificate = current_certificate(branch)
    events = star_history(branch)
    latest = (
        Assessment.objects.filter(branch_id=branch.pk)
        .select_related("cycle")
        .order_by("-cycle__opened_at", "-pk")
        .first()
    )
    can_manage = certificate is not None and has_role_on(request.user, Role.COMMITTEE_APPROVER, branch)
    return render(
        request,
        "reviews/branch/detail.html",
        {
            "branch": branch,
            "certificate": certificate,
            "page": page_of(request, events, 20),
            "latest": latest,
            "can_manage": can_manage,
            # People and roles: who holds a role on the branch or above it; staff may edit.
            "holders": role_holders_of(branch),
            "can_edit_organization": has_role_on(request.user, Role.STAFF, branch),
            # Stage changes, rectification, supervision: registered by each app (branches/timeline.py).
            "timeline": timeline.entries_for(branch, request.user),
        },
    )


def _dynamic_view(request, pk, *, form_class, template):
    branch = _branch_or_404(request.user, pk)
    require_role(request.user, APPROVERS, branch)
    certificate = current_certificate(branch)
    if certificate is None:
        raise WorkflowError(_("This branch holds no star certificate in force."))
    extra = {}
    if form_class is DowngradeForm:
        if certificate.stars <= MIN_STARS:
            raise WorkflowError(_("One star is the lowest level; revoke the star level instead."))
        extra["current_stars"] = certificate.stars
    form = form_class(request.POST or None, **extra)
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if key != "confirm"}
        try:
            if form_class is DowngradeForm:
                event = decision_services.downgrade_branch(branch=branch, actor=request.user, **data)
                message = _("The star level of %(branch)s is lowered.")
            else:
                event = decision_services.revoke_branch(branch=branch, actor=request.user, **data)
                message = _("The star level of %(branch)s is revoked.")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # What followed (a rectification task opened): linked from the branch page's timeline.
            for followup in getattr(event, "followups", ()):
                messages.info(request, followup)
            return done(request, message % {"branch": branch}, "reviews:branch_detail", branch.pk)
    return render(request, template, {"branch": branch, "certificate": certificate, "form": form})


@login_required
@workflow_action
def branch_downgrade(request, pk):
    return _dynamic_view(request, pk, form_class=DowngradeForm, template="reviews/branch/downgrade.html")


@login_required
@workflow_action
def branch_revoke(request, pk):
    return _dynamic_view(request, pk, form_class=RevokeForm, template="reviews/branch/revoke.html")


urlpatterns = [
    path("branches/<int:pk>/", branch_detail, name="branch_detail"),
    path("branches/<int:pk>/downgrade/", branch_downgrade, name="branch_downgrade"),
    path("branches/<int:pk>/revoke/", branch_revoke, name="branch_revoke"),
]
