"""Days and times a user may name: in the years 1900 to 2999.

Python's dates end at the years 1 and 9999, and near either end a local midnight turned into UTC,
a day added or a meeting's length carried over overflows (a 500). No meeting of confhub's lies
outside these years, so a value there is a typo or hostile: a 400 naming the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_

DayOrMoment = TypeVar("DayOrMoment", bound=date)

FIRST_YEAR = 1900
LAST_YEAR = 2999


def check_day(field: str, day: DayOrMoment) -> DayOrMoment:
    """`day` (a date or a datetime, in any zone) if it falls in the years confhub knows."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInputError(
            field,
            N_("must be in the years %(first)s to %(last)s"),
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )
    return day


def check_moment(field: str, moment: datetime | None) -> datetime | None:
    """The same for an optional date and time (checked as written, before any conversion)."""
    return None if moment is None else check_day(field, moment)
