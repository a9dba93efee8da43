"""What the points domain stores about a person (confhub.core.people): the directory entries
naming them as a point's chair (name, position, phones, e-mail) or giving their phone as the
technician's, and the entries of the points' contacts logs they made or that name them.

Erasing empties the chair's part of the entry (or the technician's phone), pseudonymises the log
entries, and adds an entry holding counts only to the log of every point concerned. The
directory's names are the person's too, so the sections after this one (the meetings' audit
entries) find what names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from confhub.core.people import Findings, Matcher, Person, PersonalData
from confhub.db import DbSession
from confhub.points.models import ConnectionPoint, ContactsAuditEntry, PointContacts

ERASED_ACTION = "erased"
ERASER_LABEL = "confhub people erase"


@dataclass
class PointsPart:
    """The directory's rows about the person."""

    # (entry, its point, whether the person is its chair rather than only its technician)
    entries: list[tuple[PointContacts, ConnectionPoint, bool]] = field(default_factory=list)
    audit_entries: list[ContactsAuditEntry] = field(default_factory=list)


def _is_chair(matcher: Matcher, row: PointContacts, emails: set[str]) -> bool:
    return (
        matcher.is_name(row.chair_name)
        or any(matcher.is_phone(p) for p in row.phones or ())
        or (row.email or "").lower() in emails
    )


class PointsData(PersonalData[PointsPart]):
    """Directory entries and the contacts logs."""

    async def find(self, session: DbSession, person: Person, found: Findings) -> PointsPart:
        """Entries whose chair has the person's name, phone or account e-mail, or whose
        technician has their phone; then the log entries they made or that name them."""
        part = PointsPart()
        matcher = person.matcher()
        emails = {label.lower() for label in person.labels if "@" in label}
        emails |= {u.strip().lower() for u in person.query.users if "@" in u}
        rows = await session.execute(
            select(PointContacts, ConnectionPoint)
            .join(ConnectionPoint, ConnectionPoint.id == PointContacts.point_id)
            .order_by(PointContacts.point_id)
        )
        for row, point in rows:
            if _is_chair(matcher, row, emails):
                part.entries.append((row, point, True))
            elif matcher.is_phone(row.technician_phone):
                part.entries.append((row, point, False))
        person.names |= {r.chair_name for r, _, chair in part.entries if chair and r.chair_name}
        matcher = person.matcher()
        logged = await session.scalars(select(ContactsAuditEntry).order_by(ContactsAuditEntry.id))
        part.audit_entries = [
            e
            for e in logged
            if e.actor_id in person.account_ids
            or e.actor_label in person.labels
            or matcher.mentions(" ".join(_strings(e.details)))
        ]
        return part

    def export(self, part: PointsPart) -> dict[str, Any]:
        """The directory entries with their points, and the log entries."""
        return {
            "directory_entries": [
                {
                    "point_id": point.id,
                    "point_name": point.name,
                    "unit_code": point.unit_code,
                    "as": "chair" if chair else "technician",
                    "chair_name": row.chair_name if chair else None,
                    "chair_position": row.chair_position if chair else None,
                    "phones": list(row.phones or ()) if chair else [],
                    "email": row.email if chair else None,
                    "technician_phone": row.technician_phone,
                }
                for row, point, chair in part.entries
            ],
            "directory_audit_entries": [
                {
                    "id": e.id,
                    "point_id": e.point_id,
                    "action": e.action,
                    "actor_label": e.actor_label,
                    "details": e.details,
                    "at": e.created_at.isoformat() if e.created_at else None,
                }
                for e in part.audit_entries
            ],
        }

    def counts(self, part: PointsPart) -> dict[str, int]:
        """Directory entries emptied and log entries pseudonymised."""
        return {
            "directory_entries": len(part.entries),
            "directory_audit_entries_pseudonymised": len(part.audit_entries),
        }

    async def erase(self, session: DbSession, part: PointsPart, found: Findings) -> None:
        """The chair's part of each entry (or the technician's phone) emptied, log entries
        pseudonymised; each point concerned logs the erasure, counts only."""
        person = found.person
        matcher = person.matcher()
        for row, _, chair in part.entries:
            if chair:
                row.chair_name = row.chair_position = row.email = None
                row.phones = []
            if matcher.is_phone(row.technician_phone):
                row.technician_phone = None
        for entry in part.audit_entries:
            entry.actor_label = person.pseudonym(entry.actor_label, matcher)
            entry.details = matcher.scrub_json(entry.details)
        if person.account_ids:
            await session.execute(
                update(ContactsAuditEntry)
                .where(ContactsAuditEntry.actor_id.in_(sorted(person.account_ids)))
                .values(actor_id=None)
            )
        summary = self.counts(part)
        points = {row.point_id for row, _, _ in part.entries}
        points |= {e.point_id for e in part.audit_entries}
        for point_id in sorted(points):
            session.add(
                ContactsAuditEntry(
                    point_id=point_id,
                    actor_id=None,
                    actor_label=ERASER_LABEL,
                    action=ERASED_ACTION,
                    details=summary,
                )
            )


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value (the log's old and new values, phones in lists)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []
