"""The attendance event log: the meeting's version counter and its numbered deltas.

`append()` takes the meeting's next version with one UPDATE … RETURNING: PostgreSQL locks the
meeting row until commit and SQLite has one writer, so versions are gap-free and in commit
order in every process. Readers ask `since()` for what they missed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from confhub.attendance.fanout import queue_delta
from confhub.attendance.models import AttendanceEvent, EventType
from confhub.db import DbSession
from confhub.meetings.models import Meeting

# A client further behind than this gets a fresh snapshot instead of the deltas.
MAX_RESYNC_EVENTS = 2000


async def next_version(session: DbSession, meeting_id: int) -> int:
    """Reserve the meeting's next attendance version (inside the caller's transaction)."""
    result = await session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id)
        .values(attendance_version=Meeting.attendance_version + 1)
        .returning(Meeting.attendance_version)
    )
    return int(result.scalar_one())


async def append(
    session: DbSession,
    meeting_id: int,
    event_type: EventType,
    payload: dict[str, Any],
    point_id: int | None = None,
    *,
    broadcast: bool = True,
) -> dict[str, Any]:
    """Append one delta and return it as the live message clients receive.

    With `broadcast`, it goes out on the live channel when the transaction commits.
    """
    version = await next_version(session, meeting_id)
    message = {"type": event_type.value, "version": version, **payload}
    session.add(
        AttendanceEvent(
            meeting_id=meeting_id,
            version=version,
            type=event_type.value,
            point_id=point_id,
            payload=message,
        )
    )
    await session.flush()
    if broadcast:
        queue_delta(session, meeting_id, message)
    return message


async def current_version(session: DbSession, meeting_id: int) -> int:
    """The meeting's latest attendance version (0 before anything happened)."""
    version = await session.scalar(
        select(Meeting.attendance_version).where(Meeting.id == meeting_id)
    )
    return int(version or 0)


async def since(
    session: DbSession, meeting_id: int, version: int, limit: int = MAX_RESYNC_EVENTS
) -> list[dict[str, Any]] | None:
    """The deltas after `version`, in order; None when there are more than `limit`."""
    rows = list(
        await session.scalars(
            select(AttendanceEvent.payload)
            .where(AttendanceEvent.meeting_id == meeting_id, AttendanceEvent.version > version)
            .order_by(AttendanceEvent.version)
            .limit(limit + 1)
        )
    )
    if len(rows) > limit:
        return None
    return [dict(row) for row in rows]
