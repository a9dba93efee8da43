"""What the attendance domain stores about a person (confhub.core.people): the check-ins they
made (by their account, or through the link of a point they chair) or whose reason, note or
presiding person names them, the roll-call states naming them, and the live events that carried
such notes.

Erasing pseudonymises the check-ins' labels, scrubs the notes and events, and removes them as
the person who presided (name replaced, position removed); every answer's status and delegate
count stay, so the reports still add up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from confhub.attendance.models import AttendanceEvent, CheckinRecord, PointAttendance
from confhub.core.people import Findings, Matcher, Person, PersonalData
from confhub.db import DbSession
from confhub.meetings.personal_data import MeetingsData


@dataclass
class AttendancePart:
    """The roll call's rows about the person."""

    checkins: list[CheckinRecord] = field(default_factory=list)
    notes: list[PointAttendance] = field(default_factory=list)
    events: list[AttendanceEvent] = field(default_factory=list)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class AttendanceData(PersonalData[AttendancePart]):
    """Check-ins, roll-call notes and live events."""

    async def find(self, session: DbSession, person: Person, found: Findings) -> AttendancePart:
        """Check-ins by their accounts or the links of the points they chair, and the notes
        and events naming them."""
        chaired = found.part(MeetingsData).chaired
        matcher = person.matcher()
        checkins = await session.scalars(select(CheckinRecord).order_by(CheckinRecord.id))
        part = AttendancePart()
        part.checkins = [
            r
            for r in checkins
            if r.actor_id in person.account_ids
            or r.actor_label in person.labels
            or (r.source == "link" and (r.meeting_id, r.point_id) in chaired)
            or matcher.mentions(r.reason)
            or matcher.mentions(r.note)
            or matcher.mentions(r.presiding_name)
        ]
        states = await session.scalars(
            select(PointAttendance).where(
                or_(
                    PointAttendance.reason.is_not(None),
                    PointAttendance.note.is_not(None),
                    PointAttendance.presiding_name.is_not(None),
                )
            )
        )
        part.notes = [
            s
            for s in states
            if matcher.mentions(s.reason)
            or matcher.mentions(s.note)
            or matcher.mentions(s.presiding_name)
        ]
        events = await session.scalars(select(AttendanceEvent).order_by(AttendanceEvent.id))
        part.events = [
            e for e in events if matcher.mentions(json.dumps(e.payload, ensure_ascii=False))
        ]
        return part

    def export(self, part: AttendancePart) -> dict[str, Any]:
        """Check-ins, and the roll-call notes and events naming the person."""
        return {
            "check_ins": [
                {
                    "id": r.id,
                    "meeting_id": r.meeting_id,
                    "point_id": r.point_id,
                    "status": r.status,
                    "delegates_present": r.delegates_present,
                    "reason": r.reason,
                    "note": r.note,
                    "presiding_name": r.presiding_name,
                    "presiding_position": r.presiding_position,
                    "source": r.source,
                    "actor_label": r.actor_label,
                    "at": _when(r.created_at),
                }
                for r in part.checkins
            ],
            "roll_call_notes": [
                {
                    "meeting_id": n.meeting_id,
                    "point_id": n.point_id,
                    "reason": n.reason,
                    "note": n.note,
                    "presiding_name": n.presiding_name,
                }
                for n in part.notes
            ]
            + [{"meeting_id": e.meeting_id, "event_version": e.version} for e in part.events],
        }

    def counts(self, part: AttendancePart) -> dict[str, int]:
        """Check-ins, and notes and events together."""
        return {
            "checkins_pseudonymised": len(part.checkins),
            "notes_scrubbed": len(part.notes) + len(part.events),
        }

    def meeting_ids(self, part: AttendancePart) -> set[int]:
        """The meetings of the check-ins, notes and events."""
        ids = {r.meeting_id for r in part.checkins} | {n.meeting_id for n in part.notes}
        return ids | {e.meeting_id for e in part.events}

    async def erase(self, session: DbSession, part: AttendancePart, found: Findings) -> None:
        """Labels pseudonymised, notes and events scrubbed; statuses and counts stay."""
        person = found.person
        matcher = person.matcher()
        for record in part.checkins:  # status and delegates stay: the reports still add up
            record.actor_label = person.pseudonym(record.actor_label, matcher)
            record.reason = matcher.scrub_optional(record.reason)
            record.note = matcher.scrub_optional(record.note)
            _unname_presiding(record, matcher)
        for state in part.notes:
            state.reason = matcher.scrub_optional(state.reason)
            state.note = matcher.scrub_optional(state.note)
            _unname_presiding(state, matcher)
        for event in part.events:
            event.payload = matcher.scrub_json(event.payload)
        if person.account_ids:
            # The foreign key says SET NULL; done here too so no row keeps pointing at the person.
            await session.execute(
                update(CheckinRecord)
                .where(CheckinRecord.actor_id.in_(sorted(person.account_ids)))
                .values(actor_id=None)
            )


def _unname_presiding(row: CheckinRecord | PointAttendance, matcher: Matcher) -> None:
    """The person who presided, when it is them: name replaced, position removed."""
    if matcher.mentions(row.presiding_name):
        row.presiding_name = matcher.scrub(row.presiding_name or "")
        row.presiding_position = None
