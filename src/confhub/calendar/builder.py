"""The iCalendar exporter: plain feed data in, an `icalendar.Calendar` out, and `serialize()`.

Nothing here touches the database or HTTP, so the same exporter serves the subscription feeds
(`METHOD:PUBLISH`) and, later, an e-mailed invitation (`METHOD:REQUEST` with one event). Every
value that must stay stable between two fetches comes from the data: the event and calendar UIDs,
`DTSTAMP` and `LAST-MODIFIED` (the time the meeting was last changed, as RFC 5545 asks when the
object is published), and the span of the `VTIMEZONE` (the years the events fall in). The same
data therefore always gives the same bytes, which is what lets the feeds answer `304`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from confhub.core.i18n import DEFAULT_LANGUAGE, N_, gettext
from confhub.meetings.models import MeetingStatus

if TYPE_CHECKING:
    from icalendar import Alarm, Calendar, Event, Timezone

# icalendar (3.4 MiB with dateutil) is imported when a calendar is first built, not by every
# serving process at start (issue 20): most never answer a feed.

PRODID = "-//confhub//Online conferences//VI"
# How often subscribers fetch again (RFC 7986 REFRESH-INTERVAL, and the older X-PUBLISHED-TTL).
REFRESH_INTERVAL = timedelta(minutes=15)
_REFRESH_TEXT = "PT15M"  # REFRESH_INTERVAL written as an RFC 5545 duration
REMINDER = timedelta(minutes=30)
DAY_BEFORE = timedelta(days=1)

# The labels of DESCRIPTION, translated into the feed's language.
CANCELLED = N_("The meeting is cancelled")
CONVENED_BY = N_("Convened by")
PRESIDING = N_("Presiding")
MAIN_POINT = N_("Main point")
YOUR_POINT = N_("Your connection point")
YOUR_CHAIR = N_("Chair at your point")
AGENDA = N_("Agenda")
STATUS_CANCELLED = N_("status:cancelled")
STATUS_DRAFT = N_("status:draft")
SAMPLE = N_("sample data")
VIDEO_ROOM = N_("Video room")
ROOM = N_("Room ID and PIN")
TECHNICIAN = N_("Technician's hotline")
LINE_TEST = N_("Line test from")

_LINE_BREAK = re.compile(r"\r\n|[\r\n]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
REPLACEMENT = "\ufffd"

_ICAL_STATUS = {
    MeetingStatus.DRAFT.value: "TENTATIVE",
    MeetingStatus.CANCELLED.value: "CANCELLED",
}


@dataclass(frozen=True, slots=True)
class AgendaLine:
    """One item of a meeting's agenda."""

    title: str
    presenter: str = ""
    starts_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OwnPoint:
    """The subscriber's own connection point at a meeting, with the chair presiding there."""

    name: str
    chair_name: str | None = None
    chair_title: str | None = None
    # A chair generated for the demo: said so, so nobody takes the name for a real person's.
    chair_is_sample: bool = False


