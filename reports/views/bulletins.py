"""Bulletin pages, quarterly and year (年度通报): list and "generate now", web preview, publish,
PDF and Excel downloads, and the PDF annex of each party committee.

Who: party-affairs staff and approvers of the committee. Anyone else who holds a role inside
the committee's tree gets 403 (the bulletin is in their scope, their role is too low); anyone
outside it gets the same 404 as for a bulletin that does not exist. A party committee's annex
is also read by the party committee's own people once the bulletin is published
(``get_annex_for_user_or_404``). Every page runs a fixed
number of queries: the preview renders the frozen data, never the live records.
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.errors import WorkflowError
from branches.kept import kept_page
from branches.models import OrgKind
from branches.roles import COMMITTEE_MANAGERS
from branches.selectors import get_organization_for_user_or_404, require_role

from ..bulletin.html import document_html
from ..forms.bulletins import BulletinGenerateForm, YearBulletinGenerateForm
from ..jobs import enqueue
from ..models import Bulletin, BulletinEvent, BulletinKind, BulletinStatus
from ..quarters import quarter_label
from ..selectors import get_annex_for_user_or_404, get_bulletin_for_user_or_404, managed_committees
from ..services.bulletins import publish_bulletin
from ..tasks import generate_bulletin_task, generate_year_bulletin_task

logger = logging.getLogger(__name__)

PER_PAGE = 20
# The web preview shows this many rows of a long list; the PDF and the workbook hold them all.
PREVIEW_ROWS = 200
FILE_KINDS = {
    "pdf": ("pdf", "application/pdf"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


# --- Pages -------------------------------------------------------------------------------------


def bulletins_listed(committees):
    """The bulletins of the committees the user manages, newest first: the page and its export."""
    return (
        Bulletin.objects.filter(committee__in=committees)
        .select_related("committee")
        .order_by("-year", F("quarter").desc(nulls_first=True), "committee__name", "pk")
        .only(
            "pk",
            "kind",
            "year",
            "quarter",
            "status",
            "generated_at",
            "published_at",
            "error",
            "committee__name",
        )
    )


def require_bulletin_committees(user):
    """The committees whose bulletins the user manages; 403 when there is none."""
    committees = managed_committees(user)
    if not committees.exists():
        raise PermissionDenied(_("Your role does not allow this action."))
    return committees


@login_required
@kept_page
def bulletin_list(request):
    committees = require_bulletin_committees(request.user)
    form = BulletinGenerateForm(request.POST or None, committees=committees)
    year_form = YearBulletinGenerateForm(committees=committees)
    if request.method == "POST" and form.is_valid():
        committee = form.cleaned_data["committee"]
        year, quarter = form.cleaned_data["quarter"]
        status = (
            Bulletin.objects.filter(
                committee=committee, kind=BulletinKind.QUARTERLY, year=year, quarter=quarter
            )
            .values_list("status", flat=True)
            .first()
        )
        label = quarter_label(year, quarter)
        if status == BulletinStatus.PUBLISHED:
            messages.warning(
                request,
                _("The bulletin of %(quarter)s is published and is no longer generated again.")
                % {"quarter": label},
            )
        else:
            events = BulletinEvent.objects.filter(
                bulletin__committee=committee, bulletin__year=year, bulletin__quarter=quarter
            ).order_by("-pk")
            before = events.values_list("pk", flat=True).first() or 0
            sent = enqueue(generate_bulletin_task, committee.pk, year, quarter)  # after commit, via Celery
            _report_generation(
                request, label, sent, events.filter(pk__gt=before).values_list("action", flat=True)
            )
        return redirect("reports:bulletin_list")
    bulletins = bulletins_listed(committees)
    page = Paginator(bulletins, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/bulletin/list.html",
        {"page": page, "form": form, "year_form": year_form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def year_bulletin_generate(request):
    """Generate now a year bulletin: from the bulletin list or the year-results page."""
    committees = require_bulletin_committees(request.user)
    # The committee named in the form: outside the user's scope 404, a role too low there 403.
    committee = get_organization_for_user_or_404(request.user, request.POST.get("committee"))
    if committee.kind != OrgKind.COMMITTEE:
        raise Http404
    require_role(request.user, COMMITTEE_MANAGERS, committee)
    form = YearBulletinGenerateForm(request.POST, committees=committees)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("reports:bulletin_list")
    committee, year = form.cleaned_data["committee"], form.cleaned_data["year"]
    existing = Bulletin.objects.filter(committee=committee, kind=BulletinKind.YEAR, year=year)
    if existing.filter(status=BulletinStatus.PUBLISHED).exists():
        messages.warning(
            request,
            _("The year bulletin %(year)s is published and is no longer generated again.") % {"year": year},
        )
    else:
        events = BulletinEvent.objects.filter(bulletin__in=existing).order_by("-pk")
        before = events.values_list("pk", flat=True).first() or 0
        sent = enqueue(generate_year_bulletin_task, committee.pk, year)  # after commit, via Celery
        new_actions = events.filter(pk__gt=before).values_list("action", flat=True)
        _report_generation(request, str(year), sent, new_actions, year=True)
    bulletin = existing.only("pk").first()
    if bulletin is not None:
        return redirect("reports:bulletin_detail", bulletin.pk)
    return redirect("reports:bulletin_list")


@login_required
def year_bulletin_of(request, year: int):
    """The year bulletin of ``year`` of a committee the user manages (the year-results page links
    here), or the bulletin list, where it can be generated, when there is none yet."""
    committees = require_bulletin_committees(request.user)
    bulletin = (
        Bulletin.objects.filter(committee__in=committees, kind=BulletinKind.YEAR, year=year)
        .order_by("committee__sort_order", "committee__code")
        .only("pk")
        .first()
    )
    if bulletin is not None:
        return redirect("reports:bulletin_detail", bulletin.pk)
    messages.info(
        request, _("There is no year bulletin of %(year)s yet; generate it below.") % {"year": year}
    )
    return redirect("reports:bulletin_list")


def _report_generation(request, label: str, sent: bool, new_actions, *, year: bool = False) -> None:
    """Say what became of "generate now": without a broker (CELERY_TASK_ALWAYS_EAGER, the embedded
    default) the job has already run in-process by now, so its outcome is known; with a worker it
    is still queued and the list shows its status as it moves."""
    action = new_actions.first()
    if year:
        values = {"year": label}
        done, failed, queued = (
            _("The year bulletin %(year)s is generated."),
            _("The year bulletin %(year)s could not be generated; its page gives the reason."),
            _("The year bulletin %(year)s is being generated."),
        )
    else:
        values = {"quarter": label}
        done, failed, queued = (
            _("The bulletin of %(quarter)s is generated."),
            _("The bulletin of %(quarter)s could not be generated; its page gives the reason."),
            _("The bulletin of %(quarter)s is being generated."),
        )
    if action == "generate":
        messages.success(request, done % values)
    elif action == "fail" or not sent:
        messages.error(request, failed % values)
    else:
        messages.success(request, queued % values)


@login_required
def bulletin_detail(request, pk):
    bulletin = get_bulletin_for_user_or_404(request.user, pk)
    document = document_html(bulletin.data, row_limit=PREVIEW_ROWS) if bulletin.data else None
    return render(
        request,
        "reports/bulletin/detail.html",
        {
            "bulletin": bulletin,
            "label": bulletin.label,
            "document": document,
            "can_publish": bulletin.status == BulletinStatus.DRAFT,
            "has_files": bulletin.status in (BulletinStatus.DRAFT, BulletinStatus.PUBLISHED)
            and bool(bulletin.pdf),
            "annexes": list(
                bulletin.annexes.only("pk", "bulletin_id", "unit_id", "name", "branches", "pages")
            ),
        },
    )


@login_required
@require_POST
def bulletin_publish(request, pk):
    bulletin = get_bulletin_for_user_or_404(request.user, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that the bulletin may be published."))
        return redirect("reports:bulletin_detail", bulletin.pk)
    try:
        publish_bulletin(bulletin=bulletin, actor=request.user)
    except WorkflowError as error:
        messages.warning(request, error.message)
    else:
        messages.success(request, _("The bulletin is published."))
    return redirect("reports:bulletin_detail", bulletin.pk)


def _stream(storage_file, filename: str, content_type: str) -> FileResponse:
    """A stored file streamed through the view (after its scope check), never cached on the way."""
    try:
        handle = storage_file.storage.open(storage_file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def _download(request, pk, kind: str):
    bulletin = get_bulletin_for_user_or_404(request.user, pk)
    suffix, content_type = FILE_KINDS[kind]
    field = bulletin.pdf if kind == "pdf" else bulletin.xlsx
    if bulletin.status not in (BulletinStatus.DRAFT, BulletinStatus.PUBLISHED) or not field.name:
        raise Http404
    # Streamed from the storage (disk or bucket) through this view, after the scope check above.
    return _stream(field, f"{bulletin.committee.name}-{bulletin.file_stem}.{suffix}", content_type)


@login_required
def bulletin_pdf(request, pk):
    return _download(request, pk, "pdf")


@login_required
def bulletin_xlsx(request, pk):
    return _download(request, pk, "xlsx")


@login_required
def bulletin_annex_pdf(request, pk, unit):
    """One party committee's annex: every row of its branches (scope: get_annex_for_user_or_404)."""
    annex = get_annex_for_user_or_404(request.user, pk, unit)
    bulletin = annex.bulletin
    name = f"{bulletin.committee.name}-{bulletin.file_stem}-{annex.name}.pdf"
    return _stream(annex.pdf, name, "application/pdf")


urlpatterns = [
    path("bulletins/", bulletin_list, name="bulletin_list"),
    path("bulletins/year/generate/", year_bulletin_generate, name="year_bulletin_generate"),
    path("bulletins/year/<int:year>/", year_bulletin_of, name="year_bulletin_of"),
    path("bulletins/<int:pk>/", bulletin_detail, name="bulletin_detail"),
    path("bulletins/<int:pk>/publish/", bulletin_publish, name="bulletin_publish"),
    path("bulletins/<int:pk>/pdf/", bulletin_pdf, name="bulletin_pdf"),
    path("bulletins/<int:pk>/xlsx/", bulletin_xlsx, name="bulletin_xlsx"),
    path("bulletins/<int:pk>/annexes/<int:unit>/pdf/", bulletin_annex_pdf, name="bulletin_annex_pdf"),
]
