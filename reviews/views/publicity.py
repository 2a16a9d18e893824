"""The public notice (公示) as every member of the committee's tree reads it, and objections lodged online.

Whoever holds any role in a committee's tree sees the results of its batches not certified
yet; while a batch's window runs, they may lodge an objection, recorded with their name.
The committee's own page (``committee.cycle_publicity``) stays where approvers and staff
record objections received on paper and resolve them all.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from branches.errors import WorkflowError
from branches.kept import kept_page
from branches.spreadsheets import Sheet, dated_filename, xlsx_response

from ..forms.publicity import LodgeObjectionForm
from ..selectors import (
    get_notice_result_for_member_or_404,
    notice_batches_for_member,
    notice_results_for_member,
)
from ..services import decision as decision_services
from .common import add_service_errors, page_of

# More uncertified batches than this at once would be a committee's mistake, not a page to scroll.
BATCHES_SHOWN = 20


@login_required
@kept_page
def public_notice(request):
    """The results under public notice in the user's committees, with how to object."""
    now = timezone.now()
    batches = list(notice_batches_for_member(request.user)[:BATCHES_SHOWN])
    for batch in batches:
        batch.is_running = batch.running(now)
    page = page_of(request, notice_results_for_member(request.user))
    for assessment in page:
        assessment.is_running = assessment.notice_batch.running(now)
    return render(
        request, "reviews/publicity/notice_list.html", {"batches": batches, "page": page, "query": ""}
    )


@login_required
@require_GET
def public_notice_export(request):
    """The results under public notice, as the members' page lists them: branch, parent, stars, period."""
    header = [
        _("Party branch"),
        _("Parent organization"),
        _("Stars"),
        _("Public notice started"),
        _("Public notice ends"),
    ]
    rows = (
        [
            assessment.branch.name,
            assessment.branch.parent.name if assessment.branch.parent_id else "",
            assessment.decided_stars,
            assessment.notice_batch.started_at,
            assessment.notice_batch.ends_at,
        ]
        for assessment in notice_results_for_member(request.user).iterator(chunk_size=2000)
    )
    title = _("Public notice")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


@login_required
def objection_lodge(request, assessment_pk):
    """A member lodges an objection to one result while its notice runs; refused once it has ended."""
    assessment = get_notice_result_for_member_or_404(request.user, assessment_pk)
    running = assessment.notice_batch.running(timezone.now())
    form = LodgeObjectionForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            decision_services.lodge_objection(
                assessment=assessment,
                actor=request.user,
                content=form.cleaned_data["content"],
                contact=form.cleaned_data["contact"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except WorkflowError as refused:
            # Keep what was typed on the page: the period may have ended while the user wrote.
            form.add_error(None, refused.message)
            running = False
            status = 409
        else:
            messages.success(
                request,
                _("Your objection to the result of %(branch)s is lodged; the committee will look into it.")
                % {"branch": assessment.branch.name},
            )
            return redirect("reviews:public_notice")
    if form.errors and status == 200:
        status = 400
    return render(
        request,
        "reviews/publicity/objection_form.html",
        {"assessment": assessment, "batch": assessment.notice_batch, "form": form, "running": running},
        status=status,
    )


urlpatterns = [
    path("public-notice/", public_notice, name="public_notice"),
    path("public-notice/export/", public_notice_export, name="public_notice_export"),
    path("public-notice/<int:assessment_pk>/objection/", objection_lodge, name="objection_lodge"),
]
