"""The committee's pages: cycles, decisions, public notice, certification.

Every page runs a fixed number of queries whatever the number of branches: lists are
paginated and whatever a row shows is fetched for the whole page at once.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.kept import kept_page
from branches.models import ORG_ORDER, OrgKind, branch_order
from branches.roles import APPROVERS, COMMITTEE_MANAGERS, Role
from branches.selectors import (
    committees_for_roles,
    get_organization_for_user_or_404,
    has_role_on,
    require_role,
)
from scoring.models import MAX_STARS, MIN_STARS

from ..forms.committee import CycleOpenForm, DecisionForm, ObjectionForm, ResolutionForm
from ..jobs import cycle_settings, is_large, start_bulk_job
from ..models import Assessment, AssessmentStatus, CycleStatus, NoticeBatch, Objection
from ..selectors import (
    DECISION_POOL,
    StarShare,
    assessment_counts,
    assessments_visible_to,
    cycle_status_counts,
    cycles_visible_to,
    get_cycle_for_user_or_404,
    get_objection_for_user_or_404,
    reviewer_totals,
    scoring_summary,
    star_shares,
)
from ..services import cycles as cycle_services
from ..services import decision as decision_services
from ..services.cycles import committee_branches
from ..workflow import FINAL, TRANSITIONS
from .common import (
    GroupedRows,
    add_service_errors,
    done,
    handle_form,
    page_of,
    query_without_page,
    workflow_action,
)

S = AssessmentStatus
NOTICE_POOL = (S.PUBLICIZED, S.CERTIFIED)
# What closing a cycle does to each status still in flight, as the confirmation page says it.
CLOSE_OUT = TRANSITIONS["close_out"].sources


def _role_flags(user, org) -> tuple[bool, bool]:
    """(approver, staff) on ``org``: two queries, whatever the page shows."""
    return has_role_on(user, Role.COMMITTEE_APPROVER, org), has_role_on(user, Role.STAFF, org)


def _require_manager(user, cycle) -> bool:
    """403 unless approver or staff on the cycle's committee; returns whether an approver."""
    approver, staff = _role_flags(user, cycle.committee)
    if not (approver or staff):
        raise PermissionDenied(_("Your role does not allow this action."))
    return approver


def _batches_of(cycle) -> list[NoticeBatch]:
    """The cycle's notice batches with their result and open-objection counts: three queries.

    Counted apart (the results on the batch index, the open objections from their own table)
    rather than in one join of every result with its objections, which at a committee's size
    counts 20,000 joined rows twice over.
    """
    batches = list(NoticeBatch.objects.filter(cycle_id=cycle.pk).order_by("number"))
    if not batches:
        return batches
    ids = [batch.pk for batch in batches]
    results = dict(
        Assessment.objects.filter(notice_batch_id__in=ids)
        .order_by()
        .values("notice_batch_id")
        .annotate(n=Count("pk"))
        .values_list("notice_batch_id", "n")
    )
    open_objections = dict(
        Objection.objects.filter(assessment__notice_batch_id__in=ids, resolved_at__isnull=True)
        .order_by()
        .values("assessment__notice_batch_id")
        .annotate(n=Count("pk"))
        .values_list("assessment__notice_batch_id", "n")
    )
    for batch in batches:
        batch.result_count = results.get(batch.pk, 0)
        batch.open_objections = open_objections.get(batch.pk, 0)
    return batches


