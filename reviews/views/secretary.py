"""Pages of the branch secretary: the self-assessment, its evidence files, the read-only view.

Outside the user's scope every page answers 404; in scope but without the branch
secretary's role, the editing pages answer 403; a change the assessment's state no longer
allows answers 409 (``workflow_action``).
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from branches.errors import WorkflowError
from branches.roles import Role
from branches.selectors import has_role_on
from scoring.arithmetic import StandardRules, veto_applies
from scoring.models import Dimension, Item, ItemKind
from scoring.selectors import rules_from_standard, standard_outline
from scoring.templatetags.stars import star_label

from ..forms.secretary import SelfAssessmentForm, evidence_field_name
from ..models import Assessment, AssessmentStatus, Evidence, SelfScore, SubmissionRound
from ..selectors import (
    appeal_deadline,
    appeal_of,
    appeal_window_open,
    evidence_of,
    get_evidence_for_user_or_404,
    get_readable_assessment_or_404,
    self_assessment_data,
)
from ..services.assessment import (
    add_evidence,
    check_editable,
    delete_evidence,
    save_self_assessment,
    self_result,
    submit_self_assessment,
)
from ..uploads import ACCEPT_ATTRIBUTE, allowed_types_text
from .common import workflow_action


@dataclass
class PageData:
    """Everything the assessment pages show, loaded in a fixed number of queries."""

    dimensions: list[Dimension]
    items: list[Item]
    self_scores: dict[int, SelfScore]
    evidence: dict[int, list[Evidence]]
    rules: StandardRules

    @property
    def scores(self) -> dict[int, object]:
        return {item_id: row.score for item_id, row in self.self_scores.items()}


def _load(assessment: Assessment) -> PageData:
    standard = assessment.cycle.standard
    outline = standard_outline(standard)
    own = self_assessment_data(assessment)
    return PageData(
        dimensions=[dimension for dimension, _items in outline],
        items=[item for _dimension, items in outline for item in items],
        self_scores=own.self_scores,
        evidence=own.evidence,
        rules=rules_from_standard(standard),
    )


def _latest_returned_round(assessment: Assessment) -> SubmissionRound | None:
    if assessment.status != AssessmentStatus.RETURNED:
        return None
    return (
        SubmissionRound.objects.filter(assessment_id=assessment.pk, outcome=SubmissionRound.Outcome.RETURNED)
        .select_related("reviewed_by")
        .order_by("-number")
        .first()
    )


def _is_secretary(user, assessment: Assessment) -> bool:
    return has_role_on(user, Role.BRANCH_SECRETARY, assessment.branch)


def _secretary_assessment(user, pk: int) -> Assessment:
    """The assessment if the user is its branch secretary: 404 outside scope, 403 for other roles."""
    assessment = get_readable_assessment_or_404(user, pk)
    if not _is_secretary(user, assessment):
        raise PermissionDenied(_("Only the branch secretary can change the self-assessment."))
    return assessment


def _is_editable(assessment: Assessment) -> bool:
    try:
        check_editable(assessment)
    except WorkflowError:
        return False
    return True


# After a save the next page tells the browser that its unsaved copy (localStorage) is now on
# the server. The redirect carries that in a signed, short-lived ``?saved=`` token rather than
# in the session, so that saving a draft writes no session row; the page's script drops the
# token from the address at once, so reloading it later never throws newer typing away.
SAVED_PARAM = "saved"
_SAVED_SALT = "reviews.self_assessment.saved"
_SAVED_MAX_AGE = 600


def _with_saved_token(url: str, assessment: Assessment) -> str:
    token = signing.dumps(assessment.pk, salt=_SAVED_SALT)
    return f"{url}?{urlencode({SAVED_PARAM: token})}"


def _just_saved(request: HttpRequest, assessment: Assessment) -> bool:
    token = request.GET.get(SAVED_PARAM, "")
    if not token:
        return False
    try:
        return signing.loads(token, salt=_SAVED_SALT, max_age=_SAVED_MAX_AGE) == assessment.pk
    except signing.BadSignature:  # forged, altered or expired: the browser keeps its copy
        return False


def _js_config(
    assessment: Assessment, rules: StandardRules | None, items, *, clear_draft: bool, has_errors: bool
):
    config = {
        "assessmentId": assessment.pk,
        "version": assessment.updated_at.isoformat(),
        "updatedAtMs": int(assessment.updated_at.timestamp() * 1000),
        "clearDraft": clear_draft,
        "hasErrors": has_errors,
        "starLabels": {str(n): star_label(n) for n in range(1, 6)},
    }
    if rules is not None:
        config.update(
            {
                "maxScore": str(rules.max_score),
                "bonusCap": None if rules.bonus_cap is None else str(rules.bonus_cap),
                "allowAboveMax": rules.allow_total_above_max,
                "thresholds": [[stars, str(min_score)] for stars, min_score in rules.thresholds],
                "items": {
                    str(item.pk): {
                        "code": item.code,
                        "kind": item.kind,
                        "max": str(item.max_score),
                        "vetoCap": item.veto_star_cap,
                    }
                    for item in items
                },
            }
        )
    return config


def _render_edit(
    request: HttpRequest,
    assessment: Assessment,
    data: PageData,
    form: SelfAssessmentForm,
    *,
    upload_errors: dict[int, list[str]] | None = None,
    submit_problems: list[str] | None = None,
    clear_draft: bool = False,
) -> HttpResponse:
    has_errors = bool(form.errors or upload_errors or submit_problems)
    context = {
        "assessment": assessment,
        "form": form,
        "rows": form.rows(data.dimensions, data.evidence, upload_errors),
        "result": self_result(data.rules, data.items, data.scores),
        "rules": data.rules,
        "returned_round": _latest_returned_round(assessment),
        "field_errors": bool(form.errors or upload_errors),
        "submit_problems": submit_problems or [],
        "accept": ACCEPT_ATTRIBUTE,
        "allowed_types": allowed_types_text(),
        "max_upload": settings.EVIDENCE_MAX_BYTES,
        "js_config": _js_config(
            assessment, data.rules, data.items, clear_draft=clear_draft, has_errors=has_errors
        ),
    }
    return render(request, "reviews/secretary/self_assessment.html", context)


def _upload_files(request: HttpRequest, assessment: Assessment, items: list[Item]) -> tuple[dict, list[str]]:
    errors: dict[int, list[str]] = {}
    uploaded: list[str] = []
    for item in items:
        for uploaded_file in request.FILES.getlist(evidence_field_name(item)):
            try:
                evidence = add_evidence(
                    assessment=assessment, item=item, actor=request.user, uploaded_file=uploaded_file
                )
            except ValidationError as error:
                errors.setdefault(item.pk, []).extend(error.messages)
            else:
                uploaded.append(evidence.original_name)
    return errors, uploaded


def _save(request: HttpRequest, assessment: Assessment, *, intent: str, upload_item: Item | None = None):
    """Save every valid field and file; re-show the page with what failed, or redirect."""
    check_editable(assessment)
    # What the form needs to keep the saved value of a refused field; the whole page (evidence,
    # totals) is loaded again only when it is shown again.
    items = [item for _dimension, row in standard_outline(assessment.cycle.standard) for item in row]
    self_scores = {row.item_id: row for row in SelfScore.objects.filter(assessment_id=assessment.pk)}
    form = SelfAssessmentForm(
        request.POST, items=items, self_scores=self_scores, declared_stars=assessment.declared_stars
    )
    form.is_valid()
    save_self_assessment(
        assessment=assessment,
        actor=request.user,
        scores=form.entries(),
        declared_stars=form.declared_stars_value(),
    )
    upload_errors, uploaded = _upload_files(request, assessment, items)
    if upload_item is not None and not request.FILES.getlist(evidence_field_name(upload_item)):
        upload_errors.setdefault(upload_item.pk, []).append(_("Choose a file to upload first."))

    if form.errors or upload_errors:
        return _render_edit(request, assessment, _load(assessment), form, upload_errors=upload_errors)

    if intent == "submit":
        try:
            submit_self_assessment(
                assessment=assessment, actor=request.user, declared_stars=form.declared_stars_value()
            )
        except ValidationError as error:
            return _render_edit(request, assessment, _load(assessment), form, submit_problems=error.messages)
        messages.success(request, _("The self-assessment was submitted for preliminary review."))
        return redirect(
            _with_saved_token(reverse("reviews:assessment_detail", args=[assessment.pk]), assessment)
        )

    for name in uploaded:
        messages.success(request, _("“%(name)s” was uploaded.") % {"name": name})
    messages.success(request, _("The draft was saved."))
    url = _with_saved_token(reverse("reviews:self_assessment", args=[assessment.pk]), assessment)
    if upload_item is not None:
        url += f"#item-{upload_item.pk}"
    return redirect(url)


@login_required
@workflow_action
@require_http_methods(["GET", "POST"])
def self_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    """支部自评: score every item, explain, attach evidence, declare a star level, submit."""
    assessment = _secretary_assessment(request.user, pk)
    if request.method == "POST":
        intent = "submit" if request.POST.get("action") == "submit" else "save"
        return _save(request, assessment, intent=intent)
    if not _is_editable(assessment):
        return redirect("reviews:assessment_detail", assessment.pk)
    data = _load(assessment)
    form = SelfAssessmentForm(
        items=data.items, self_scores=data.self_scores, declared_stars=assessment.declared_stars
    )
    clear_draft = _just_saved(request, assessment)
    return _render_edit(request, assessment, data, form, clear_draft=clear_draft)


@login_required
@workflow_action
@require_POST
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """An item's "Upload" button: saves the whole form too, so nothing typed is lost."""
    assessment = _secretary_assessment(request.user, pk)
    item = (
        Item.objects.filter(dimension__standard_id=assessment.cycle.standard_id, pk=request.POST.get("item"))
        .only("pk")
        .first()
        if (request.POST.get("item") or "").isdigit()
        else None
    )
    if item is None:
        raise Http404
    if _answers_in_json(request):
        return _upload_in_place(request, assessment, item)
    return _save(request, assessment, intent="upload", upload_item=item)


