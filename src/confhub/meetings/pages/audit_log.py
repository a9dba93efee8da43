"""A meeting's audit log made readable: each entry with the names and local times it refers to.

The stored details are what the services recorded (ids, ISO times); pages need point names and
datetimes to format. The sentence itself is written by the template, in the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from confhub.db import DbSession
from confhub.meetings import audit
from confhub.points.models import ConnectionPoint

TIME_FIELDS = frozenset({"starts_at", "ends_at"})


@dataclass(frozen=True)
class FieldChange:
    """One field of an edit: its name and its value before and after (datetimes parsed)."""

    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class AuditLine:
    """One entry of the log as a page shows it."""

    at: datetime
    actor: str
    action: str
    details: dict[str, Any]
    point_name: str | None = None
    changes: list[FieldChange] = field(default_factory=list)


def _value(name: str, value: Any, points: dict[int, str]) -> Any:
    if name in TIME_FIELDS and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if name == "host_point_id" and isinstance(value, int):
        return points.get(value, f"#{value}")
    return value


def _point_ids(entries: list[Any]) -> set[int]:
    ids: set[int] = set()
    for entry in entries:
        details = entry.details or {}
        if isinstance(details.get("point_id"), int):
            ids.add(details["point_id"])
        for old_new in (details.get("changes") or {}).get("host_point_id") or []:
            if isinstance(old_new, int):
                ids.add(old_new)
    return ids


async def audit_lines(session: DbSession, meeting_id: int) -> list[AuditLine]:
    """The meeting's log, newest first, ready to be put into sentences."""
    entries = await audit.entries(session, meeting_id)
    ids = _point_ids(entries)
    points: dict[int, str] = {}
    if ids:
        rows = await session.execute(
            select(ConnectionPoint.id, ConnectionPoint.name).where(ConnectionPoint.id.in_(ids))
        )
        points = {int(point_id): str(name) for point_id, name in rows.tuples()}
    lines = []
    for entry in entries:
        details = dict(entry.details or {})
        point_id = details.get("point_id")
        point_name = details.get("point") or (points.get(point_id) if point_id else None)
        changes = [
            FieldChange(name, _value(name, old, points), _value(name, new, points))
            for name, (old, new) in (details.get("changes") or {}).items()
        ]
        lines.append(
            AuditLine(
                at=entry.created_at,
                actor=entry.actor_label,
                action=entry.action,
                details=details,
                point_name=point_name,
                changes=changes,
            )
        )
    return lines
