"""The arithmetic of scores, totals and star levels, free of models and the database.

Everything is ``Decimal``: the rules speak of one-decimal scores and exact thresholds
(94.9 earns four stars, 95.0 five), which binary floats cannot promise. The callers turn a
standard into ``StandardRules`` once (``scoring.selectors.rules_from_standard``) and then
score any number of branches without touching the database.

**Totals: 基础分 + 加分 − 减分.** Normal items give the base points, bonus items (加分项) add
points up to the standard's bonus cap, and deduction items (扣分项) take points away: the
score stored on a deduction item is the points deducted, 0 … the item's maximum deduction,
one decimal like every other score. The order is

    total = max(0, min(normal + min(bonus, bonus cap), maximum) − deductions)

(the ``min(…, maximum)`` only when the standard does not allow a total above its maximum).
Deductions come *after* the cap at the maximum on purpose: a deduction is a penalty for a
specific failing (a late report, a missed 组织生活会), and subtracting it before the cap would
let bonus points above the maximum swallow it — a branch at 100 + 5 bonus could lose 3
points and still show 100, so the penalty would cost nothing. Subtracting last means every
point deducted is a point off the total the branch sees, up to the floor: a total is never
below 0, however many deductions apply.
"""

import itertools
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from typing import NamedTuple, TypeAlias

from django.utils.translation import gettext as _

NORMAL = "normal"
BONUS = "bonus"
DEDUCTION = "deduction"
VETO = "veto"
KINDS = frozenset({NORMAL, BONUS, DEDUCTION, VETO})

MIN_STARS = 1
MAX_STARS = 5
ONE_DECIMAL = Decimal("0.1")
ZERO = Decimal("0")

Thresholds: TypeAlias = Iterable[tuple[int, Decimal]]

# --- Veto items ----------------------------------------------------------------------------
# A veto item (一票否决项) carries no points; what is stored for it, as a self-score or as a
# reviewer's score, is a mark: 1 means "the veto applies", 0 (or nothing) "it does not".
VETO_APPLIES = Decimal("1")
VETO_DOES_NOT_APPLY = Decimal("0")


def veto_applies(mark: Decimal | None) -> bool:
    """Whether a stored mark on a veto item says the veto applies."""
    return mark is not None and mark == VETO_APPLIES


def veto_mark(applies: bool) -> Decimal | None:
    """What to store for a branch's answer on a veto item: the mark, or nothing when it does not apply."""
    return VETO_APPLIES if applies else None


def majority_applies(marks: Sequence[bool]) -> bool:
    """The team's verdict on a veto item: it applies when a strict majority marked it (a tie does not)."""
    return sum(1 for mark in marks if mark) * 2 > len(marks)


class ScoreEntry(NamedTuple):
    """What a person wrote for one item: a score (a mark on a veto item) and its text.

    The secretary's text is the explanation, a reviewer's the comment. For a veto item a
    secretary sends True/False ("applies"), a reviewer the mark 1 or 0.
    """

    score: Decimal | str | int | bool | None
    text: str = ""


class ScoreError(ValueError):
    """A score, total or rule that the arithmetic cannot accept; the message is for people."""


# A number as people write it: digits with at most one point and an optional sign. Decimal
# also reads "1e1", "NaN" and "Infinity"; nobody types those as a score, and the page's own
# arithmetic (static/js/self_assessment.js) refuses them too, so the server does the same.
_WRITTEN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")


def _as_decimal(value: object) -> Decimal:
    # Floats are refused rather than converted: 0.1 as a float is not 0.1, and a silent
    # conversion would hide the caller's mistake. Strings and ints are exact, so welcome.
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ScoreError(_("A score must be a decimal number."))
    if isinstance(value, int):
        return Decimal(value)
    text = value.strip()
    if not _WRITTEN_NUMBER.fullmatch(text):
        raise ScoreError(_("“%(value)s” is not a number.") % {"value": value})
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
        raise ScoreError(_("“%(value)s” is not a number.") % {"value": value}) from None


def _require_finite(value: Decimal) -> None:
    if not value.is_finite():
        raise ScoreError(_("A score must be a finite number."))


def _rule_decimal(value: object, what: str) -> Decimal:
    # Rules may be written with ints for readability ((5, 95)); floats are still refused.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"{what} must be a Decimal, got {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{what} must be finite")
    return result


def _has_at_most_one_decimal(value: Decimal) -> bool:
    # Compare values, not the written form, so "4.50" counts as one decimal like "4.5".
    return value == value.quantize(ONE_DECIMAL)


