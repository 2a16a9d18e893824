"""Reads of standards: who may see which, and a standard reduced to its arithmetic rules."""

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from branches.models import Organization, OrgKind, User
from branches.selectors import has_role_on, organizations_visible_to

from .arithmetic import ItemRule, StandardRules
from .models import Dimension, Item, Standard, StandardPurpose, StandardStatus, StarThreshold
from .workflow import STANDARD_TRANSITIONS


def standards_visible_to(user: User) -> QuerySet[Standard]:
    """Global standards plus those of the committees the user can see; everything for superusers."""
    if not user.is_authenticated or not user.is_active:
        return Standard.objects.none()
    if user.is_superuser:
        return Standard.objects.all()
    committees = organizations_visible_to(user).filter(kind=OrgKind.COMMITTEE).values("pk")
    return Standard.objects.filter(Q(committee__isnull=True) | Q(committee__in=committees))


def standards_editable_by(user: User) -> QuerySet[Standard]:
    """Drafts the user may change: a committee's own drafts; global drafts only for superusers."""
    drafts = standards_visible_to(user).filter(status=StandardStatus.DRAFT)
    if user.is_superuser:
        return drafts
    return drafts.filter(committee__isnull=False)


def can_edit_standard(user: User, standard: Standard) -> bool:
    return standards_editable_by(user).filter(pk=standard.pk).exists()


def can_move_standard(user: User, standard: Standard, action: str) -> bool:
    """Whether ``user`` may take ``action`` (e.g. publish) on ``standard``, whatever its status.

    Superusers may act on every standard; a global standard (no committee) is theirs alone.
    A committee's standard is its own: a holder of one of the action's roles on that
    committee may act on it. Nobody (``None``) may: a standard has no moves of the system's.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if standard.committee_id is None:
        return False
    return any(has_role_on(user, role, standard.committee) for role in STANDARD_TRANSITIONS[action].roles)


def get_standard_for_user_or_404(user: User, pk: int) -> Standard:
    """The same 404 for "no such standard" and "not in your scope"."""
    try:
        return standards_visible_to(user).get(pk=pk)
    except (Standard.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def published_standards_for(
    committee: Organization, purpose: str = StandardPurpose.CERTIFICATION
) -> QuerySet[Standard]:
    """The published standards of ``purpose`` a committee may use: its own and the global ones.

    Cycles take certification standards (the default); quarterly checks ask for routine-check ones.
    """
    return Standard.objects.filter(
        Q(committee__isnull=True) | Q(committee=committee), status=StandardStatus.PUBLISHED, purpose=purpose
    )


T = TypeVar("T")

# A published standard never changes again (publishing is its last move, and every change of
# a draft is refused once it is published), so what the pages read of it on every request —
# its rules, its dimensions and items — is kept in this process, keyed by the standard and the
# moment it was published. A draft is always read afresh. Bounded: a committee has a handful
# of standards in use, and the whole cache is dropped when it fills up.
_FROZEN: dict[tuple[str, int, object], object] = {}
_FROZEN_LIMIT = 64


def _frozen(kind: str, standard: Standard, build: Callable[[], T]) -> T:
    if (
        not settings.CACHE_PUBLISHED_STANDARDS
        or standard.status != StandardStatus.PUBLISHED
        or standard.published_at is None
    ):
        return build()
    key = (kind, standard.pk, standard.published_at)
    try:
        return _FROZEN[key]  # type: ignore[return-value]
    except KeyError:
        pass
    value = build()
    if len(_FROZEN) >= _FROZEN_LIMIT:
        _FROZEN.clear()
    _FROZEN[key] = value
    return value


def forget_frozen_standards() -> None:
    """Empty this process's copies of published standards (tests start from a clean slate)."""
    _FROZEN.clear()


def standard_outline(standard: Standard) -> tuple[tuple[Dimension, tuple[Item, ...]], ...]:
    """The standard's dimensions in order, each with its items in order (two queries, then none
    while the standard is published). The rows are shared: read them, never change them."""

    def build():
        dimensions = (
            Dimension.objects.filter(standard_id=standard.pk)
            .order_by("order", "code")
            .prefetch_related(Prefetch("items", queryset=Item.objects.order_by("order", "code")))
        )
        return tuple((dimension, tuple(dimension.items.all())) for dimension in dimensions)

    return _frozen("outline", standard, build)


def rules_from_standard(standard: Standard) -> StandardRules:
    """The standard's numbers for ``scoring.arithmetic``: two queries, then none while it is published."""
    return _frozen("rules", standard, lambda: _rules(standard))


def _rules(standard: Standard) -> StandardRules:
    thresholds = tuple(
        StarThreshold.objects.filter(standard_id=standard.pk)
        .order_by("-stars")
        .values_list("stars", "min_score")
    )
    items = tuple(
        ItemRule(code=code, max_score=max_score, kind=kind, veto_star_cap=veto_star_cap)
        for code, max_score, kind, veto_star_cap in Item.objects.filter(dimension__standard_id=standard.pk)
        .order_by("dimension__order", "dimension__code", "order", "code")
        .values_list("code", "max_score", "kind", "veto_star_cap")
    )
    return StandardRules(
        max_score=standard.max_score,
        thresholds=thresholds,
        bonus_cap=standard.bonus_cap,
        allow_total_above_max=standard.allow_total_above_max,
        items=items,
    )


__all__ = [
    "can_edit_standard",
    "can_move_standard",
    "forget_frozen_standards",
    "get_standard_for_user_or_404",
    "published_standards_for",
    "rules_from_standard",
    "standard_outline",
    "standards_editable_by",
    "standards_visible_to",
]