def _answers_in_json(request: HttpRequest) -> bool:
    # The page's script (static/js/evidence_upload.js) asks for JSON; a plain form post does not.
    return "application/json" in request.headers.get("Accept", "")


def _evidence_list_html(request: HttpRequest, assessment: Assessment, item_id: int) -> str:
    files = evidence_of(assessment).filter(item_id=item_id)
    return render_to_string(
        "reviews/_evidence_list.html", {"files": files, "can_delete": True}, request=request
    )


def _upload_in_place(request: HttpRequest, assessment: Assessment, item: Item) -> JsonResponse:
    """The same upload from the page's script: the draft is saved as by the button, the checks
    are those of reviews.uploads, and the answer is the item's new file list, without a reload.

    Every refused file is named with the reason (type, size, content) in the answer's errors.
    """
    check_editable(assessment)
    data = _load(assessment)
    form = SelfAssessmentForm(
        request.POST, items=data.items, self_scores=data.self_scores, declared_stars=assessment.declared_stars
    )
    form.is_valid()
    save_self_assessment(
        assessment=assessment,
        actor=request.user,
        scores=form.entries(),
        declared_stars=form.declared_stars_value(),
    )
    upload_errors, uploaded = _upload_files(request, assessment, [item])
    errors = upload_errors.get(item.pk, [])
    if not request.FILES.getlist(evidence_field_name(item)):
        errors.append(_("Choose a file to upload first."))
    return JsonResponse(
        {
            "uploaded": uploaded,
            "errors": errors,
            "draftErrors": bool(form.errors),
            "listHtml": _evidence_list_html(request, assessment, item.pk),
        },
        status=400 if errors else 200,
    )


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence file, for anyone who may read its assessment; always as a download."""
    evidence = get_evidence_for_user_or_404(request.user, pk)
    try:
        handle = evidence.file.storage.open(evidence.file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@workflow_action
@require_http_methods(["GET", "POST"])
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then remove an evidence file while the branch may still edit."""
    evidence = get_evidence_for_user_or_404(request.user, pk)
    assessment = evidence.assessment
    if not _is_secretary(request.user, assessment):
        raise PermissionDenied(_("Only the branch secretary can remove evidence."))
    check_editable(assessment)
    back = reverse("reviews:self_assessment", args=[assessment.pk]) + f"#item-{evidence.item_id}"
    if request.method == "POST":
        delete_evidence(evidence=evidence, actor=request.user)
        removed = _("“%(name)s” was removed.") % {"name": evidence.original_name}
        if _answers_in_json(request):
            return JsonResponse(
                {"message": removed, "listHtml": _evidence_list_html(request, assessment, evidence.item_id)}
            )
        messages.success(request, removed)
        return redirect(back)
    return render(
        request,
        "reviews/secretary/evidence_delete.html",
        {"evidence": evidence, "assessment": assessment, "back": back},
    )


