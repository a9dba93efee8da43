"""Recording notices, in the transaction of the change that causes them.

A notice row per point and a delivery row per channel are inserted in bulk beside the change
(an invitation of 3,321 points is two multi-row INSERTs), so the change and its notices commit
or roll back together. Who receives each message is decided at its first attempt (the directory
may still change before then); the Message-ID, and so the webhook's `id`, is fixed here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from confhub.db import DbSession, is_sqlite
from confhub.meetings.models import Invitation, Meeting, MeetingStatus
from confhub.notices.models import Channel, DeliveryState, Notice, NoticeDelivery, NoticeKind
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


@dataclass(frozen=True)
class Person:
    """Someone a notice is written to by name rather than as a point's contacts: an account."""

    email: str
    name: str = ""


async def record_to_people(
    session: DbSession,
    meeting: Meeting,
    point_id: int,
    kind: NoticeKind,
    people: Sequence[Person],
    payload: dict[str, Any],
    *,
    dedupe_key: str,
) -> bool:
    """Record one notice about `point_id`'s part in the meeting, with one e-mail to each of
    `people` (their addresses fixed now, unlike a point's contacts); whether it was recorded.
    Nothing is recorded without anyone to tell, when e-mail is not a channel in use (a
    webhook-only province: the gateway carries points' SMS, not these), or when `dedupe_key` is
    already recorded (the notice exists once)."""
    policy = policy_of(session)
    addressed = [p for p in people if p.email]
    if not addressed or Channel.EMAIL not in policy.channels:
        return False
    row = {
        "meeting_id": meeting.id,
        "point_id": point_id,
        "kind": kind.value,
        "payload": payload,
        "dedupe_key": dedupe_key,
    }
    statement = _insert_ignoring_duplicates(session).returning(Notice.id)
    notice_id = (await session.execute(statement, [row])).scalar_one_or_none()
    if notice_id is None:
        return False
    now = datetime.now(UTC)
    deliveries = [
        {
            "notice_id": notice_id,
            "channel": Channel.EMAIL.value,
            "recipient": person.email,
            "recipient_name": person.name,
            "state": DeliveryState.QUEUED.value,
            "attempts": 0,
            "next_attempt_at": now,
            "message_id": f"{uuid.uuid4().hex}@{policy.host}",
        }
        for person in sorted(set(addressed), key=lambda p: p.email)
    ]
    await session.execute(insert(NoticeDelivery), deliveries)
    return True


async def withdraw(session: DbSession, dedupe_key: str, reason: str) -> int:
    """The queued messages of the notice recorded under `dedupe_key` are not to be sent (what
    they tell is no longer so): they stay on the outbox as failed, saying why; how many."""
    notice_ids = select(Notice.id).where(Notice.dedupe_key == dedupe_key).scalar_subquery()
    result = await session.execute(
        update(NoticeDelivery)
        .where(
            NoticeDelivery.notice_id == notice_ids,
            NoticeDelivery.state == DeliveryState.QUEUED.value,
        )
        .values(state=DeliveryState.FAILED.value, last_error=f"Not sent: {reason}")
    )
    return int(getattr(result, "rowcount", 0) or 0)


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
