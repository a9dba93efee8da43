"""The attendance event log: the meeting's version counter and its numbered deltas.

`append_many()` takes the meeting's next versions with one UPDATE … RETURNING (or after
`lock_version()`): PostgreSQL locks the meeting row until commit and SQLite has one writer, so
versions are gap-free and in commit order in every process. Readers ask `since()` for what
they missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from confhub.attendance.fanout import queue_delta
from confhub.attendance.models import AttendanceEvent, EventType
from confhub.db import DbSession
from confhub.meetings.models import Meeting

# A client further behind than this gets a fresh snapshot instead of the deltas.
MAX_RESYNC_EVENTS = 2000


@dataclass(frozen=True)
class Delta:
    """One change to append: its type, its fields, and the point it concerns (if any)."""

    type: EventType
    payload: dict[str, Any]
    point_id: int | None = None


async def lock_version(session: DbSession, meeting_id: int) -> int:
    """Take the meeting's version counter for this transaction and return its value.

    Every attendance writer takes it before touching a point's row, so writers of one meeting
    queue here in one order (no deadlock between a check-in and a presence change) and
    whatever they read afterwards includes what the writer before them committed.
    """
    result = await session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id)
        .values(attendance_version=Meeting.attendance_version)
        .returning(Meeting.attendance_version)
        .execution_options(synchronize_session=False)
    )
    return int(result.scalar_one())


async def append_many(
    session: DbSession,
    meeting_id: int,
    deltas: Sequence[Delta],
    *,
    locked_version: int | None = None,
    broadcast: bool = True,
) -> list[dict[str, Any]]:
    """Append deltas with the meeting's next versions, in order, and return them as the live
    messages clients receive (two statements however many there are).

    `locked_version` is what `lock_version()` returned in this transaction, if the caller took
    it. With `broadcast`, the messages go out on the live channel when the transaction commits.
    """
    if not deltas:
        return []
    if locked_version is None:
        result = await session.execute(
            update(Meeting)
            .where(Meeting.id == meeting_id)
            .values(attendance_version=Meeting.attendance_version + len(deltas))
            .returning(Meeting.attendance_version)
            .execution_options(synchronize_session=False)
        )
        last = int(result.scalar_one())
    else:
        last = locked_version + len(deltas)
        await session.execute(
            update(Meeting)
            .where(Meeting.id == meeting_id)
            .values(attendance_version=last)
            .execution_options(synchronize_session=False)
        )
    first = last - len(deltas) + 1
    messages = [
        {"type": delta.type.value, "version": first + offset, **delta.payload}
        for offset, delta in enumerate(deltas)
    ]
    await session.execute(
        insert(AttendanceEvent),
        [
            {
                "meeting_id": meeting_id,
                "version": message["version"],
                "type": delta.type.value,
                "point_id": delta.point_id,
                "payload": message,
            }
            for delta, message in zip(deltas, messages, strict=True)
        ],
    )
    if broadcast:
        for message in messages:
            queue_delta(session, meeting_id, message)
    return messages


async def append(
    session: DbSession,
    meeting_id: int,
    event_type: EventType,
    payload: dict[str, Any],
    point_id: int | None = None,
    *,
    locked_version: int | None = None,
) -> dict[str, Any]:
    """Append one delta (see `append_many()`); it goes out on the live channel at commit."""
    messages = await append_many(
        session, meeting_id, [Delta(event_type, payload, point_id)], locked_version=locked_version
    )
    return messages[0]


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