@dataclass(frozen=True)
class ItemRule:
    """What the arithmetic needs to know about one item."""

    code: str
    max_score: Decimal
    kind: str  # "normal" | "bonus" | "deduction" | "veto"
    # On a deduction item, ``max_score`` is the most it can deduct.
    veto_star_cap: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"item {self.code}: unknown kind {self.kind!r}")
        max_score = _rule_decimal(self.max_score, f"item {self.code}: max_score")
        if max_score < 0:
            raise ValueError(f"item {self.code}: max_score must be ≥ 0")
        object.__setattr__(self, "max_score", max_score)
        if self.kind == VETO:
            if self.veto_star_cap is None or not MIN_STARS <= self.veto_star_cap <= MAX_STARS:
                raise ValueError(f"veto item {self.code}: veto_star_cap must be 1…5")
            if self.max_score != 0:
                raise ValueError(f"veto item {self.code}: a veto carries no points")
        elif self.veto_star_cap is not None:
            raise ValueError(f"item {self.code}: only veto items have a veto_star_cap")
        if self.kind == DEDUCTION and self.max_score == 0:
            raise ValueError(f"deduction item {self.code}: max_score is the most it deducts, so > 0")


@dataclass(frozen=True)
class StandardRules:
    """A published standard reduced to the numbers that decide totals and stars."""

    max_score: Decimal
    thresholds: tuple[tuple[int, Decimal], ...]  # (stars, min_score), e.g. ((5, 95), (4, 90), …)
    bonus_cap: Decimal | None
    allow_total_above_max: bool
    items: tuple[ItemRule, ...]

    def __post_init__(self) -> None:
        # Invalid rules are a programming error (publishing validates the data), hence
        # ValueError with a developer's message rather than a translated ScoreError.
        thresholds = tuple(
            (stars, _rule_decimal(min_score, f"threshold for {stars} stars"))
            for stars, min_score in self.thresholds
        )
        check_thresholds(thresholds)
        codes = [item.code for item in self.items]
        if len(codes) != len(set(codes)):
            raise ValueError("item codes must be unique within a standard")
        max_score = _rule_decimal(self.max_score, "max_score")
        if max_score <= 0:
            raise ValueError("max_score must be > 0")
        bonus_cap = None if self.bonus_cap is None else _rule_decimal(self.bonus_cap, "bonus_cap")
        if bonus_cap is not None and bonus_cap < 0:
            raise ValueError("bonus_cap must be ≥ 0")
        # Frozen, so normalise through object.__setattr__: Decimals throughout, and the
        # thresholds sorted from the most stars down so lookups stop at the first hit.
        object.__setattr__(self, "max_score", max_score)
        object.__setattr__(self, "bonus_cap", bonus_cap)
        object.__setattr__(self, "thresholds", tuple(sorted(thresholds, reverse=True)))

    @property
    def has_deductions(self) -> bool:
        return any(item.kind == DEDUCTION for item in self.items)

    def item(self, code: str) -> ItemRule:
        for item in self.items:
            if item.code == code:
                return item
        raise ScoreError(_("There is no item “%(code)s” in this standard.") % {"code": code})


def check_thresholds(thresholds: Thresholds) -> None:
    """Raise ValueError unless star levels are 1…5, unique, and need more points per star."""
    ordered = sorted(thresholds)
    stars = [level for level, _min in ordered]
    if any(isinstance(level, bool) or not isinstance(level, int) for level in stars):
        raise ValueError("star levels must be integers")
    if len(stars) != len(set(stars)):
        raise ValueError("each star level may have one threshold only")
    if any(not MIN_STARS <= level <= MAX_STARS for level in stars):
        raise ValueError("star levels must be 1…5")
    mins = [_rule_decimal(min_score, "threshold score") for _level, min_score in ordered]
    if any(lower >= higher for lower, higher in itertools.pairwise(mins)):
        raise ValueError("a higher star level must need a strictly higher score")


def validate_item_score(score: Decimal | int | str, max_score: Decimal) -> Decimal:
    """The score as a one-decimal Decimal, or ScoreError if it is not a valid 0…max score."""
    value = _as_decimal(score)
    _require_finite(value)
    if value < 0 or value.is_signed():  # "-0" too: a minus sign is never a score
        raise ScoreError(_("A score cannot be negative."))
    if value > max_score:
        raise ScoreError(
            _("A score of %(score)s is above the item's maximum of %(max)s.")
            % {"score": value, "max": max_score}
        )
    if not _has_at_most_one_decimal(value):
        raise ScoreError(_("A score may have at most one decimal place."))
    return value.quantize(ONE_DECIMAL)


class TotalParts(NamedTuple):
    """A total as a sheet prints it: 基础分 + 加分 (capped) − 减分 = total."""

    subtotal: Decimal  # normal plus capped bonus points, capped at the maximum unless allowed above
    deducted: Decimal  # the points of every deduction item, each within its maximum
    total: Decimal  # subtotal − deducted, never below 0


def total_score(rules: StandardRules, scores: Mapping[str, Decimal]) -> Decimal:
    """Normal plus capped bonus points, capped at the maximum unless allowed above, minus deductions, ≥ 0.

    The order and why are in the module's docstring. Items without a score count as 0 (no
    points, no deduction), so a half-filled sheet has a running total. A code that is not an
    item of the standard is refused: it means scores of another version.
    """
    return total_parts(rules, scores).total


