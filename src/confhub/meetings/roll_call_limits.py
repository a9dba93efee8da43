"""A meeting's roll-call limits: when the roll call opens (when points join for the line test
unless set; before it a check-in link offers the answer to the invitation only) and how many
delegates a point may report present or expect (1 to 500 unless set).

They are set here, whatever door the values come through (the API, the meeting form), and
checked here for every answer (the attendance writer, the invitation's acknowledgement).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from confhub.core.dates import check_moment
from confhub.core.errors import ConflictError, InvalidInputError
from confhub.core.i18n import N_
from confhub.core.timefmt import local_time
from confhub.meetings.models import Meeting, MeetingStatus
from confhub.settings import get_settings

# No point reports more delegates than this, whatever a meeting allows.
DELEGATES_CEILING = 100_000

# What a count outside the meeting's bounds is told (the field is named by the error).
OUT_OF_BOUNDS = N_("must be a number from %(min)s to %(max)s for this meeting")


@dataclass(frozen=True)
class RollCallChanges:
    """Limits to set: None leaves one as it is; `opens_default` puts the opening back to the
    line test (moving with it)."""

    roll_call_opens_at: datetime | None = None
    opens_default: bool = False
    delegates_min: int | None = None
    delegates_max: int | None = None


def apply_roll_call(meeting: Meeting, changes: RollCallChanges) -> None:
    """Check and set the limits `changes` gives (raises :class:`InvalidInputError` naming the
    field); the opening must come before the meeting's end (call after its times are set)."""
    if changes.opens_default:
        meeting.roll_call_opens_at = None
    elif changes.roll_call_opens_at is not None:
        if changes.roll_call_opens_at.tzinfo is None:
            raise InvalidInputError("roll_call_opens_at", N_("must carry a UTC offset"))
        meeting.roll_call_opens_at = check_moment("roll_call_opens_at", changes.roll_call_opens_at)
    if meeting.roll_call_opens_at is not None and meeting.roll_call_opens_at >= meeting.ends_at:
        raise InvalidInputError("roll_call_opens_at", N_("must be before the meeting ends"))
    for name in ("delegates_min", "delegates_max"):
        value = getattr(changes, name)
        if value is None:
            continue
        if not 0 <= value <= DELEGATES_CEILING:
            raise InvalidInputError(
                name, N_("must be a number from 0 to %(n)s"), n=f"{DELEGATES_CEILING:,}"
            )
        setattr(meeting, name, value)
    if meeting.delegates_min > meeting.delegates_max:
        raise InvalidInputError(
            "delegates_max", N_("must not be below the least number of delegates")
        )


def local_moment(value: datetime) -> str:
    """A moment as every page writes it, "14:00 10/09/2025", in the province's zone."""
    return f"{local_time(value, get_settings().timezone):%H:%M %d/%m/%Y}"


def is_roll_call_open(meeting: Meeting, now: datetime) -> bool:
    """Whether answers are taken by the clock: once the meeting is live, or from its opening.
    (Whether its status takes answers at all is the roll call's own rule.)"""
    return meeting.status == MeetingStatus.LIVE.value or now >= meeting.roll_call_time


def check_roll_call_open(meeting: Meeting, now: datetime) -> None:
    """409 before the roll call opens, saying when it does."""
    if not is_roll_call_open(meeting, now):
        raise ConflictError(
            N_(
                "The roll call opens at %(time)s; until then the link takes the answer to the "
                "invitation."
            ),
            time=local_moment(meeting.roll_call_time),
        )


def check_delegates(meeting: Meeting, field: str, count: int | None) -> None:
    """A count of delegates within the meeting's bounds (None: no count to check)."""
    if count is not None and not meeting.delegates_min <= count <= meeting.delegates_max:
        raise InvalidInputError(
            field, OUT_OF_BOUNDS, min=meeting.delegates_min, max=meeting.delegates_max
        )
