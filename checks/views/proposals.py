"""Downgrade proposals: the approver's list, and the decision (downgrade or dismiss)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from branches.kept import kept_page
from branches.roles import APPROVERS, COMMITTEE_MANAGERS
from branches.selectors import committees_for_roles, require_role
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.views.common import add_service_errors, done, page_of, workflow_action

from ..forms.proposals import ProposalDecisionForm
from ..models import ProposalStatus
from ..selectors import downgrade_proposals_visible_to, get_downgrade_proposal_for_user_or_404
from ..services.years import dismiss_proposal, downgrade_from_proposal


def _proposals_of_page(request):
    """The proposals of the list's tab (``?state=open``, else the decided ones) and the tab."""
    if not request.user.is_superuser and not committees_for_roles(request.user, COMMITTEE_MANAGERS).exists():
        raise PermissionDenied(_("Only the committee's approver or staff see downgrade proposals."))
    state = request.GET.get("state", "open")
    proposals = downgrade_proposals_visible_to(request.user).select_related(
        "branch", "branch__parent", "sheet__round"
    )
    proposals = (
        proposals.filter(status=ProposalStatus.OPEN)
        if state == "open"
        else proposals.exclude(status=ProposalStatus.OPEN)
    )
    return proposals.order_by("-proposed_at", "-pk"), state


@login_required
@kept_page
@require_GET
def proposal_list(request: HttpRequest) -> HttpResponse:
    """The downgrade proposals of the user's committees, open ones first."""
    proposals, state = _proposals_of_page(request)
    context = {
        "page": page_of(request, proposals),
        "state": state,
        "query": f"state={state}",
    }
    return render(request, "checks/proposal_list.html", context)


@login_required
@require_GET
def proposal_list_export(request: HttpRequest):
    """The downgrade proposals of the list's tab in Excel, with how each was decided."""
    proposals, _state = _proposals_of_page(request)
    header = [
        _("Proposed at"),
        _("Branch"),
        _("Parent organization"),
        _("Source"),
        _("Star level in force"),
        _("Why"),
        _("Status"),
        _("Decided at"),
        _("Decided by"),
        _("Reason of the decision"),
    ]
    rows = (
        [
            proposal.proposed_at,
            proposal.branch.name,
            proposal.branch.parent.name if proposal.branch.parent_id else "",
            proposal.get_source_display(),
            proposal.stars,
            proposal.reason,
            proposal.get_status_display(),
            proposal.decided_at,
            str(proposal.decided_by) if proposal.decided_by_id else "",
            proposal.decision_note,
        ]
        for proposal in proposals.select_related("decided_by").iterator(chunk_size=2000)
    )
    title = _("Downgrade proposals")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


@login_required
@require_http_methods(["GET", "POST"])
@workflow_action
def proposal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The approver lowers the star (the existing downgrade) or dismisses the proposal with a reason."""
    proposal = get_downgrade_proposal_for_user_or_404(request.user, pk)
    require_role(request.user, APPROVERS, proposal.branch)
    form = ProposalDecisionForm(request.POST or None, stars=proposal.stars)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["decision"] == ProposalDecisionForm.DOWNGRADE:
                    downgrade_from_proposal(
                        proposal=proposal,
                        actor=request.user,
                        to_stars=data["to_stars"],
                        reason=data["reason"],
                        violation=data["violation"],
                    )
                else:
                    dismiss_proposal(proposal=proposal, actor=request.user, reason=data["reason"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return done(request, _("The proposal is decided."), "checks:proposal_list")
        status = 400
    files = proposal.entry.files.all() if proposal.entry_id else []
    context = {"proposal": proposal, "form": form, "files": files}
    return render(request, "checks/proposal_decide.html", context, status=status)


urlpatterns = [
    path("proposals/", proposal_list, name="proposal_list"),
    path("proposals/export/", proposal_list_export, name="proposal_list_export"),
    path("proposals/<int:pk>/", proposal_decide, name="proposal_decide"),
]
