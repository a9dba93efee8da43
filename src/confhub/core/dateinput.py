"""Days and times as people type them in confhub's forms: `dd/mm/yyyy`, `hh:mm` on the 24-hour
clock, and both together (`10/09/2025 14:00`), whatever the browser's locale.

Forms use text inputs for them (a browser's own date and time inputs follow the browser's locale:
Chromium in English shows "12/14/2026, 02:30 PM" under Vietnamese labels), with
`static/js/datetime.js` tidying what was typed. The values are read here, on the server, for
every form alike; the ISO forms (`2025-09-10`, `2025-09-10T14:00`) are read too, for programs
and links. A value that is not one is an :class:`InvalidInputError` naming the field and the
format expected.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from confhub.core.dates import check_day
from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_

# The patterns the text inputs carry (the browser's hint; the server decides).
DAY_PATTERN = r"\s*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}\s*"
CLOCK_PATTERN = r"\s*\d{1,2}(?:[:hH.](?:\d{2})?)?\s*"
MOMENT_PATTERN = DAY_PATTERN + r"[ ,T]*" + CLOCK_PATTERN

_DAY = r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})"
_ISO_DAY = r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
_CLOCK = r"(?P<hh>\d{1,2})(?:[:hH.](?P<mm>\d{2})?(?::(?P<ss>\d{2}))?)?"
_DAYS = (re.compile(_DAY), re.compile(_ISO_DAY))
_CLOCK_RE = re.compile(_CLOCK)
_MOMENTS = tuple(re.compile(day + r"(?:\s*[ ,T]\s*)" + _CLOCK) for day in (_DAY, _ISO_DAY))

ENTER_DAY = N_("Enter a day as dd/mm/yyyy, e.g. 10/09/2025.")
ENTER_CLOCK = N_("Enter a time as hh:mm on the 24-hour clock, e.g. 14:30.")
ENTER_MOMENT = N_(
    "Enter a date and time as dd/mm/yyyy hh:mm (24-hour clock), e.g. 10/09/2025 14:30."
)
NO_SUCH_DAY = N_("There is no day %(day)s.")


def _day(match: re.Match[str], field: str) -> date:
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        shown = f"{int(match['d']):02d}/{int(match['m']):02d}/{match['y']}"
        raise InvalidInputError(field, NO_SUCH_DAY, day=shown) from None


def _clock(match: re.Match[str], field: str, message: str) -> time:
    minutes = match["mm"] or "0"
    try:
        return time(int(match["hh"]), int(minutes), int(match["ss"] or 0))
    except ValueError:
        raise InvalidInputError(field, message) from None


def parse_day(value: str, field: str) -> date | None:
    """A typed day (`10/09/2025`, or `2025-09-10`); None when empty."""
    text = value.strip()
    if not text:
        return None
    for pattern in _DAYS:
        if match := pattern.fullmatch(text):
            return check_day(field, _day(match, field))
    raise InvalidInputError(field, ENTER_DAY)


def parse_clock(value: str, field: str, message: str = ENTER_CLOCK) -> time | None:
    """A typed time of day on the 24-hour clock (`14:30`, `14h30`, `14`); None when empty."""
    text = value.strip()
    if not text:
        return None
    if match := _CLOCK_RE.fullmatch(text):
        return _clock(match, field, message)
    raise InvalidInputError(field, message)


def parse_moment(value: str, timezone: str, field: str) -> datetime:
    """A typed day and time (`10/09/2025 14:30`, or `2025-09-10T14:30`) in the province's zone,
    as UTC; an empty value is refused too."""
    text = value.strip()
    for pattern in _MOMENTS:
        if match := pattern.fullmatch(text):
            day = check_day(field, _day(match, field))
            clock = _clock(match, field, ENTER_MOMENT)
            return datetime.combine(day, clock, tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    raise InvalidInputError(field, ENTER_MOMENT)


def format_day(value: date) -> str:
    """A day as the forms show it: `10/09/2025`."""
    return f"{value:%d/%m/%Y}"
