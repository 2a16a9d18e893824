"""Points as a sheet prints them: a deduction item's score with its minus sign, one definition."""

from decimal import Decimal

from django import template

from scoring.arithmetic import DEDUCTION

register = template.Library()

MINUS = "\u2212"  # the typographic minus, as printed sheets write "−3"


def signed_points(value: Decimal | str | None, kind: str) -> str | None:
    """``value`` as printed for an item of ``kind``: "−3.0" for 3 points deducted; None stays None.

    Nothing deducted prints as "0.0", without a sign. Shared by the pages and the 评定表.
    """
    if value is None:
        return None
    if kind == DEDUCTION and Decimal(value) > 0:
        return f"{MINUS}{value}"
    return str(value)


@register.filter
def item_points(value: Decimal | None, item) -> str | None:
    """``{{ score|item_points:item }}``: the score of ``item`` with a minus sign on a deduction."""
    return signed_points(value, getattr(item, "kind", ""))