def _batch_or_404(cycle, number) -> NoticeBatch:
    try:
        return NoticeBatch.objects.get(cycle_id=cycle.pk, number=number)
    except (NoticeBatch.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _cycle_assessment_or_404(user, cycle, pk) -> Assessment:
    try:
        return (
            assessments_visible_to(user)
            .select_related("branch", "branch__parent", "cycle")
            .get(cycle_id=cycle.pk, pk=pk)
        )
    except (Assessment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass
class DecisionRow:
    assessment: Assessment
    reviewers: list = field(default_factory=list)
    over_cap: StarShare | None = None

    @property
    def effective_stars(self) -> int | None:
        return self.assessment.decided_stars or self.assessment.proposed_stars


def _decision_rows(cycle, assessments, shares) -> list[DecisionRow]:
    totals = reviewer_totals(cycle, [a.pk for a in assessments])
    rows = []
    for assessment in assessments:
        row = DecisionRow(assessment=assessment, reviewers=totals.get(assessment.pk, []))
        share = shares.get(row.effective_stars) if row.effective_stars else None
        row.over_cap = share if share is not None and share.exceeded else None
        rows.append(row)
    return rows


# --- Cycles ----------------------------------------------------------------------------------


def cycles_listed(user, *, sizes: bool = True):
    """The cycle list's rows, newest first: shared by the page and its export. ``sizes``: each
    with its ``assessment_count`` (the export's; the page counts only its own cycles, cached)."""
    cycles = cycles_visible_to(user).select_related("committee", "standard").order_by("-opened_at", "-pk")
    return cycles.annotate(assessment_count=Count("assessments")) if sizes else cycles


@login_required
@kept_page
def cycle_list(request):
    page = page_of(request, cycles_listed(request.user, sizes=False), 20)
    # The page's cycles only, their sizes kept in the cache: not a join of every assessment.
    page.object_list = list(page.object_list)
    sizes = assessment_counts([cycle.pk for cycle in page.object_list])
    for cycle in page.object_list:
        cycle.assessment_count = sizes.get(cycle.pk, 0)
    can_open = committees_for_roles(request.user, COMMITTEE_MANAGERS).exists()
    return render(request, "reviews/committee/cycle_list.html", {"page": page, "can_open": can_open})


@login_required
def cycle_open(request):
    """Open a cycle for a committee: ``?committee=<pk>``, or the only one the user manages."""
    user = request.user
    committee_pk = request.POST.get("committee") or request.GET.get("committee")
    if committee_pk:
        committee = get_organization_for_user_or_404(user, committee_pk)
        if committee.kind != OrgKind.COMMITTEE:
            raise Http404
        require_role(user, COMMITTEE_MANAGERS, committee)
    else:
        committees = list(committees_for_roles(user, COMMITTEE_MANAGERS).order_by(*ORG_ORDER)[:50])
        if not committees:
            raise PermissionDenied(_("Your role does not allow this action."))
        if len(committees) > 1:
            return render(request, "reviews/committee/cycle_open_choose.html", {"committees": committees})
        committee = committees[0]

    form = CycleOpenForm(request.POST or None, committee=committee)
    if request.method == "POST" and form.is_valid():
        large = is_large(committee_branches(committee).count())
        try:
            # A large committee: every rule checked here (the form's errors), then opened by a job.
            cycle = cycle_services.open_cycle(
                committee=committee, actor=user, check_only=large, **form.service_kwargs()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if large:
                return start_bulk_job(
                    request,
                    "open_cycle",
                    committee_id=committee.pk,
                    fields=cycle_settings(form.service_kwargs()),
                )
            return done(
                request,
                _("The cycle “%(name)s” is open.") % {"name": cycle.name},
                "reviews:cycle_detail",
                cycle.pk,
            )
    return render(request, "reviews/committee/cycle_open.html", {"form": form, "committee": committee})


def cycle_assessments_listed(request, cycle) -> tuple:
    """The cycle page's branches under its ``?status=`` filter, and the filter: page and export."""
    status_filter = request.GET.get("status", "")
    assessments = cycle.assessments.select_related("branch", "branch__parent").order_by(*branch_order())
    if status_filter in S.values:
        assessments = assessments.filter(status=status_filter)
    else:
        status_filter = ""
    return assessments, status_filter


@login_required
@kept_page
def cycle_detail(request, pk):
    cycle = get_cycle_for_user_or_404(request.user, pk)
    counts = cycle_status_counts(cycle.pk)
    # One bucket per status, named as the rows' badges are: a bucket's count is the rows wearing its badge.
    funnel = [(status, label, counts.get(status, 0)) for status, label in S.choices]
    assessments, status_filter = cycle_assessments_listed(request, cycle)
    approver, staff = _role_flags(request.user, cycle.committee)
    now = timezone.now()
    batches = _batches_of(cycle)
    for batch in batches:
        batch.is_running = batch.running(now)
        batch.is_due = batch.due(now)
    return render(
        request,
        "reviews/committee/cycle_detail.html",
        {
            "cycle": cycle,
            "batches": batches,
            "unassigned": counts.get(S.FORWARDED, 0),
            "in_flight": sum(n for status, n in counts.items() if status not in FINAL),
            "funnel": funnel,
            "total": sum(counts.values()),
            # The status counts above give the list's length: no COUNT(*) of the list again.
            "page": page_of(
                request,
                assessments,
                count=counts.get(status_filter, 0) if status_filter else sum(counts.values()),
            ),
            "query": query_without_page(request),
            "status_filter": status_filter,
            "statuses": S.choices,
            "is_approver": approver,
            "is_manager": approver or staff,
            "caps": [(stars, cycle.cap_for(stars)) for stars in range(MAX_STARS, MIN_STARS - 1, -1)],
        },
    )


# --- Decisions -------------------------------------------------------------------------------


def _cap_config(shares) -> dict:
    """What static/js/star_caps.js needs to warn, before saving, that a level would pass its cap."""
    return {
        "counts": {str(stars): share.count for stars, share in shares.items()},
        "total": sum(share.count for share in shares.values()),
        "caps": {str(stars): float(share.cap) for stars, share in shares.items() if share.cap is not None},
        "message": _(
            "{stars}-star branches would be {share} percent of the decisions, above the cap of {cap} percent."
        ),
    }


def decisions_listed(request, cycle) -> tuple:
    """The decision list under its ``?show=`` filter, and the filter: page and export."""
    show = request.GET.get("show", "")
    pool = cycle.assessments.filter(status__in=DECISION_POOL)
    if show == "undecided":
        pool = pool.filter(status=S.SCORED)
    else:
        show = ""
    return pool.select_related("branch", "branch__parent").order_by(*branch_order()), show


@login_required
@kept_page
def cycle_decisions(request, pk):
    cycle = get_cycle_for_user_or_404(request.user, pk)
    approver = _require_manager(request.user, cycle)
    pool, show = decisions_listed(request, cycle)
    page = page_of(request, pool)
    shares = star_shares(cycle)
    return render(
        request,
        "reviews/committee/decisions.html",
        {
            "cycle": cycle,
            "page": page,
            "rows": _decision_rows(cycle, list(page), shares),
            "shares": list(shares.values()),
            "has_caps": any(share.cap is not None for share in shares.values()),
            "cap_config": _cap_config(shares),
            "can_decide": approver and cycle.status == CycleStatus.OPEN,
            "show": show,
            "query": query_without_page(request),
            "star_choices": DecisionForm.base_fields["stars"].choices,
        },
    )


@login_required
@workflow_action
def assessment_decide(request, pk, assessment_pk):
    """One assessment's scores and the decision form; POST decides."""
    cycle = get_cycle_for_user_or_404(request.user, pk)
    approver = _require_manager(request.user, cycle)
    assessment = _cycle_assessment_or_404(request.user, cycle, assessment_pk)
    if assessment.status not in DECISION_POOL:
        raise Http404
    initial = {
        "stars": assessment.decided_stars or assessment.proposed_stars,
        "reason": assessment.decision_reason,
    }
    form = DecisionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            decision_services.decide_assessment(
                assessment=assessment,
                actor=request.user,
                stars=form.cleaned_data["stars"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Decision recorded for %(branch)s.") % {"branch": assessment.branch})
            page = request.POST.get("page", "")
            url = reverse("reviews:cycle_decisions", args=[cycle.pk])
            if page.isdigit():
                url += f"?page={page}"
            return redirect(f"{url}#a{assessment.pk}")
    shares = star_shares(cycle)
    over_cap = None
    stars = assessment.decided_stars or assessment.proposed_stars
    if stars and shares[stars].exceeded:
        over_cap = shares[stars]
    return render(
        request,
        "reviews/committee/decide.html",
        {
            "cycle": cycle,
            "assessment": assessment,
            "over_cap": over_cap,
            "cap_config": _cap_config(shares),
            "current_stars": stars or "",
            "form": form,
            "summary": scoring_summary(assessment),
            "can_decide": approver and cycle.status == CycleStatus.OPEN,
            "page_number": request.GET.get("page", request.POST.get("page", "")),
        },
        status=400 if form.errors else 200,
    )


# --- Public notice and certification ---------------------------------------------------------


@login_required
@workflow_action
def cycle_publicize(request, pk):
    cycle = get_cycle_for_user_or_404(request.user, pk)
    _require_manager(request.user, cycle)
    if request.method == "POST":
        decided = cycle.assessments.filter(status=S.DECIDED).count()
        if cycle.status == CycleStatus.OPEN and is_large(decided):
            return start_bulk_job(request, "publicize", committee_id=cycle.committee_id, cycle_id=cycle.pk)
        batch = decision_services.publicize_cycle(cycle=cycle, actor=request.user)
        messages.success(
            request, _("Batch %(number)s of the public notice is published.") % {"number": batch.number}
        )
        return redirect(f"{reverse('reviews:cycle_publicity', args=[cycle.pk])}?batch={batch.number}")
    counts = dict(
        cycle.assessments.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    in_progress = sum(
        counts.get(status, 0)
        for status in (S.NOT_STARTED, S.DRAFT, S.RETURNED, S.SUBMITTED, S.FORWARDED, S.SCORING)
    )
    return render(
        request,
        "reviews/committee/publicize_confirm.html",
        {
            "cycle": cycle,
            "decided": counts.get(S.DECIDED, 0),
            "undecided": counts.get(S.SCORED, 0),
            "in_progress": in_progress,
            "next_number": NoticeBatch.objects.filter(cycle_id=cycle.pk).count() + 1,
            "ends_preview": timezone.now() + datetime.timedelta(days=cycle.publicity_days),
        },
    )


def publicity_batch(request, batches) -> NoticeBatch | None:
    """The batch ``?batch=N`` names (404 if none has that number), else the newest; None before any."""
    wanted = request.GET.get("batch", "")
    if wanted:
        batch = next((b for b in batches if str(b.number) == wanted), None)
        if batch is None:
            raise Http404
        return batch
    return batches[-1] if batches else None


def publicity_listed(cycle, batch):
    """One batch's results as the public notice lists them: page and export."""
    return (
        cycle.assessments.filter(notice_batch_id=batch.pk, status__in=NOTICE_POOL)
        .select_related("branch", "branch__parent")
        .order_by("-decided_stars", *branch_order())
    )


def publicity_objections(batch):
    """The objections to one batch's results, open ones first: page and export."""
    return (
        Objection.objects.filter(assessment__notice_batch_id=batch.pk)
        .select_related("assessment__branch", "recorded_by", "resolved_by")
        .order_by(F("resolved_at").asc(nulls_first=True), "recorded_at", "pk")
    )


@login_required
@kept_page
def cycle_publicity(request, pk):
    """公示: one batch's star levels, its notice period, and the objections received.

    ``?batch=N`` chooses the batch; without it, the newest one is shown.
    """
    cycle = get_cycle_for_user_or_404(request.user, pk)
    approver, staff = _role_flags(request.user, cycle.committee)
    batches = _batches_of(cycle)
    batch = publicity_batch(request, batches)
    now = timezone.now()
    if batch is None:
        return render(request, "reviews/committee/publicity.html", {"cycle": cycle, "batch": None})
    notice = publicity_listed(cycle, batch)
    distribution = dict(
        notice.order_by().values("decided_stars").annotate(n=Count("pk")).values_list("decided_stars", "n")
    )
    # Most stars first, then the branches in order: one indexed walk per star level.
    levels = sorted(distribution, key=lambda stars: (stars is None, -(stars or 0)))
    page = page_of(
        request,
        GroupedRows((notice.filter(decided_stars=level), distribution[level]) for level in levels),
    )
    objections = publicity_objections(batch)
    running = batch.running(now)
    return render(
        request,
        "reviews/committee/publicity.html",
        {
            "cycle": cycle,
            "batch": batch,
            "batches": batches,
            "page": page,
            "distribution": [
                (stars, distribution.get(stars, 0)) for stars in range(MAX_STARS, MIN_STARS - 1, -1)
            ],
            "objections": objections,
            "running": running,
            "can_record": running and (approver or staff),
            "can_resolve": approver and batch.certified_at is None,
            "can_certify": approver and batch.due(now),
            "query": f"batch={batch.number}",
        },
    )


@login_required
@workflow_action
def objection_record(request, pk, assessment_pk):
    cycle = get_cycle_for_user_or_404(request.user, pk)
    assessment = _cycle_assessment_or_404(request.user, cycle, assessment_pk)
    require_role(request.user, COMMITTEE_MANAGERS, assessment.branch)
    form = ObjectionForm(request.POST or None)
    response = handle_form(
        request,
        form,
        lambda data: decision_services.record_objection(assessment=assessment, actor=request.user, **data),
        message=_("The objection is recorded."),
        to="reviews:cycle_publicity",
        args=(cycle.pk,),
    )
    return response or render(
        request,
        "reviews/committee/objection_form.html",
        {"cycle": cycle, "assessment": assessment, "form": form},
    )


@login_required
@workflow_action
def objection_resolve(request, pk, objection_pk):
    cycle = get_cycle_for_user_or_404(request.user, pk)
    objection = get_objection_for_user_or_404(request.user, cycle, objection_pk)
    require_role(request.user, APPROVERS, objection.assessment.branch)
    form = ResolutionForm(request.POST or None)
    response = handle_form(
        request,
        form,
        lambda data: decision_services.resolve_objection(
            objection=objection,
            actor=request.user,
            resolution=data["resolution"],
            substantiated=data["substantiated"],
        ),
        message=_("The objection is resolved."),
        to="reviews:cycle_publicity",
        args=(cycle.pk,),
    )
    return response or render(
        request,
        "reviews/committee/objection_resolve.html",
        {"cycle": cycle, "objection": objection, "form": form},
    )


@login_required
@workflow_action
def batch_certify(request, pk, number):
    cycle = get_cycle_for_user_or_404(request.user, pk)
    batch = _batch_or_404(cycle, number)
    require_role(request.user, APPROVERS, cycle.committee)
    if request.method == "POST":
        if cycle.status == CycleStatus.OPEN and is_large(
            batch.assessments.filter(status=S.PUBLICIZED).count()
        ):
            # Refused at once (409) rather than from the job: the window, objections, appeals.
            decision_services.check_certifiable(batch)
            return start_bulk_job(
                request, "certify", committee_id=cycle.committee_id, cycle_id=cycle.pk, batch_id=batch.pk
            )
        decision_services.certify_batch(batch=batch, actor=request.user)
        cycle.refresh_from_db()
        message = _("Batch %(number)s is certified; certificates are issued.") % {"number": batch.number}
        if cycle.status == CycleStatus.CLOSED:
            message += " " + _("Every assessment is final: the cycle is closed.")
        return done(request, message, "reviews:cycle_detail", cycle.pk)
    now = timezone.now()
    return render(
        request,
        "reviews/committee/certify_confirm.html",
        {
            "cycle": cycle,
            "batch": batch,
            "publicized": batch.assessments.filter(status=S.PUBLICIZED).count(),
            "open_objections": Objection.objects.filter(
                assessment__notice_batch_id=batch.pk, resolved_at__isnull=True
            ).count(),
            "running": now < batch.ends_at,
            "valid_until": decision_services.add_months(timezone.localdate(now), cycle.validity_months),
        },
    )


@login_required
@workflow_action
def cycle_close(request, pk):
    """Close the cycle after a confirmation that lists what is still in flight."""
    cycle = get_cycle_for_user_or_404(request.user, pk)
    require_role(request.user, APPROVERS, cycle.committee)
    error = ""
    if request.method == "POST":
        try:
            decision_services.close_cycle(
                cycle=cycle, actor=request.user, confirm=request.POST.get("confirm") == "yes"
            )
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            return done(request, _("The cycle is closed."), "reviews:cycle_detail", cycle.pk)
    counts = dict(
        cycle.assessments.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    rows = [
        (S(status).label, counts[status]) for status in S.values if status in CLOSE_OUT and counts.get(status)
    ]
    return render(
        request,
        "reviews/committee/close_confirm.html",
        {
            "cycle": cycle,
            "rows": rows,
            "in_flight": sum(n for _label, n in rows),
            "under_notice": counts.get(S.PUBLICIZED, 0),
            "final": {S(status).label: counts.get(status, 0) for status in (S.CERTIFIED, S.NOT_TAKING_PART)},
            "error": error,
        },
        status=400 if error else 200,
    )


urlpatterns = [
    path("cycles/", cycle_list, name="cycle_list"),
    path("cycles/open/", cycle_open, name="cycle_open"),
    path("cycles/<int:pk>/", cycle_detail, name="cycle_detail"),
    path("cycles/<int:pk>/decisions/", cycle_decisions, name="cycle_decisions"),
    path("cycles/<int:pk>/decisions/<int:assessment_pk>/", assessment_decide, name="assessment_decide"),
    path("cycles/<int:pk>/publicize/", cycle_publicize, name="cycle_publicize"),
    path("cycles/<int:pk>/publicity/", cycle_publicity, name="cycle_publicity"),
    path(
        "cycles/<int:pk>/publicity/<int:assessment_pk>/objection/",
        objection_record,
        name="objection_record",
    ),
    path(
        "cycles/<int:pk>/objections/<int:objection_pk>/resolve/",
        objection_resolve,
        name="objection_resolve",
    ),
    path("cycles/<int:pk>/batches/<int:number>/certify/", batch_certify, name="batch_certify"),
    path("cycles/<int:pk>/close/", cycle_close, name="cycle_close"),
]
