"""Recording notices, in the transaction of the change that causes them.

A notice row per point and a delivery row per channel are inserted in bulk beside the change
(an invitation of 3,321 points is two multi-row INSERTs), so the change and its notices commit
or roll back together. Who receives each message is decided at its first attempt (the directory
may still change before then); the Message-ID, and so the webhook's `id`, is fixed here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from confhub.db import DbSession, is_sqlite
from confhub.meetings.models import Invitation, Meeting, MeetingStatus
from confhub.notices.models import DeliveryState, Notice, NoticeDelivery, NoticeKind
from confhub.notices.policy import policy_of

# Meetings whose points are told of things: a draft is nobody's business yet; an ended or
# cancelled meeting gets nothing more (its cancellation is recorded as it is cancelled).
TOLD_STATUSES = frozenset({MeetingStatus.SCHEDULED.value, MeetingStatus.LIVE.value})
# The changes a point is told of: when and where (connection details included, once meetings
# have them); a new title or agenda waits for the next notice.
NOTIFIED_FIELDS = (
    "starts_at",
    "ends_at",
    "host_point_id",
    "conference_url",
    "conference_room",
    "technician_phone",
    "line_test_at",
)


def is_over(meeting: Meeting, now: datetime) -> bool:
    """Nothing is sent for a meeting that has ended."""
    return meeting.status == MeetingStatus.ENDED.value or meeting.ends_at <= now


async def record(
    session: DbSession,
    meeting: Meeting,
    point_ids: Iterable[int],
    kind: NoticeKind,
    payload: dict[str, Any] | None = None,
    *,
    dedupe: dict[int, str] | None = None,
) -> int:
    """Record one notice of `kind` per point, with a queued delivery per channel; how many
    notices were recorded. With `dedupe` (a key per point), a point whose key is already
    recorded (another process got there first) gets nothing."""
    points = sorted(set(point_ids))
    if not points:
        return 0
    policy = policy_of(session)
    now = datetime.now(UTC)
    rows = [
        {
            "meeting_id": meeting.id,
            "point_id": point_id,
            "kind": kind.value,
            "payload": payload or {},
            "dedupe_key": dedupe.get(point_id) if dedupe else None,
        }
        for point_id in points
    ]
    statement = _insert_ignoring_duplicates(session) if dedupe else insert(Notice)
    inserted = (await session.execute(statement.returning(Notice.id), rows)).scalars().all()
    notice_ids: Sequence[int] = list(inserted)
    if not notice_ids:
        return 0
    host = policy.host
    deliveries = [
        {
            "notice_id": notice_id,
            "channel": channel.value,
            "state": DeliveryState.QUEUED.value,
            "attempts": 0,
            "next_attempt_at": now,
            "message_id": f"{uuid.uuid4().hex}@{host}",
        }
        for notice_id in notice_ids
        for channel in policy.channels
    ]
    await session.execute(insert(NoticeDelivery), deliveries)
    return len(notice_ids)


def _insert_ignoring_duplicates(session: DbSession) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect."""
    factory = sqlite_insert if is_sqlite(session) else pg_insert
    return factory(Notice).on_conflict_do_nothing(index_elements=["dedupe_key"])


async def invited_point_ids(session: DbSession, meeting_id: int) -> list[int]:
    """Every point invited to the meeting."""
    return list(
        await session.scalars(
            select(Invitation.point_id).where(Invitation.meeting_id == meeting_id)
        )
    )


async def told_point_ids(session: DbSession, meeting_id: int) -> set[int]:
    """The points that were sent an invitation to the meeting."""
    return set(
        await session.scalars(
            select(Notice.point_id)
            .where(Notice.meeting_id == meeting_id, Notice.kind == NoticeKind.INVITATION.value)
            .distinct()
        )
    )
