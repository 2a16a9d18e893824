"""Official documents (公文) in Word: the list, a document's page with its preview, editing a
draft, issuing it (after a confirmation), the .docx download, and making documents from their
sources (a published bulletin, a cycle's certified results, a rectification task).

Who: the committee's staff and approvers make, edit, issue and download every document of it.
Issued documents addressed to every unit are read by anyone holding a reading role in the
committee's tree; those addressed to a party committee or a branch by the people holding a
reading role on it (``get_document_for_user_or_404``). Outside the committee's tree 404.
"""

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from branches.errors import WorkflowError
from branches.models import OrgKind
from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import get_organization_for_user_or_404, require_role
from branches.spreadsheets import Sheet, dated_filename, xlsx_response
from reviews.models import NoticeBatch
from reviews.selectors import get_cycle_for_user_or_404

from ..documents.content import paper_for
from ..forms.documents import CycleDocumentForm, DocumentTextForm, IssueConfirmForm, IssuerForm
from ..models import DocumentKind, DocumentStatus, OfficialDocument
from ..selectors import (
    can_manage_bulletins,
    documents_visible_to,
    get_bulletin_for_user_or_404,
    get_document_for_user_or_404,
    managed_committees,
)
from ..services.documents import (
    DOCX_CONTENT_TYPE,
    create_bulletin_document,
    create_commendation,
    create_rectification_notice,
    create_results_notices,
    edit_document,
    issue_document,
    issuer_of,
    render_to,
    update_issuer,
)
from ..workflow import DOCUMENT_TRANSITIONS

PER_PAGE = 20


def _filename(document: OfficialDocument) -> str:
    stem = document.document_number or _("draft")
    return f"{stem}-{document.title}"[:120].replace("/", "-") + ".docx"


# --- List and page -------------------------------------------------------------------------------


def documents_listed(request):
    """The documents the user may open, with the page's filters: the list and its export."""
    documents = documents_visible_to(request.user).select_related("committee", "unit")
    kind = request.GET.get("kind", "")
    if kind in DocumentKind.values:
        documents = documents.filter(kind=kind)
    status = request.GET.get("status", "")
    if status in DocumentStatus.values:
        documents = documents.filter(status=status)
    documents = documents.order_by("-created_at", "-pk").only(
        "pk",
        "kind",
        "status",
        "title",
        "document_number",
        "issued_at",
        "created_at",
        "committee__name",
        "unit__name",
    )
    return documents, kind, status


@login_required
def document_list(request):
    documents, kind, status = documents_listed(request)
    page = Paginator(documents, PER_PAGE).get_page(request.GET.get("page"))
    committees = list(managed_committees(request.user).order_by("sort_order", "code"))
    issuers = [issuer_of(committee) for committee in committees]
    query = "&".join(f"{key}={value}" for key, value in (("kind", kind), ("status", status)) if value)
    return render(
        request,
        "reports/documents/list.html",
        {
            "page": page,
            "query": query,
            "kinds": DocumentKind.choices,
            "statuses": DocumentStatus.choices,
            "kind": kind,
            "status": status,
            "issuers": issuers,
        },
    )


@login_required
@require_GET
def document_list_export(request):
    """The list's rows (its filters, every page of them) as a workbook."""
    documents, _kind, _status = documents_listed(request)
    header = [
        _("Document number"),
        _("Title"),
        _("Kind"),
        _("Working committee"),
        _("Addressed to"),
        _("Status"),
        _("Issued at"),
    ]
    rows = (
        [
            document.document_number,
            document.title,
            document.get_kind_display(),
            document.committee.name,
            document.unit.name if document.unit_id else _("Every unit"),
            document.get_status_display(),
            document.issued_at,
        ]
        for document in documents.iterator(chunk_size=500)
    )
    title = _("Official documents")
    return xlsx_response(dated_filename(title), [Sheet(title, header, rows)])