def total_parts(rules: StandardRules, scores: Mapping[str, Decimal]) -> TotalParts:
    """``total_score`` with the points before the deductions and the deductions shown apart."""
    items = {item.code: item for item in rules.items}
    unknown = sorted(set(scores) - set(items))
    if unknown:
        raise ScoreError(_("There is no item “%(code)s” in this standard.") % {"code": unknown[0]})
    normal = bonus = deducted = ZERO
    for code, raw in scores.items():
        item = items[code]
        # Each deduction is capped at its item's maximum here: a larger one is refused.
        value = validate_item_score(raw, item.max_score)
        if item.kind == NORMAL:
            normal += value
        elif item.kind == BONUS:
            bonus += value
        elif item.kind == DEDUCTION:
            deducted += value
        # Veto items have a maximum of 0, so validation above already pinned them to 0.
    if rules.bonus_cap is not None:
        bonus = min(bonus, rules.bonus_cap)
    total = normal + bonus
    if not rules.allow_total_above_max:
        total = min(total, rules.max_score)
    return TotalParts(
        subtotal=total.quantize(ONE_DECIMAL),
        deducted=deducted.quantize(ONE_DECIMAL),
        total=max(total - deducted, ZERO).quantize(ONE_DECIMAL),
    )


def star_for_total(total: Decimal, thresholds: Thresholds) -> int:
    """The highest star level whose threshold ``total`` reaches; one star below all of them."""
    value = _as_decimal(total)
    _require_finite(value)
    for stars, min_score in sorted(thresholds, reverse=True):
        if value >= min_score:
            return stars
    return MIN_STARS


def star_for(rules: StandardRules, total: Decimal, applied_vetoes: Collection[str] = ()) -> int:
    """The star level for ``total``, capped by the lowest cap of the veto items that apply."""
    if isinstance(applied_vetoes, str):
        # A bare code would be iterated letter by letter; insist on a collection of codes.
        raise TypeError("applied_vetoes must be a collection of item codes, not a string")
    stars = star_for_total(total, rules.thresholds)
    for code in applied_vetoes:
        item = rules.item(code)
        if item.kind != VETO or item.veto_star_cap is None:
            raise ScoreError(_("Item “%(code)s” is not a veto item.") % {"code": code})
        stars = min(stars, item.veto_star_cap)
    return stars


def mean_score(values: Sequence[Decimal]) -> Decimal:
    """The arithmetic mean to one decimal, halves rounded up (4.55 → 4.6), as reviewers expect."""
    if not values:
        raise ScoreError(_("There are no scores to average."))
    decimals = [_as_decimal(value) for value in values]
    for value in decimals:
        _require_finite(value)
    # Enough precision that the division is exact to well past the rounding digit.
    with localcontext() as context:
        context.prec = 60
        mean = sum(decimals, ZERO) / len(decimals)
        return mean.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


# --- Disagreement between reviewers -------------------------------------------------------
# An item is flagged when max − min of the reviewers' scores is *more* than the cycle's
# fraction of the item's points. The fraction is stored with three decimals, so 0.333 is how
# a person writes one third: a stored value within half a unit of its last decimal of a
# simple fraction (denominator ≤ 12) is read as that fraction. Exactly a third of 6 points
# (a spread of 2.0) is therefore not flagged; 2.1 is.
_SIMPLE_DENOMINATOR = 12
_HALF_UNIT = Fraction(1, 2000)


def disagreement_limit(fraction: Decimal, item_max: Decimal) -> Fraction:
    """The largest spread of reviewers' scores on an item that is not yet a disagreement."""
    exact = Fraction(fraction)
    simple = exact.limit_denominator(_SIMPLE_DENOMINATOR)
    if abs(simple - exact) <= _HALF_UNIT:
        exact = simple
    return exact * Fraction(item_max)


def is_disagreement(scores: Sequence[Decimal], item_max: Decimal, fraction: Decimal) -> bool:
    """Whether max − min of ``scores`` exceeds ``fraction`` of the item's points."""
    if len(scores) < 2:
        return False
    spread = Fraction(max(scores)) - Fraction(min(scores))
    return spread > disagreement_limit(fraction, item_max)


__all__ = [
    "BONUS",
    "DEDUCTION",
    "NORMAL",
    "VETO",
    "VETO_APPLIES",
    "VETO_DOES_NOT_APPLY",
    "ItemRule",
    "ScoreEntry",
    "ScoreError",
    "StandardRules",
    "TotalParts",
    "check_thresholds",
    "disagreement_limit",
    "is_disagreement",
    "majority_applies",
    "mean_score",
    "star_for",
    "star_for_total",
    "total_parts",
    "total_score",
    "validate_item_score",
    "veto_applies",
    "veto_mark",
]
