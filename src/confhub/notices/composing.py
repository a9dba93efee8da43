"""What a notice says: the e-mail (subject, plain text, and an iTIP `.ics` whose UID and
SEQUENCE are the feeds') and the webhook's short text, written from the meeting as it is when
the message is first sent. Vietnamese, the chairs' language."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from confhub.calendar.builder import (
    LINE_TEST,
    REMINDER,
    ROOM,
    TECHNICIAN,
    VIDEO_ROOM,
    Connection,
    FeedEvent,
    FeedInfo,
    IcsExporter,
    OwnPoint,
    one_line,
    plain_text,
    serialize,
)
from confhub.calendar.services import CalendarService, Feed, FeedKind, FeedPolicy
from confhub.core.i18n import DEFAULT_LANGUAGE, N_, gettext
from confhub.core.timefmt import format_clock, format_meeting_time, local_time
from confhub.db import DbSession
from confhub.meetings.models import Invitation, Meeting
from confhub.notices.models import Channel, Notice, NoticeDelivery, NoticeKind
from confhub.notices.policy import NoticePolicy
from confhub.notices.recipients import Recipient, recipients_of
from confhub.points.models import ConnectionPoint

SUBJECTS = {
    NoticeKind.INVITATION.value: N_("Invitation: %(title)s"),
    NoticeKind.REMINDER.value: N_("Reminder: %(title)s at %(time)s"),
    NoticeKind.CHANGE.value: N_("Changed: %(title)s"),
    NoticeKind.CANCELLATION.value: N_("Cancelled: %(title)s"),
    NoticeKind.LINK_REISSUED.value: N_("New check-in link: %(title)s"),
    NoticeKind.DRAFT_REVIEW.value: N_("Draft waiting for review: %(title)s"),
}
LEADS = {
    NoticeKind.INVITATION.value: N_(
        "Your connection point is invited to the online conference below."
    ),
    NoticeKind.REMINDER.value: N_("A reminder of the online conference below."),
    NoticeKind.CHANGE.value: N_("The online conference below has changed."),
    NoticeKind.CANCELLATION.value: N_("The online conference below is cancelled."),
    NoticeKind.LINK_REISSUED.value: N_(
        "Your point has a new check-in link; the old one no longer works."
    ),
    NoticeKind.DRAFT_REVIEW.value: N_(
        "A draft article about the online conference below waits for your review on the news "
        "page of %(unit)s."
    ),
}
# What a draft's editor is asked to do, by what the roll call shows of the unit's point.
DRAFT_ASKS = {
    "present": N_("Your point answered the roll call present: check the draft and publish it."),
    "pending": N_(
        "Your point never answered the roll call: before the draft can be published, say who "
        "presided there and how many delegates attended."
    ),
}
FIELD_LABELS = {
    "starts_at": N_("Start"),
    "ends_at": N_("End"),
    "host_point_id": N_("Main point"),
    "conference_url": N_("Conference link"),
    "conference_room": N_("Room"),
    "technician_phone": N_("Technician"),
    "line_test_at": N_("Line test"),
}
# Notices written to people named when they were recorded (the delivery's recipient), not to a
# point's contacts as they are when the message leaves.
ADDRESSED_KINDS = frozenset({NoticeKind.DRAFT_REVIEW.value})
SMS_TITLE_CHARS = 60
# The webhook's short text opens with what it is.
SMS_KINDS = {
    NoticeKind.INVITATION.value: N_("Invitation"),
    NoticeKind.REMINDER.value: N_("Reminder"),
    NoticeKind.CHANGE.value: N_("Change"),
    NoticeKind.CANCELLATION.value: N_("Cancelled"),
    NoticeKind.LINK_REISSUED.value: N_("New link"),
    NoticeKind.DRAFT_REVIEW.value: N_("Draft"),
}


def _(message: str, **values: Any) -> str:
    return gettext(DEFAULT_LANGUAGE, message, **values)


@dataclass(frozen=True)
class NoticeContext:
    """Everything one message is written from."""

    notice: Notice
    meeting: Meeting
    point: ConnectionPoint
    recipient: Recipient
    checkin_url: str | None
    event: FeedEvent | None


class Composer:
    """Writes the messages of a batch of deliveries, loading what they need in a few queries."""

    def __init__(self, session: DbSession, policy: NoticePolicy) -> None:
        self.session = session
        self.policy = policy
        self._events: dict[int, FeedEvent | None] = {}
        self._calendars: dict[tuple[int, str], tuple[bytes, bytes, IcsExporter]] = {}

    async def contexts(self, deliveries: Sequence[NoticeDelivery]) -> dict[int, NoticeContext]:
        """Each delivery's context, by delivery id."""
        session = self.session
        notices = {
            n.id: n
            for n in await session.scalars(
                select(Notice).where(Notice.id.in_({d.notice_id for d in deliveries}))
            )
        }
        by_meeting: dict[int, set[int]] = {}
        for notice in notices.values():
            by_meeting.setdefault(notice.meeting_id, set()).add(notice.point_id)
        meetings = {
            m.id: m
            for m in await session.scalars(select(Meeting).where(Meeting.id.in_(by_meeting)))
        }
        points = {
            p.id: p
            for p in await session.scalars(
                select(ConnectionPoint).where(
                    ConnectionPoint.id.in_({n.point_id for n in notices.values()})
                )
            )
        }
        tokens: dict[tuple[int, int], str | None] = {}
        recipients: dict[tuple[int, int], Recipient] = {}
        for meeting_id, point_ids in by_meeting.items():
            rows = await session.execute(
                select(Invitation.point_id, Invitation.checkin_token).where(
                    Invitation.meeting_id == meeting_id, Invitation.point_id.in_(point_ids)
                )
            )
            tokens.update({(meeting_id, p): t for p, t in rows})
            found = await recipients_of(session, meeting_id, point_ids)
            recipients.update({(meeting_id, p): r for p, r in found.items()})
            if meeting_id not in self._events:
                self._events[meeting_id] = await self._event(meeting_id)
        contexts = {}
        for delivery in deliveries:
            notice = notices[delivery.notice_id]
            key = (notice.meeting_id, notice.point_id)
            token = tokens.get(key)
            recipient = recipients.get(key, Recipient())
            if notice.kind in ADDRESSED_KINDS:  # to a person named when it was recorded
                recipient = Recipient(name=delivery.recipient_name, email=delivery.recipient)
            contexts[delivery.id] = NoticeContext(
                notice=notice,
                meeting=meetings[notice.meeting_id],
                point=points[notice.point_id],
                recipient=recipient,
                checkin_url=f"{self.policy.base_url}/checkin/{token}" if token else None,
                event=self._events.get(notice.meeting_id),
            )
        return contexts

    async def _event(self, meeting_id: int) -> FeedEvent | None:
        policy = FeedPolicy(self.policy.base_url, self.policy.timezone)
        service = CalendarService(self.session, policy)
        events = await service.events(Feed(FeedKind.MEETING, meeting_id))
        if not events:
            return None
        # The recipient is known (the point's own chair): the event carries how to join, as a
        # private feed's does (CONFERENCE and DESCRIPTION), never an anonymous feed's.
        meeting = await self.session.get(Meeting, meeting_id)
        assert meeting is not None
        connection = Connection(
            conference_url=meeting.conference_url,
            conference_room=meeting.conference_room,
            technician_phone=meeting.technician_phone,
            line_test_at=meeting.line_test_time,
        )
        return replace(events[0], connection=connection)

    def email(self, context: NoticeContext, delivery: NoticeDelivery) -> dict[str, Any]:
        """The e-mail's content: recipient, subject, text and `.ics`."""
        meeting = context.meeting
        if context.notice.kind == NoticeKind.DRAFT_REVIEW.value:
            return self.draft_email(context)
        time = format_clock(meeting.starts_at, self.policy.timezone)
        subject = _(SUBJECTS[context.notice.kind], title=meeting.title, time=time)
        return {
            "to": context.recipient.email or "",
            "to_name": context.recipient.name,
            "subject": subject,
            "text": self.text(context),
            "ics": self.ics(context).decode(),
            "method": self.method(context),
        }

    def draft_email(self, context: NoticeContext) -> dict[str, Any]:
        """A unit's editor told that a draft waits: no calendar part (the meeting is held)."""
        payload, meeting = context.notice.payload, context.meeting
        title = payload.get("title") or meeting.title
        unit = payload.get("unit_name") or context.point.name
        lines = [_(LEADS[NoticeKind.DRAFT_REVIEW.value], unit=unit), "", title]
        if meeting.convening_body:
            lines.append(f"{_('Convened by')}: {meeting.convening_body}")
        zone = self.policy.timezone
        lines.append(f"{_('Time')}: {format_meeting_time(meeting.starts_at, zone, 'vi')}")
        ask = DRAFT_ASKS.get(str(payload.get("roll_call")))
        if ask:
            lines += ["", _(ask)]
        lines += ["", _("Open the draft:"), f"{self.policy.base_url}{payload.get('path', '/')}"]
        return {
            "to": context.recipient.email or "",
            "to_name": context.recipient.name,
            "subject": _(SUBJECTS[NoticeKind.DRAFT_REVIEW.value], title=title),
            "text": "\n".join(lines) + "\n",
        }

    def method(self, context: NoticeContext) -> str:
        """The iTIP method: CANCEL for a cancellation, REQUEST otherwise."""
        return "CANCEL" if context.notice.kind == NoticeKind.CANCELLATION.value else "REQUEST"

    def text(self, context: NoticeContext) -> str:
        """The e-mail's plain text."""
        meeting, notice, zone = context.meeting, context.notice, self.policy.timezone
        lines = [_(LEADS[notice.kind]), "", meeting.title]
        if meeting.convening_body:
            lines.append(f"{_('Convened by')}: {meeting.convening_body}")
        lines.append(f"{_('Time')}: {format_meeting_time(meeting.starts_at, zone, 'vi')}")
        lines.append(f"{_('Your connection point')}: {context.point.name}")
        connection = context.event.connection if context.event is not None else None
        if connection is not None:
            joins = [
                (VIDEO_ROOM, connection.conference_url),
                (ROOM, connection.conference_room),
                (TECHNICIAN, connection.technician_phone),
            ]
            lines += [f"{_(label)}: {value}" for label, value in joins if value]
            if connection.line_test_at and (
                connection.conference_url or connection.conference_room
            ):
                lines.append(f"{_(LINE_TEST)}: {format_clock(connection.line_test_at, zone)}")
        if notice.kind == NoticeKind.CHANGE.value:
            lines += ["", f"{_('What changed')}:"]
            for field, (old, new) in notice.payload.get("changes", {}).items():
                label = _(FIELD_LABELS.get(field, field))
                lines.append(f"- {label}: {self._value(old)} → {self._value(new)}")
        if notice.kind == NoticeKind.CANCELLATION.value and notice.payload.get("reason"):
            lines.append(f"{_('Reason')}: {notice.payload['reason']}")
        if context.event is not None and context.event.agenda:
            lines += ["", f"{_('Agenda')}:"]
            for number, item in enumerate(context.event.agenda, 1):
                lines.append(f"{number}. {item.title}")
        if context.checkin_url and notice.kind != NoticeKind.CANCELLATION.value:
            lines += [
                "",
                _("Confirm and answer the roll call at your point's link:"),
                context.checkin_url,
            ]
        return "\n".join(lines) + "\n"

    def _value(self, value: Any) -> str:
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
            if moment.tzinfo is not None:
                return format_meeting_time(moment, self.policy.timezone, "vi")
        return "—" if value in (None, "") else str(value)

    def ics(self, context: NoticeContext) -> bytes:
        """The invitation as iTIP: the feeds' event (UID, SEQUENCE), the point as its location,
        the recipient as ATTENDEE, the sender as ORGANIZER.

        The meeting's calendar (its zone, times, agenda) is built and written once per meeting
        and method; each message writes only its own LOCATION, DESCRIPTION and ATTENDEE lines
        into it, a fraction of writing the whole calendar again (bench/notices.py)."""
        event = context.event
        meeting = context.meeting
        if event is None:  # a meeting no feed shows (a draft): nothing was sent for it
            raise LookupError(f"meeting {meeting.id} has no calendar event")
        method = self.method(context)
        key = (meeting.id, method)
        if key not in self._calendars:
            self._calendars[key] = self._calendar(event, meeting, method)
        head, tail, exporter = self._calendars[key]
        from icalendar import Event, vCalAddress  # on the first notice (confhub.calendar.builder)

        own = OwnPoint(context.point.name, context.recipient.name or None)
        lines = Event()
        lines.add("location", one_line(context.point.name))
        mine = replace(event, own_points=(own,), location=context.point.name)
        lines.add("description", plain_text(exporter.description(mine)))
        if context.recipient.email:
            attendee = vCalAddress(f"mailto:{context.recipient.email}")
            attendee.params["CN"] = one_line(context.recipient.name or context.point.name)
            attendee.params["ROLE"] = "REQ-PARTICIPANT"
            attendee.params["RSVP"] = "FALSE"
            lines.add("attendee", attendee)
        own_lines = bytes(lines.to_ical()).split(b"\r\n", 1)[1].rsplit(b"END:VEVENT", 1)[0]
        return head + own_lines + tail

    def _calendar(
        self, event: FeedEvent, meeting: Meeting, method: str
    ) -> tuple[bytes, bytes, IcsExporter]:
        """The meeting's iTIP calendar without a point's own lines, written and cut where they
        go (before its END:VEVENT), and its exporter."""
        info = FeedInfo(
            uid=f"calendar-meeting-{meeting.id}@{self.policy.host}",
            name=meeting.title,
            timezone=self.policy.timezone,
            modified_at=event.modified_at,
            language=DEFAULT_LANGUAGE,
            reminders=(REMINDER,),
        )
        from icalendar import vCalAddress

        exporter = IcsExporter(info)
        calendar = exporter.build([event], method=method)
        vevent = calendar.walk("VEVENT")[0]
        organizer = vCalAddress(f"mailto:{self.policy.mail_from}")
        organizer.params["CN"] = one_line(event.organizer_name)
        vevent["ORGANIZER"] = organizer
        vevent.pop("LOCATION", None)
        vevent.pop("DESCRIPTION", None)
        written = serialize(calendar)
        cut = written.rindex(b"END:VEVENT\r\n")
        return written[:cut], written[cut:], exporter

    def sms(self, context: NoticeContext) -> str:
        """The webhook's short text: what, which meeting, when, and the point's link."""
        meeting = context.meeting
        title = meeting.title
        if len(title) > SMS_TITLE_CHARS:
            title = title[: SMS_TITLE_CHARS - 1].rstrip() + "…"
        local = local_time(meeting.starts_at, self.policy.timezone)
        parts = [f"{_(SMS_KINDS[context.notice.kind])}: {title}", f"{local:%H:%M %d/%m/%Y}"]
        if context.checkin_url and context.notice.kind != NoticeKind.CANCELLATION.value:
            parts.append(context.checkin_url)
        return " - ".join(parts)

    def webhook(self, context: NoticeContext, delivery: NoticeDelivery) -> dict[str, Any]:
        """The webhook's JSON body, fixed at the first attempt (the signature covers its bytes)."""
        body = {
            "id": delivery.message_id,
            "kind": context.notice.kind,
            "meeting_id": context.meeting.id,
            "point_id": context.point.id,
            "unit_code": context.point.unit_code,
            "to": {"name": context.recipient.name, "phone": context.recipient.phone or ""},
            "text": self.sms(context),
        }
        return {
            "to": context.recipient.phone or "",
            "to_name": context.recipient.name,
            "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        }

    def content(self, context: NoticeContext, delivery: NoticeDelivery) -> dict[str, Any]:
        """The delivery's content on its channel."""
        if delivery.channel == Channel.EMAIL.value:
            return self.email(context, delivery)
        return self.webhook(context, delivery)