@dataclass
class ReadOnlyItem:
    item: Item
    score: object
    applies: bool
    explanation: str
    evidence: list[Evidence]


@login_required
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The assessment as anyone in scope may read it: self-scores, evidence, rounds."""
    assessment = get_readable_assessment_or_404(request.user, pk)
    data = _load(assessment)
    rounds = list(
        SubmissionRound.objects.filter(assessment_id=assessment.pk)
        .select_related("submitted_by", "reviewed_by")
        .order_by("-number")
    )
    returned_round = next(
        (r for r in rounds if r.outcome == SubmissionRound.Outcome.RETURNED),
        None,
    )
    is_secretary = _is_secretary(request.user, assessment)
    sections = []
    for dimension in data.dimensions:
        entries = []
        for item in dimension.items.all():
            row = data.self_scores.get(item.pk)
            score = row.score if row else None
            entries.append(
                ReadOnlyItem(
                    item=item,
                    score=score,
                    applies=item.kind == ItemKind.VETO and veto_applies(score),
                    explanation=row.explanation if row else "",
                    evidence=data.evidence.get(item.pk, []),
                )
            )
        sections.append((dimension, entries))
    clear_draft = _just_saved(request, assessment)
    # 复核申请: its state, or whether one may still be made; only a published result has one.
    published = assessment.status == AssessmentStatus.PUBLICIZED
    appeal = appeal_of(assessment) if published or assessment.status == AssessmentStatus.CERTIFIED else None
    context = {
        "assessment": assessment,
        "sections": sections,
        "rounds": rounds,
        "returned_round": returned_round if assessment.status == AssessmentStatus.RETURNED else None,
        "result": self_result(data.rules, data.items, data.scores),
        "rules": data.rules,
        "can_edit": is_secretary and _is_editable(assessment),
        "appeal": appeal,
        "may_appeal": is_secretary and appeal is None and appeal_window_open(assessment),
        "appeal_deadline": appeal_deadline(assessment) if published else None,
        "js_config": _js_config(assessment, None, (), clear_draft=clear_draft, has_errors=False),
    }
    return render(request, "reviews/secretary/assessment_detail.html", context)


urlpatterns = [
    path("assessments/<int:pk>/", assessment_detail, name="assessment_detail"),
    path("assessments/<int:pk>/self/", self_assessment, name="self_assessment"),
    path("assessments/<int:pk>/evidence/upload/", evidence_upload, name="evidence_upload"),
    path("evidence/<int:pk>/", evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/delete/", evidence_delete, name="evidence_delete"),
]