@login_required
def document_detail(request, pk):
    document = get_document_for_user_or_404(request.user, pk)
    manager = can_manage_bulletins(request.user, document.committee)
    issuer = issuer_of(document.committee)
    return render(
        request,
        "reports/documents/detail.html",
        {
            "document": document,
            "paper": paper_for(document, organ_name=issuer.organ_name, code=issuer.code),
            "is_manager": manager,
            "can_edit": manager and document.status == DocumentStatus.DRAFT,
            "events": _events(document) if manager else [],
        },
    )


def _events(document: OfficialDocument) -> list:
    labels = {"create": _("made"), **{action: spec.label for action, spec in DOCUMENT_TRANSITIONS.items()}}
    events = list(document.events.select_related("actor").order_by("at", "pk"))
    for event in events:
        event.action_label = labels.get(event.action, event.action)
    return events


@login_required
def document_edit(request, pk):
    document = get_document_for_user_or_404(request.user, pk, manage=True)
    if document.status != DocumentStatus.DRAFT:
        messages.warning(request, _("This document has been issued and can no longer be changed."))
        return redirect("reports:document_detail", document.pk)
    form = DocumentTextForm(request.POST if request.method == "POST" else None, instance=document)
    if request.method == "POST" and form.is_valid():
        try:
            edit_document(
                document=document,
                title=form.cleaned_data["title"],
                lead=form.cleaned_data["lead"],
                closing=form.cleaned_data["closing"],
                actor=request.user,
            )
        except WorkflowError as error:
            messages.warning(request, error.message)
        else:
            messages.success(request, _("The draft is saved."))
        return redirect("reports:document_detail", document.pk)
    return render(
        request,
        "reports/documents/edit.html",
        {"document": document, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def document_issue(request, pk):
    document = get_document_for_user_or_404(request.user, pk, manage=True)
    if document.status != DocumentStatus.DRAFT:
        messages.warning(request, _("This document has already been issued."))
        return redirect("reports:document_detail", document.pk)
    form = IssueConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = issue_document(document=document, actor=request.user)
        except WorkflowError as error:
            messages.warning(request, error.message)
        else:
            messages.success(
                request, _("The document is issued as %(number)s.") % {"number": issued.document_number}
            )
        return redirect("reports:document_detail", document.pk)
    issuer = issuer_of(document.committee)
    return render(
        request,
        "reports/documents/issue_confirm.html",
        {"document": document, "form": form, "issuer": issuer},
        status=400 if form.errors else 200,
    )


@login_required
def document_docx(request, pk):
    """The issued file as stored; a draft rendered now, marked as a draft, with a blank number."""
    document = get_document_for_user_or_404(request.user, pk)
    if document.status == DocumentStatus.ISSUED:
        if not document.docx.name:
            raise Http404
        try:
            handle = document.docx.storage.open(document.docx.name, "rb")
        except FileNotFoundError:
            raise Http404 from None
    else:
        scratch = tempfile.TemporaryDirectory(prefix="document-")
        local = render_to(document, Path(scratch.name) / "draft.docx", issuer=issuer_of(document.committee))
        handle = local.open("rb")
        scratch.cleanup()  # the open handle keeps the file's data until the response is sent
    response = FileResponse(
        handle, as_attachment=True, filename=_filename(document), content_type=DOCX_CONTENT_TYPE
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Making documents from their sources ------------------------------------------------------------


@login_required
@require_POST
def document_from_bulletin(request, bulletin_pk):
    bulletin = get_bulletin_for_user_or_404(request.user, bulletin_pk)
    try:
        document, created = create_bulletin_document(bulletin=bulletin, actor=request.user)
    except WorkflowError as error:
        messages.warning(request, error.message)
        return redirect("reports:bulletin_detail", bulletin.pk)
    if created:
        messages.success(request, _("The draft of the official document is made; check it and issue it."))
    return redirect("reports:document_detail", document.pk)


@login_required
@require_POST
def document_from_task(request, task_pk):
    """The 整改通知 of a rectification task (its page links here for the committee's managers)."""
    from rectification.selectors import get_task_for_user_or_404

    task = get_task_for_user_or_404(request.user, task_pk)
    require_role(request.user, COMMITTEE_MANAGERS, task.committee)
    try:
        document, created = create_rectification_notice(task=task, actor=request.user)
    except WorkflowError as error:
        messages.warning(request, error.message)
        return redirect("rectification:task_detail", task.pk)
    if created:
        messages.success(request, _("The draft of the rectification notice is made; check it and issue it."))
    return redirect("reports:document_detail", document.pk)


def _certified_batches(cycle) -> list[NoticeBatch]:
    return list(NoticeBatch.objects.filter(cycle_id=cycle.pk, certified_at__isnull=False).order_by("number"))


@login_required
def cycle_documents(request, pk):
    """The documents of a cycle's certified results: make the 表彰决定 and the 认定结果通知."""
    cycle = get_cycle_for_user_or_404(request.user, pk)
    require_role(request.user, COMMITTEE_MANAGERS, cycle.committee)
    batches = _certified_batches(cycle)
    form = CycleDocumentForm(request.POST if request.method == "POST" else None, batches=batches)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["batch"]
        batch = next((b for b in batches if b.number == number), None) if number is not None else None
        try:
            if form.cleaned_data["kind"] == "commendation":
                document, created = create_commendation(cycle=cycle, batch=batch, actor=request.user)
                if created:
                    messages.success(request, _("The draft of the commendation decision is made."))
                return redirect("reports:document_detail", document.pk)
            made = create_results_notices(cycle=cycle, batch=batch, actor=request.user)
        except WorkflowError as error:
            messages.warning(request, error.message)
            return redirect("reports:cycle_documents", cycle.pk)
        new = sum(created for _document, created in made)
        messages.success(
            request,
            _("%(new)s new notices of certification results; %(all)s in all for this choice.")
            % {"new": new, "all": len(made)},
        )
        return redirect("reports:cycle_documents", cycle.pk)
    documents = (
        OfficialDocument.objects.filter(cycle_id=cycle.pk)
        .select_related("unit", "notice_batch")
        .order_by("kind", "notice_batch__number", "unit__sort_order", "unit__code", "pk")
    )
    return render(
        request,
        "reports/documents/cycle.html",
        {"cycle": cycle, "batches": batches, "form": form, "documents": documents},
        status=400 if form.errors else 200,
    )


@login_required
def issuer_edit(request, committee_pk):
    committee = get_organization_for_user_or_404(request.user, committee_pk)
    if committee.kind != OrgKind.COMMITTEE:
        raise Http404
    require_role(request.user, COMMITTEE_MANAGERS, committee)
    issuer = issuer_of(committee)
    form = IssuerForm(request.POST if request.method == "POST" else None, instance=issuer)
    if request.method == "POST" and form.is_valid():
        update_issuer(
            committee=committee,
            organ_name=form.cleaned_data["organ_name"],
            code=form.cleaned_data["code"],
            actor=request.user,
        )
        messages.success(request, _("The issuing organ is saved; documents issued from now on use it."))
        return redirect("reports:document_list")
    return render(
        request,
        "reports/documents/issuer.html",
        {"committee": committee, "form": form},
        status=400 if form.errors else 200,
    )


urlpatterns = [
    path("documents/", document_list, name="document_list"),
    path("documents/export/", document_list_export, name="document_list_export"),
    path("documents/<int:pk>/", document_detail, name="document_detail"),
    path("documents/<int:pk>/edit/", document_edit, name="document_edit"),
    path("documents/<int:pk>/issue/", document_issue, name="document_issue"),
    path("documents/<int:pk>/docx/", document_docx, name="document_docx"),
    path("documents/from-bulletin/<int:bulletin_pk>/", document_from_bulletin, name="document_from_bulletin"),
    path("documents/from-task/<int:task_pk>/", document_from_task, name="document_from_task"),
    path("documents/cycles/<int:pk>/", cycle_documents, name="cycle_documents"),
    path("documents/issuers/<int:committee_pk>/", issuer_edit, name="issuer_edit"),
]
