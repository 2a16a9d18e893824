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

from branches.models import OrgKind
from branches.roles import APPROVERS, COMMITTEE_MANAGERS, Role
from branches.selectors import (
    committees_for_roles,
    get_organization_for_user_or_404,
    has_role_on,
    require_role,
)
from scoring.models import MAX_STARS, MIN_STARS

from ..forms.committee import CycleOpenForm, DecisionForm, ObjectionForm, ResolutionForm
from ..models import Assessment, AssessmentStatus, CycleStatus, Objection
from ..selectors import (
    DECISION_POOL,
    StarShare,
    assessments_visible_to,
    cycles_visible_to,
    get_cycle_for_user_or_404,
    get_objection_for_user_or_404,
    reviewer_totals,
    scoring_summary,
    star_shares,
)
from ..services import cycles as cycle_services
from ..services import decision as decision_services
from ..workflow import FUNNEL
from .common import add_service_errors, done, handle_form, page_of, query_without_page, workflow_action

S = AssessmentStatus
NOTICE_POOL = (S.PUBLICIZED, S.CERTIFIED)


def _role_flags(user, org) -> tuple[bool, bool]:
    """(approver, staff) on ``org``: two queries, whatever the page shows."""
    return has_role_on(user, Role.COMMITTEE_APPROVER, org), has_role_on(user, Role.STAFF, org)


def _require_manager(user, cycle) -> bool:
    """403 unless approver or staff on the cycle's committee; returns whether an approver."""
    approver, staff = _role_flags(user, cycle.committee)
    if not (approver or staff):
        raise PermissionDenied(_("Your role does not allow this action."))
    return approver


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


