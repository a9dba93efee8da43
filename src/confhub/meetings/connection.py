"""How points join a meeting: the video room's link (or a room ID and PIN for a hardware MCU),
the technician's hotline, and when points join to test the line (30 minutes before the start
unless set; it moves with a reschedule until it is set).

They let anyone join, so they are shown only where the reader is known: the signed-in pages, the
check-in page, notices, and the private and e-mailed calendar events, never an anonymous feed.
The checks are here, whatever door the values come through (the API, the meeting form).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from confhub.core.dates import check_moment
from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.core.text import LINE_MESSAGE, is_line
from confhub.meetings.models import Meeting
from confhub.points.contacts import check_phone

MAX_URL = 500
MAX_ROOM = 200


@dataclass(frozen=True)
class ConnectionChanges:
    """Connection details to set: None leaves one as it is, "" removes it; `line_test_default`
    puts the line test back to its default (30 minutes before the start, moving with it)."""

    conference_url: str | None = None
    conference_room: str | None = None
    technician_phone: str | None = None
    line_test_at: datetime | None = None
    line_test_default: bool = False


def _url(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    parts = urlsplit(text)
    # Only web links: a `javascript:` or `file:` address must never become a link on a page.
    if len(text) > MAX_URL or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(
            "conference_url", N_("must be a link starting with https:// (or http://)")
        )
    if not is_line(text) or any(c.isspace() for c in text):
        raise InvalidInputError("conference_url", LINE_MESSAGE)
    return text


def _room(value: str) -> str | None:
    text = " ".join(value.split())
    if not is_line(text):
        raise InvalidInputError("conference_room", LINE_MESSAGE)
    if len(text) > MAX_ROOM:
        raise InvalidInputError("conference_room", N_("At most %(n)s characters."), n=MAX_ROOM)
    return text or None


def apply_connection(meeting: Meeting, changes: ConnectionChanges) -> None:
    """Check and set the details `changes` gives (raises :class:`InvalidInputError` naming the
    field); the line test must come before the meeting's end (call after its times are set)."""
    if changes.conference_url is not None:
        meeting.conference_url = _url(changes.conference_url)
    if changes.conference_room is not None:
        meeting.conference_room = _room(changes.conference_room)
    if changes.technician_phone is not None:
        phone = changes.technician_phone.strip()
        meeting.technician_phone = check_phone("technician_phone", phone)[0] if phone else None
    if changes.line_test_default:
        meeting.line_test_at = None
    elif changes.line_test_at is not None:
        if changes.line_test_at.tzinfo is None:
            raise InvalidInputError("line_test_at", N_("must carry a UTC offset"))
        meeting.line_test_at = check_moment("line_test_at", changes.line_test_at)
    if meeting.line_test_at is not None and meeting.line_test_at >= meeting.ends_at:
        raise InvalidInputError("line_test_at", N_("must be before the meeting ends"))
