"""How long the main document of a bulletin may grow: one rule for the quarterly and the year bulletin.

A committee of up to ``FULL_LISTS_UP_TO`` branches sees every list whole in the main document
(web page and PDF). Above that the main document is a summary of bounded length whatever the
size: each list of branches shows its first ``LIST_ROWS`` rows and says how many more the
annexes hold (the quarterly bulletin's PDF annex per party committee, and the Excel file, which
holds every row); the tables with one row per party committee show at most ``UNIT_ROWS``.
"""

FULL_LISTS_UP_TO = 300
LIST_ROWS = 20
UNIT_ROWS = 150


def is_bounded(branches: int) -> bool:
    """Whether a committee of ``branches`` branches gets the summary instead of the full lists."""
    return branches > FULL_LISTS_UP_TO


def cut(rows: list, limit: int | None) -> dict:
    """``rows`` cut to ``limit`` (None: all of them) and how many were left out."""
    if limit is None or len(rows) <= limit:
        return {"rows": rows, "more": 0}
    return {"rows": rows[:limit], "more": len(rows) - limit}


def tightest(*limits: int | None) -> int | None:
    """The smallest of the limits that are set, None if none is."""
    set_limits = [limit for limit in limits if limit is not None]
    return min(set_limits) if set_limits else None


__all__ = ["FULL_LISTS_UP_TO", "LIST_ROWS", "UNIT_ROWS", "cut", "is_bounded", "tightest"]
