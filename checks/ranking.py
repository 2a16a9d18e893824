"""The pure rules of quarterly rankings and year results (no database).

* Ranks are shared on ties, competition style: scores 95, 90, 90, 80 rank 1, 2, 2, 4.
* Last place in a party committee (末位): every branch sharing the lowest rank is last — ties
  at last place make each of them last. Two exceptions, since a ranking needs someone to be
  ranked against: a party committee with a single branch has no last place, and neither has
  one where every branch shares the same score (all first, nobody last).
* The change of rank is the previous published round's committee rank minus this one's:
  +3 means three places up (↑3), -2 two places down (↓2); none when the branch was not ranked then.
* The year average is the exact mean of the year's published quarterly scores; a branch is
  named 五好党支部 when it was scored in all four quarters and the mean reaches the committee's
  threshold (an exact comparison: 90.0 is named at a threshold of 90, 89.9 is not — and no
  rounding lifts 89.975 to 90).
"""

from collections.abc import Hashable, Iterable, Mapping
from decimal import Decimal

QUARTERS_IN_A_YEAR = 4
LAST_PLACES_FOR_A_FLAG = 2


def shared_ranks(scores: Mapping[Hashable, Decimal]) -> dict[Hashable, int]:
    """Competition ranks (1, 2, 2, 4) of ``scores``, highest first."""
    ordered = sorted(scores.values(), reverse=True)
    first_position: dict[Decimal, int] = {}
    for position, score in enumerate(ordered, start=1):
        first_position.setdefault(score, position)
    return {key: first_position[score] for key, score in scores.items()}


def last_in_group(scores: Mapping[Hashable, Decimal]) -> set[Hashable]:
    """The keys ranked last in one group (see the module's rule for ties and one-branch groups)."""
    if len(scores) < 2:
        return set()
    lowest = min(scores.values())
    if lowest == max(scores.values()):
        return set()
    return {key for key, score in scores.items() if score == lowest}


def rank_change(previous: int | None, current: int | None) -> int | None:
    if previous is None or current is None:
        return None
    return previous - current


def year_average(scores: Iterable[Decimal]) -> Decimal | None:
    values = list(scores)
    if not values:
        return None
    return sum(values, Decimal("0")) / len(values)


def is_five_good(scores: Iterable[Decimal], threshold: Decimal) -> bool:
    values = list(scores)
    if len(values) < QUARTERS_IN_A_YEAR:
        return False
    return year_average(values) >= threshold


def far_below(total: Decimal, star_threshold: Decimal, margin: Decimal) -> bool:
    """Whether a quarterly score is more than ``margin`` points under the star's threshold."""
    return total < star_threshold - margin


__all__ = [
    "LAST_PLACES_FOR_A_FLAG",
    "QUARTERS_IN_A_YEAR",
    "far_below",
    "is_five_good",
    "last_in_group",
    "rank_change",
    "shared_ranks",
    "year_average",
]
