"""Scoped reads of the reports: a user's notices, the job runs they may see, certificates by code."""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.db.models.lookups import StartsWith
from django.http import Http404
from django.utils.translation import gettext as _

from branches.models import PARENT_KINDS, Organization, OrgKind, RoleAssignment, User
from branches.roles import COMMITTEE_MANAGERS, PARENT_REVIEWERS, TREE_READERS
from branches.selectors import (
    branches_visible_to,
    committees_for_roles,
    get_organization_for_user_or_404,
    has_role_on,
    organizations_visible_to,
    require_role,
    user_scope,
)
from reviews.models import Certificate

from .models import (
    Bulletin,
    BulletinAnnex,
    BulletinStatus,
    DocumentStatus,
    JobRun,
    Notice,
    OfficialDocument,
)

# ---------------------------------------------------------------------------- notices


def notices_for(user: User) -> QuerySet[Notice]:
    """The user's own notices, newest first; nobody else's are ever listed."""
    return (
        Notice.objects.filter(recipient_id=user.pk).select_related("committee").order_by("-created_at", "-pk")
    )


def get_own_notice_or_404(user: User, pk) -> Notice:
    """The same 404 for "no such notice" and "someone else's"."""
    try:
        return notices_for(user).get(pk=pk)
    except (Notice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def unread_count(user: User) -> int:
    return Notice.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


# ---------------------------------------------------------------------------- bulletins


def can_manage_bulletins(user, committee: Organization) -> bool:
    """Party-affairs staff and approvers of the committee generate, publish and export bulletins."""
    return any(has_role_on(user, role, committee) for role in COMMITTEE_MANAGERS)


def managed_committees(user) -> QuerySet[Organization]:
    return committees_for_roles(user, COMMITTEE_MANAGERS)


def bulletins_in_scope(user) -> QuerySet[Bulletin]:
    """Bulletins of the committees whose tree holds any organization the user reaches (the
    committee keys of the user's roles: no scan of the tree)."""
    return Bulletin.objects.filter(user_scope(user).member_q())


def get_bulletin_for_user_or_404(user, pk) -> Bulletin:
    """404 outside the user's scope (as for no such bulletin), 403 when the role is too low."""
    try:
        bulletin = bulletins_in_scope(user).select_related("committee", "published_by").get(pk=pk)
    except (Bulletin.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can_manage_bulletins(user, bulletin.committee):
        raise PermissionDenied(_("Your role does not allow this action."))
    return bulletin


def get_annex_for_user_or_404(user, pk, unit_pk) -> BulletinAnnex:
    """A party committee's annex to a bulletin, for whoever may read it.

    The committee's staff and approvers (who manage its bulletins) read every annex, the draft's
    too. Anyone reading the party committee's tree from the party committee or above (its
    preliminary reviewer, its own staff) reads only that party committee's annex, and only once the bulletin is published.
    Another party committee's annex, or one of a bulletin outside the user's scope, answers 404
    as one that does not exist; a role inside the party committee's tree that is too low (a
    branch secretary) answers 403.
    """
    try:
        bulletin = bulletins_in_scope(user).select_related("committee").get(pk=pk)
        annex = BulletinAnnex.objects.select_related("bulletin__committee", "unit").get(
            bulletin_id=bulletin.pk, unit_id=unit_pk
        )
    except (Bulletin.DoesNotExist, BulletinAnnex.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if bulletin.status not in (BulletinStatus.DRAFT, BulletinStatus.PUBLISHED) or not annex.pdf.name:
        raise Http404
    if can_manage_bulletins(user, bulletin.committee):
        return annex
    if not organizations_visible_to(user).filter(path__startswith=annex.unit.path).exists():
        raise Http404  # another party committee's annex: as for one that does not exist
    if bulletin.status != BulletinStatus.PUBLISHED:
        raise Http404  # a draft is the committee's own until it is published
    if not organizations_visible_to(user, TREE_READERS).filter(pk=annex.unit.pk).exists():
        raise PermissionDenied(_("Your role does not allow this action."))
    return annex


def published_annexes_for(user) -> QuerySet[BulletinAnnex]:
    """The annexes of published bulletins of the party committees the user holds a role on, newest
    first: what a party committee's people are offered (their home page links them)."""
    return (
        BulletinAnnex.objects.filter(
            bulletin__status=BulletinStatus.PUBLISHED,
            unit__in=organizations_visible_to(user, TREE_READERS),
        )
        .select_related("bulletin", "bulletin__committee")
        .order_by("-bulletin__year", "-bulletin__quarter", "position")
    )


# ---------------------------------------------------------------------------- the dashboard

# Who reads a dashboard: the committee's approvers and staff (any organization of its tree),
# and a party committee's preliminary reviewers (their party committee's subtree).
DASHBOARD_ROLES = COMMITTEE_MANAGERS | PARENT_REVIEWERS
DASHBOARD_KINDS = (OrgKind.COMMITTEE, *PARENT_KINDS)


def dashboard_scopes_for(user) -> QuerySet[Organization]:
    """The organizations whose dashboard ``user`` may open from the home page: each one where
    they hold a dashboard role (a committee or a party committee / general branch), top first."""
    if not user.is_authenticated or not user.is_active:
        return Organization.objects.none()
    if user.is_superuser:
        return Organization.objects.filter(kind=OrgKind.COMMITTEE).order_by("sort_order", "code")
    held = RoleAssignment.objects.filter(user_id=user.pk, role__in=DASHBOARD_ROLES).values("organization_id")
    return Organization.objects.filter(pk__in=held, kind__in=DASHBOARD_KINDS, is_active=True).order_by(
        "depth", "sort_order", "code"
    )


def get_dashboard_scope_or_404(user, pk) -> Organization:
    """A committee or party committee in the user's scope (else 404) that they may read the
    dashboard of (else 403): a role from DASHBOARD_ROLES on it or above it."""
    org = get_organization_for_user_or_404(user, pk)
    if org.kind not in DASHBOARD_KINDS:
        raise Http404
    require_role(user, DASHBOARD_ROLES, org)
    return org


def default_dashboard_scope(user) -> Organization:
    """The first of the user's dashboards; 403 for someone who has none."""
    scope = dashboard_scopes_for(user).first()
    if scope is None:
        raise PermissionDenied(_("Your role does not allow this action."))
    return scope


# ---------------------------------------------------------------------------- job runs


def committees_for_jobs(user: User) -> QuerySet[Organization]:
    """The committees whose jobs ``user`` may read and start: staff or approver there (or superuser)."""
    return committees_for_roles(user, COMMITTEE_MANAGERS)


def job_runs_visible_to(user: User) -> QuerySet[JobRun]:
    """Runs annotated with ``committee_pk`` / ``committee_name``; one query however many rows.

    A run belongs to the committee named by its ``committee_id`` argument. Runs without one
    (the quarterly schedulers that fan out over every committee) are shown to superusers only.
    """
    runs = JobRun.objects.annotate(
        committee_pk=Cast(KT("arguments__committee_id"), IntegerField()),
    ).annotate(
        committee_name=Subquery(Organization.objects.filter(pk=OuterRef("committee_pk")).values("name")[:1]),
    )
    if not user.is_authenticated or not user.is_active:
        return runs.none()
    if user.is_superuser:
        return runs
    return runs.filter(committee_pk__in=committees_for_jobs(user).values("pk"))


# ---------------------------------------------------------------------------- certificates


def get_certificate_for_user_or_404(user: User, pk) -> Certificate:
    """A certificate of a branch the user can see (any role); the same 404 for missing and not yours."""
    try:
        return (
            Certificate.objects.filter(branch__in=branches_visible_to(user))
            .select_related("branch", "assessment__cycle__committee")
            .get(pk=pk)
        )
    except (Certificate.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def find_certificate_by_code(code: str) -> Certificate | None:
    """The certificate with this (normalized) code, or None; codes are stored in upper case."""
    return (
        Certificate.objects.filter(verification_code=code)
        .select_related("branch", "assessment__cycle__committee")
        .first()
    )


# ---------------------------------------------------------------------------- official documents


def documents_visible_to(user) -> QuerySet[OfficialDocument]:
    """The official documents a user may open: every one of the committees they manage (drafts
    too), and the issued ones addressed to them — to every unit of a committee in whose tree they
    hold a reading role, or to a party committee or branch they hold a reading role on."""
    if not user.is_authenticated or not user.is_active:
        return OfficialDocument.objects.none()
    readers = organizations_visible_to(user, TREE_READERS)
    in_tree = readers.filter(StartsWith(F("path"), OuterRef("committee__path")))
    return OfficialDocument.objects.filter(
        Q(committee__in=managed_committees(user))
        | Q(status=DocumentStatus.ISSUED, unit__in=readers)
        | (Q(status=DocumentStatus.ISSUED, unit__isnull=True) & Q(Exists(in_tree)))
    )


def get_document_for_user_or_404(user, pk, *, manage: bool = False) -> OfficialDocument:
    """An official document for reading (or, with ``manage``, for editing and issuing).

    Outside the committee's tree 404, as for no such document. The committee's staff and
    approver may do anything with it. A document addressed to another party committee or branch,
    or a draft addressed to the user's own, answers 404 as the bulletin's annexes do; a role
    too low for it (an assessment-team reviewer, a draft of a document to every unit, any edit)
    answers 403.
    """
    try:
        document = OfficialDocument.objects.select_related("committee", "unit", "issued_by").get(pk=pk)
    except (OfficialDocument.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    reached = organizations_visible_to(user)
    if not reached.filter(path__startswith=document.committee.path).exists():
        raise Http404
    if can_manage_bulletins(user, document.committee):
        return document
    if document.unit_id is not None:
        if not reached.filter(path__startswith=document.unit.path).exists():
            raise Http404  # another unit's document: as for one that does not exist
        if document.status != DocumentStatus.ISSUED:
            raise Http404  # a draft is the committee's own until it is issued
        readable = organizations_visible_to(user, TREE_READERS).filter(pk=document.unit_id).exists()
    else:
        readers = organizations_visible_to(user, TREE_READERS)
        readable = (
            document.status == DocumentStatus.ISSUED
            and readers.filter(path__startswith=document.committee.path).exists()
        )
    if manage or not readable:
        raise PermissionDenied(_("Your role does not allow this action."))
    return document
