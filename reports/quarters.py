"""Calendar quarters: the one definition of which quarter a day is in, its days, its name.

Bulletins, notices and the scheduled jobs all count in these quarters, and every form or
service that takes a (year, quarter) from outside checks it with ``check_quarter``.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

FIRST_YEAR = 2000
LAST_YEAR = 9999


def quarter_of(day: datetime.date) -> tuple[int, int]:
    """(year, quarter) of a date."""
    return day.year, (day.month - 1) // 3 + 1


def previous_quarter(year: int, quarter: int, *, steps: int = 1) -> tuple[int, int]:
    """The quarter ``steps`` quarters before (year, quarter)."""
    index = year * 4 + (quarter - 1) - steps
    return index // 4, index % 4 + 1


def quarter_days(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    """First and last day of a quarter."""
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1 to 4, got {quarter!r}")
    first = datetime.date(year, 3 * (quarter - 1) + 1, 1)
    next_year, next_quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return first, datetime.date(next_year, 3 * (next_quarter - 1) + 1, 1) - datetime.timedelta(days=1)


def quarter_label(year: int, quarter: int) -> str:
    return _("Q%(quarter)s %(year)s") % {"year": year, "quarter": quarter}


def year_label(year: int) -> str:
    """The period of a year bulletin (年度通报), as quarter_label names a quarter's."""
    return _("Year %(year)s") % {"year": year}


def check_quarter(*, year: object, quarter: object) -> None:
    """ValidationError unless (year, quarter) is a quarter of 2000–9999 that has begun."""
    if (
        isinstance(year, bool)
        or isinstance(quarter, bool)
        or not isinstance(year, int)
        or not isinstance(quarter, int)
        or not FIRST_YEAR <= year <= LAST_YEAR
        or not 1 <= quarter <= 4
    ):
        raise ValidationError(_("Choose a quarter from 1 to 4 of a year from 2000."), code="quarter")
    if quarter_days(year, quarter)[0] > timezone.localdate():
        raise ValidationError(_("Only a quarter that has begun can be chosen."), code="future")