@dataclass(frozen=True, slots=True)
class Connection:
    """A meeting's connection details, as a private event carries them."""

    conference_url: str | None = None
    conference_room: str | None = None
    technician_phone: str | None = None
    line_test_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One meeting as a calendar shows it. Times are timezone-aware (stored in UTC)."""

    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    status: str
    sequence: int
    modified_at: datetime
    url: str
    organizer_name: str
    organizer_uri: str
    location: str = ""
    categories: tuple[str, ...] = ()
    convening_body: str = ""
    presiding_official: str = ""
    description: str = ""
    status_reason: str | None = None
    host_point: str = ""
    agenda: tuple[AgendaLine, ...] = ()
    own_points: tuple[OwnPoint, ...] = ()
    # How points join: only in a feed whose reader is known (a private feed, an e-mailed
    # invitation), never an anonymous one (a room's link and PIN let anyone join).
    connection: Connection | None = None


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """The calendar around the events: its identity, name, zone, language and reminders."""

    uid: str
    name: str
    timezone: str
    modified_at: datetime
    source_url: str = ""
    language: str = DEFAULT_LANGUAGE
    # Reminders before each meeting (VALARM), e.g. 30 minutes, and one day on a unit's feed.
    reminders: tuple[timedelta, ...] = (REMINDER,)


class IcsExporter:
    """Builds one iCalendar object of meetings. One job: the RFC 5545 format of confhub's data."""

    def __init__(self, feed: FeedInfo) -> None:
        self.feed = feed
        self.zone = ZoneInfo(feed.timezone)
        language = feed.language

        def translate(message: str, **values: str) -> str:
            return gettext(language, message, **values)

        self._: Callable[..., str] = translate

    def build(self, events: Iterable[FeedEvent], *, method: str | None = None) -> Calendar:
        """The calendar holding `events`; `method` is the iTIP method (PUBLISH, later REQUEST)."""
        from icalendar import Calendar

        feed = self.feed
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        if method:
            calendar.add("method", method.upper())
        calendar.add("uid", feed.uid)
        calendar.add("name", one_line(feed.name))
        calendar.add("x-wr-calname", one_line(feed.name))
        calendar.add("x-wr-timezone", feed.timezone)
        calendar.add("last-modified", feed.modified_at)
        if feed.source_url:
            calendar.add("source", feed.source_url)
        calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
        # The older name, read by Outlook; a plain text value, as its users write it.
        calendar.add("x-published-ttl", _REFRESH_TEXT)
        years: set[int] = {feed.modified_at.astimezone(self.zone).year}
        built = []
        for event in events:
            built.append(self.event(event))
            years.add(event.starts_at.astimezone(self.zone).year)
            years.add(event.ends_at.astimezone(self.zone).year)
        # Always one VTIMEZONE, so even an empty feed is a valid calendar (RFC 5545 asks for at
        # least one component) and X-WR-TIMEZONE names a zone the calendar defines.
        calendar.add_component(vtimezone(feed.timezone, min(years), max(years)))
        calendar.subcomponents.extend(built)
        return calendar

    def event(self, meeting: FeedEvent) -> Event:
        """One VEVENT: identity, times in the zone, text, status and reminders."""
        from icalendar import Event, vCalAddress, vUri

        event = Event()
        event.add("uid", meeting.uid)
        event.add("dtstamp", meeting.modified_at)
        event.add("last-modified", meeting.modified_at)
        event.add("sequence", meeting.sequence)
        event.add("dtstart", meeting.starts_at.astimezone(self.zone))
        event.add("dtend", meeting.ends_at.astimezone(self.zone))
        summary = one_line(self.summary(meeting))
        event.add("summary", summary)
        event.add("description", plain_text(self.description(meeting)))
        if meeting.location:
            event.add("location", one_line(meeting.location))
        connection = meeting.connection
        if connection is not None and connection.conference_url:
            # RFC 7986 CONFERENCE; most clients ignore it, so DESCRIPTION says it too.
            event.add(
                "conference",
                vUri(one_line(connection.conference_url)),
                parameters={
                    "VALUE": "URI",
                    "FEATURE": "AUDIO,VIDEO",
                    "LABEL": one_line(self._(VIDEO_ROOM)),
                },
            )
        event.add("url", meeting.url)
        organizer = vCalAddress(meeting.organizer_uri)
        organizer.params["CN"] = one_line(meeting.organizer_name)
        event.add("organizer", organizer)
        if meeting.categories:
            event.add("categories", [one_line(category) for category in meeting.categories])
        cancelled = meeting.status == MeetingStatus.CANCELLED.value
        event.add("status", _ICAL_STATUS.get(meeting.status, "CONFIRMED"))
        # A cancelled meeting no longer blocks the time, and nobody is reminded of it.
        event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
        if not cancelled:
            for before in self.feed.reminders:
                event.add_component(self.alarm(summary, before))
        return event

    def summary(self, meeting: FeedEvent) -> str:
        """The title; a cancelled or draft meeting says so first, for clients that hide STATUS."""
        if meeting.status == MeetingStatus.CANCELLED.value:
            return f"[{self._(STATUS_CANCELLED)}] {meeting.title}"
        if meeting.status == MeetingStatus.DRAFT.value:
            return f"[{self._(STATUS_DRAFT)}] {meeting.title}"
        return meeting.title

    def description(self, meeting: FeedEvent) -> str:
        """Plain text: what, who convenes and presides, where the subscriber joins, the agenda and
        the meeting's address (many clients show DESCRIPTION but not URL)."""
        _ = self._
        sections: list[list[str]] = []
        if meeting.status == MeetingStatus.CANCELLED.value:
            reason = f": {meeting.status_reason}" if meeting.status_reason else ""
            sections.append([_(CANCELLED) + reason])
        if meeting.description:
            sections.append([meeting.description])
        facts = []
        if meeting.convening_body:
            facts.append(f"{_(CONVENED_BY)}: {meeting.convening_body}")
        if meeting.presiding_official:
            facts.append(f"{_(PRESIDING)}: {meeting.presiding_official}")
        if meeting.host_point:
            facts.append(f"{_(MAIN_POINT)}: {meeting.host_point}")
        for point in meeting.own_points:
            facts.append(f"{_(YOUR_POINT)}: {point.name}")
            if point.chair_name:
                title = f" ({point.chair_title})" if point.chair_title else ""
                sample = f" [{_(SAMPLE)}]" if point.chair_is_sample else ""
                facts.append(f"{_(YOUR_CHAIR)}: {point.chair_name}{title}{sample}")
        sections.append(facts)
        if meeting.connection is not None:
            sections.append(self._connection_lines(meeting.connection))
        if meeting.agenda:
            agenda = [self._agenda_line(i, item) for i, item in enumerate(meeting.agenda, 1)]
            sections.append([f"{_(AGENDA)}:", *agenda])
        sections.append([meeting.url])
        return "\n\n".join("\n".join(lines) for lines in sections if lines)

    def _connection_lines(self, connection: Connection) -> list[str]:
        _ = self._
        lines = []
        if connection.conference_url:
            lines.append(f"{_(VIDEO_ROOM)}: {connection.conference_url}")
        if connection.conference_room:
            lines.append(f"{_(ROOM)}: {connection.conference_room}")
        if connection.technician_phone:
            lines.append(f"{_(TECHNICIAN)}: {connection.technician_phone}")
        if connection.line_test_at and lines:
            lines.append(f"{_(LINE_TEST)}: {connection.line_test_at.astimezone(self.zone):%H:%M}")
        return lines

    def _agenda_line(self, number: int, item: AgendaLine) -> str:
        at = f"{item.starts_at.astimezone(self.zone):%H:%M} " if item.starts_at else ""
        presenter = f" ({item.presenter})" if item.presenter else ""
        return f"{number}. {at}{item.title}{presenter}"

    def alarm(self, summary: str, before: timedelta) -> Alarm:
        """A display reminder `before` the start."""
        from icalendar import Alarm

        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -before)
        return alarm


