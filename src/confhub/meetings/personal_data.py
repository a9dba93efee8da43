"""What the meetings domain stores about a person (confhub.core.people): the chair assignments
naming them (name, position, phone) with their meetings and points, the audit entries they made
or that name them, and the meetings and agenda items whose text mentions them.

Erasing replaces the chair's name with the placeholder and removes the phone and position,
pseudonymises the audit entries, and records the erasure (counts only) in the log of every
meeting concerned. A meeting's announced officials and agenda are the province's records: they
are reported, never rewritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from confhub.core.people import (
    PLACEHOLDER,
    Findings,
    Mention,
    Person,
    PersonalData,
    mentions_in,
)
from confhub.db import DbSession
from confhub.meetings.models import AgendaItem, AuditEntry, Invitation, Meeting, MeetingDocument
from confhub.points.models import ConnectionPoint

ERASED_ACTION = "personal_data_erased"
ERASER_LABEL = "confhub people erase"


@dataclass
class MeetingsPart:
    """The meetings' rows about the person."""

    chair_assignments: list[tuple[Invitation, Meeting, ConnectionPoint]] = field(
        default_factory=list
    )
    audit_entries: list[AuditEntry] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)

    @property
    def chaired(self) -> set[tuple[int, int]]:
        """(meeting id, point id) of every point the person chairs."""
        return {(i.meeting_id, i.point_id) for i, _, _ in self.chair_assignments}


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class MeetingsData(PersonalData[MeetingsPart]):
    """Chair assignments, audit entries, and meetings' texts."""

    async def find(self, session: DbSession, person: Person, found: Findings) -> MeetingsPart:
        """The chair assignments with the person's name or phone (their names are the person's
        too: audit entries name a chair so), then what names them."""
        part = MeetingsPart()
        matcher = person.matcher()
        rows = await session.execute(
            select(Invitation, Meeting, ConnectionPoint)
            .join(Meeting, Meeting.id == Invitation.meeting_id)
            .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
            .where(or_(Invitation.chair_name.is_not(None), Invitation.chair_phone.is_not(None)))
            .order_by(Meeting.starts_at, Invitation.id)
        )
        part.chair_assignments = [
            (i, m, p)
            for i, m, p in rows
            if matcher.is_name(i.chair_name) or matcher.is_phone(i.chair_phone)
        ]
        person.names |= {i.chair_name for i, _, _ in part.chair_assignments if i.chair_name}
        matcher = person.matcher()
        entries = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        part.audit_entries = [
            e
            for e in entries
            if e.actor_id in person.account_ids
            or e.actor_label in person.labels
            or matcher.mentions(json.dumps(e.details, ensure_ascii=False))
        ]
        fields = ("title", "presiding_official", "description", "status_reason")
        for meeting in await session.scalars(select(Meeting).order_by(Meeting.id)):
            hits = [name for name in fields if matcher.mentions(getattr(meeting, name))]
            if hits:
                published = meeting.status != "draft"
                part.mentions.append(
                    Mention("meeting", meeting.id, meeting.id, hits, published, None, meeting.title)
                )
        items = await session.scalars(select(AgendaItem).order_by(AgendaItem.id))
        part.mentions += mentions_in(matcher, "agenda_item", items, ("title", "presenter"))
        return part

    def export(self, part: MeetingsPart) -> dict[str, Any]:
        """Chair assignments with their meetings and points, and audit entries."""
        return {
            "chair_assignments": [
                {
                    "meeting_id": m.id,
                    "meeting_title": m.title,
                    "meeting_starts_at": _when(m.starts_at),
                    "meeting_status": m.status,
                    "point_id": p.id,
                    "point_name": p.name,
                    "unit_code": p.unit_code,
                    "chair_name": i.chair_name,
                    "chair_title": i.chair_title,
                    "chair_phone": i.chair_phone,
                }
                for i, m, p in part.chair_assignments
            ],
            "audit_entries": [
                {
                    "id": e.id,
                    "meeting_id": e.meeting_id,
                    "action": e.action,
                    "actor_label": e.actor_label,
                    "details": e.details,
                    "at": _when(e.created_at),
                }
                for e in part.audit_entries
            ],
        }

    def counts(self, part: MeetingsPart) -> dict[str, int]:
        """Chair assignments and audit entries."""
        return {
            "chair_assignments": len(part.chair_assignments),
            "audit_entries_pseudonymised": len(part.audit_entries),
        }

    def meeting_ids(self, part: MeetingsPart) -> set[int]:
        """The meetings of the chair assignments and audit entries."""
        ids = {meeting.id for _, meeting, _ in part.chair_assignments}
        return ids | {e.meeting_id for e in part.audit_entries}

    def mentions(self, part: MeetingsPart) -> list[Mention]:
        """Meetings and agenda items naming the person."""
        return part.mentions

    async def erase(self, session: DbSession, part: MeetingsPart, found: Findings) -> None:
        """Chairs' names replaced, phones and positions removed, audit entries pseudonymised;
        then each meeting concerned records the erasure."""
        person = found.person
        matcher = person.matcher()
        for invitation, _, _ in part.chair_assignments:
            invitation.chair_name = PLACEHOLDER
            invitation.chair_title = invitation.chair_phone = None
            invitation.chair_is_sample = False
        for entry in part.audit_entries:
            entry.actor_label = person.pseudonym(entry.actor_label, matcher)
            entry.details = matcher.scrub_json(entry.details)
        if person.account_ids:
            # The foreign keys say SET NULL; done here too so no row keeps pointing at the person.
            for model, column in (
                (AuditEntry, AuditEntry.actor_id),
                (Meeting, Meeting.created_by_id),
                (MeetingDocument, MeetingDocument.uploaded_by_id),
            ):
                await session.execute(
                    update(model)
                    .where(column.in_(sorted(person.account_ids)))
                    .values({column.key: None})
                )
        summary = found.counts()
        for meeting_id in sorted(found.meeting_ids):
            session.add(
                AuditEntry(
                    meeting_id=meeting_id,
                    actor_id=None,
                    actor_label=ERASER_LABEL,
                    action=ERASED_ACTION,
                    details=summary,
                )
            )