@login_required
def cycle_list(request):
    cycles = (
        cycles_visible_to(request.user)
        .select_related("committee", "standard")
        .annotate(assessment_count=Count("assessments"))
        .order_by("-opened_at", "-pk")
    )
    can_open = committees_for_roles(request.user, COMMITTEE_MANAGERS).exists()
    return render(
        request,
        "reviews/committee/cycle_list.html",
        {"page": page_of(request, cycles, 20), "can_open": can_open},
    )


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
        committees = list(committees_for_roles(user, COMMITTEE_MANAGERS).order_by("name")[:50])
        if not committees:
            raise PermissionDenied(_("Your role does not allow this action."))
        if len(committees) > 1:
            return render(request, "reviews/committee/cycle_open_choose.html", {"committees": committees})
        committee = committees[0]

    form = CycleOpenForm(request.POST or None, committee=committee)
    if request.method == "POST" and form.is_valid():
        try:
            cycle = cycle_services.open_cycle(committee=committee, actor=user, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return done(
                request,
                _("The cycle “%(name)s” is open.") % {"name": cycle.name},
                "reviews:cycle_detail",
                cycle.pk,
            )
    return render(request, "reviews/committee/cycle_open.html", {"form": form, "committee": committee})


@login_required
def cycle_detail(request, pk):
    cycle = get_cycle_for_user_or_404(request.user, pk)
    counts = dict(
        cycle.assessments.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    funnel = [
        (S(stage).label, sum(counts.get(status, 0) for status in statuses)) for stage, statuses in FUNNEL
    ]
    status_filter = request.GET.get("status", "")
    assessments = cycle.assessments.select_related("branch", "branch__parent").order_by("branch__path")
    if status_filter in S.values:
        assessments = assessments.filter(status=status_filter)
    else:
        status_filter = ""
    approver, staff = _role_flags(request.user, cycle.committee)
    return render(
        request,
        "reviews/committee/cycle_detail.html",
        {
            "cycle": cycle,
            "funnel": funnel,
            "total": sum(counts.values()),
            "page": page_of(request, assessments),
            "query": query_without_page(request),
            "status_filter": status_filter,
            "statuses": S.choices,
            "is_approver": approver,
            "is_manager": approver or staff,
            "caps": [(stars, cycle.cap_for(stars)) for stars in range(MAX_STARS, MIN_STARS - 1, -1)],
        },
    )


# --- Decisions -------------------------------------------------------------------------------


@login_required
def cycle_decisions(request, pk):
    cycle = get_cycle_for_user_or_404(request.user, pk)
    approver = _require_manager(request.user, cycle)
    show = request.GET.get("show", "")
    pool = cycle.assessments.filter(status__in=DECISION_POOL)
    if show == "undecided":
        pool = pool.filter(status=S.SCORED)
    else:
        show = ""
    page = page_of(request, pool.select_related("branch", "branch__parent").order_by("branch__path"))
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
        cycle = decision_services.publicize_cycle(cycle=cycle, actor=request.user)
        return done(request, _("The public notice is published."), "reviews:cycle_publicity", cycle.pk)
    counts = dict(
        cycle.assessments.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    in_progress = sum(counts.get(status, 0) for status in (S.SUBMITTED, S.FORWARDED, S.SCORING))
    return render(
        request,
        "reviews/committee/publicize_confirm.html",
        {
            "cycle": cycle,
            "decided": counts.get(S.DECIDED, 0),
            "undecided": counts.get(S.SCORED, 0),
            "in_progress": in_progress,
            "ends_preview": timezone.now() + datetime.timedelta(days=cycle.publicity_days),
        },
    )


@login_required
def cycle_publicity(request, pk):
    """公示: the published star levels, the notice period, and the objections received."""
    cycle = get_cycle_for_user_or_404(request.user, pk)
    approver, staff = _role_flags(request.user, cycle.committee)
    notice = cycle.assessments.filter(status__in=NOTICE_POOL)
    distribution = dict(
        notice.order_by().values("decided_stars").annotate(n=Count("pk")).values_list("decided_stars", "n")
    )
    page = page_of(
        request, notice.select_related("branch", "branch__parent").order_by("-decided_stars", "branch__path")
    )
    objections = (
        Objection.objects.filter(assessment__cycle=cycle)
        .select_related("assessment__branch", "recorded_by", "resolved_by")
        .order_by(F("resolved_at").asc(nulls_first=True), "recorded_at")
    )
    now = timezone.now()
    running = cycle.status == CycleStatus.PUBLICITY and now <= cycle.publicity_ends_at
    return render(
        request,
        "reviews/committee/publicity.html",
        {
            "cycle": cycle,
            "page": page,
            "distribution": [
                (stars, distribution.get(stars, 0)) for stars in range(MAX_STARS, MIN_STARS - 1, -1)
            ],
            "objections": objections,
            "running": running,
            "can_record": running and (approver or staff),
            "can_resolve": approver and cycle.status == CycleStatus.PUBLICITY,
            "can_certify": approver and cycle.status == CycleStatus.PUBLICITY,
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
            objection=objection, actor=request.user, resolution=data["resolution"]
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
def cycle_certify(request, pk):
    cycle = get_cycle_for_user_or_404(request.user, pk)
    require_role(request.user, APPROVERS, cycle.committee)
    if request.method == "POST":
        cycle = decision_services.certify_cycle(cycle=cycle, actor=request.user)
        return done(
            request, _("The cycle is certified; certificates are issued."), "reviews:cycle_detail", cycle.pk
        )
    now = timezone.now()
    return render(
        request,
        "reviews/committee/certify_confirm.html",
        {
            "cycle": cycle,
            "publicized": cycle.assessments.filter(status=S.PUBLICIZED).count(),
            "open_objections": Objection.objects.filter(
                assessment__cycle=cycle, resolved_at__isnull=True
            ).count(),
            "running": cycle.publicity_ends_at is not None and now < cycle.publicity_ends_at,
            "valid_until": decision_services.add_months(timezone.localdate(now), cycle.validity_months),
        },
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
    path("cycles/<int:pk>/certify/", cycle_certify, name="cycle_certify"),
]
