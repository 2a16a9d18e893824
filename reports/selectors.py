"""Scoped reads of the reports: a user's notices, the job runs they may see, certificates by code."""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.db.models.lookups import StartsWith
from django.http import Http404
from django.utils.translation import gettext as _

from branches.models import Organization, User
from branches.roles import COMMITTEE_MANAGERS, TREE_READERS
from branches.selectors import (
    branches_visible_to,
    committees_for_roles,
    has_role_on,
    organizations_visible_to,
)
from reviews.models import Certificate

from .models import Bulletin, BulletinAnnex, BulletinStatus, JobRun, Notice

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
    """Bulletins of the committees whose tree holds any organization the user reaches."""
    reached = organizations_visible_to(user).filter(StartsWith(F("path"), OuterRef("committee__path")))
    return Bulletin.objects.filter(Exists(reached))


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