def build_calendar(
    feed: FeedInfo, events: Sequence[FeedEvent], *, method: str | None = None
) -> Calendar:
    """Shorthand for `IcsExporter(feed).build(events, method=method)`."""
    return IcsExporter(feed).build(events, method=method)


def one_line(text: str) -> str:
    """Text for a one-line value or parameter: a line break (NAME and CN cannot even hold an
    escaped one) becomes a space, a control character (which RFC 5545 text may not hold) U+FFFD.
    Input is checked since; these are for rows stored before."""
    return _CONTROL.sub(REPLACEMENT, _LINE_BREAK.sub(" ", text))


def plain_text(text: str) -> str:
    """Text of several lines (DESCRIPTION): line breaks kept, as LF; control characters U+FFFD."""
    return _CONTROL.sub(REPLACEMENT, _LINE_BREAK.sub("\n", text))


def serialize(calendar: Calendar) -> bytes:
    """The calendar as RFC 5545 text: UTF-8, CRLF line ends, lines folded at 75 octets."""
    return bytes(calendar.to_ical())


def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of `tzid` trimmed to the given years (a fresh copy each time)."""
    from icalendar import Timezone

    return Timezone.from_ical(_vtimezone_text(tzid, first_year, last_year))  # type: ignore[return-value]


@lru_cache(maxsize=64)
def _vtimezone_text(tzid: str, first_year: int, last_year: int) -> bytes:
    from icalendar import Timezone

    component = Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )
    return bytes(component.to_ical())
