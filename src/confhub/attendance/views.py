"""Read views of a meeting's attendance: each point's state as clients see it, the province's
totals, the snapshot every live client starts from, and the check-in history."""

from __future__ import annotations

import asyncio
import functools
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, or_, select, true

from confhub.attendance import events
from confhub.attendance.models import (
    CheckinRecord,
    PointAttendance,
    Presence,
    RollCallStatus,
    Signal,
)
from confhub.attendance.presence import PRESENCE_STALE_AFTER, live_presence
from confhub.attendance.speaking import queue as speaking_queue
from confhub.db import DbSession, is_sqlite
from confhub.meetings.models import Invitation, Meeting
from confhub.notices.states import point_states
from confhub.points.models import ConnectionPoint
from confhub.units.models import Unit

READY_SIGNALS = frozenset({Signal.TEST_OK.value, Signal.CONNECTED.value})
# What a snapshot shows of each point.
SNAPSHOT_FIELDS = (
    "point_id",
    "unit_code",
    "name",
    "chair",
    "chair_title",
    "status",
    "delegates_present",
    "reason",
    "presence",
    "rtt_ms",
    "signal",
)


def point_state(attendance: Any, now: datetime) -> dict[str, Any]:
    """The roll-call, signal and presence fields of one point as clients see them, from its
    `point_attendance` row (or anything with those attributes; None before any)."""
    if attendance is None:
        return {
            "status": RollCallStatus.PENDING.value,
            "delegates_present": None,
            "reason": None,
            "answered_at": None,
            "signal": Signal.UNTESTED.value,
            "presence": Presence.OFFLINE.value,
            "rtt_ms": None,
        }
    presence = live_presence(attendance.presence, attendance.seen_at, now)
    return {
        "status": attendance.status,
        "delegates_present": attendance.delegates_present,
        "reason": attendance.reason,
        "answered_at": attendance.answered_at.isoformat() if attendance.answered_at else None,
        "signal": attendance.signal,
        "presence": presence,
        "rtt_ms": attendance.rtt_ms if presence != Presence.OFFLINE.value else None,
    }


async def point(session: DbSession, meeting_id: int, point_id: int) -> dict[str, Any]:
    """The roll-call, signal and presence of one point, as live clients see them."""
    row = await session.scalar(
        select(PointAttendance).where(
            PointAttendance.meeting_id == meeting_id, PointAttendance.point_id == point_id
        )
    )
    return point_state(row, datetime.now(UTC))


async def points(
    session: DbSession, meeting_id: int, point_ids: frozenset[int] | None = None
) -> list[dict[str, Any]]:
    """Every invited point (or those of `point_ids`) with its unit, chair and attendance,
    ordered by unit name."""
    now = datetime.now(UTC)
    # PostgreSQL reads each point by its (meeting, point) key (LATERAL, which SQLite lacks).
    if point_ids is None:
        found = await session.execute(_points_query(), {"meeting_id": meeting_id})
    else:
        query = _listed_points_query() if is_sqlite(session) else _some_points_query()
        found = await session.execute(
            query, {"meeting_id": meeting_id, "point_ids": sorted(point_ids)}
        )
    shown = [
        {
            "point_id": row.point_id,
            "unit_code": row.unit_code,
            "unit_name": row.unit_name,
            "name": row.name,
            "chair": row.chair_name,
            "chair_title": row.chair_title,
            "chair_phone": row.chair_phone,
            "presiding_name": row.presiding_name,
            "presiding_position": row.presiding_position,
            **point_state(row if row.attendance_id is not None else None, now),
        }
        for row in found
    ]
    return sorted(shown, key=lambda p: (p["unit_code"] is not None, p["unit_name"] or ""))


# What `points()` reads of a point's invitation and of its attendance row.
_INVITATION_COLUMNS = ("chair_name", "chair_title", "chair_phone")
_ATTENDANCE_COLUMNS = (
    "status",
    "delegates_present",
    "reason",
    "answered_at",
    "presiding_name",
    "presiding_position",
    "signal",
    "presence",
    "rtt_ms",
    "seen_at",
)


def _point_columns() -> tuple[Any, ...]:
    """What `points()` reads of the point itself and its unit, whichever query reads it."""
    return (
        ConnectionPoint.id.label("point_id"),
        ConnectionPoint.unit_code,
        ConnectionPoint.name,
        Unit.name.label("unit_name"),
    )


# The statements below are built once, their values bound at each execution: built per call,
# each point socket's snapshot left a few hundred SQL expression objects in reference cycles
# for the garbage collector.


@functools.cache
def _points_query() -> Select[*tuple[Any, ...]]:
    # Columns, not entities: a national board's snapshot is 3,321 rows, and building four
    # ORM objects per row cost most of a second.
    return (
        select(
            *_point_columns(),
            *(getattr(Invitation, name) for name in _INVITATION_COLUMNS),
            PointAttendance.id.label("attendance_id"),
            *(getattr(PointAttendance, name) for name in _ATTENDANCE_COLUMNS),
        )
        .select_from(Invitation)
        .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
        .outerjoin(Unit, Unit.code == ConnectionPoint.unit_code)
        .outerjoin(
            PointAttendance,
            (PointAttendance.meeting_id == Invitation.meeting_id)
            & (PointAttendance.point_id == Invitation.point_id),
        )
        .where(Invitation.meeting_id == bindparam("meeting_id"))
    )


@functools.cache
def _listed_points_query() -> Select[*tuple[Any, ...]]:
    """`_points_query()` of the points bound as `point_ids`."""
    return _points_query().where(Invitation.point_id.in_(bindparam("point_ids", expanding=True)))


@functools.cache
def _some_points_query() -> Select[*tuple[Any, ...]]:
    """`_points_query()` of a few points, on PostgreSQL: from the points, each one's invitation
    and attendance row looked up by the whole (meeting, point) key. While a fresh meeting's
    statistics say it has one row, PostgreSQL took the meeting's every invitation and
    attendance row and filtered the asked points out of 3,321 (EXPLAIN ANALYZE in
    docs/performance.md); a lateral lookup per point cannot."""
    invitation = (
        select(*(getattr(Invitation, name) for name in _INVITATION_COLUMNS))
        .where(
            Invitation.meeting_id == bindparam("meeting_id"),
            Invitation.point_id == ConnectionPoint.id,
        )
        .limit(1)
        .lateral("invitation")
    )
    attendance = (
        select(
            PointAttendance.id,
            *(getattr(PointAttendance, name) for name in _ATTENDANCE_COLUMNS),
        )
        .where(
            PointAttendance.meeting_id == bindparam("meeting_id"),
            PointAttendance.point_id == ConnectionPoint.id,
        )
        .limit(1)
        .lateral("attendance")
    )
    return (
        select(
            *_point_columns(),
            *(invitation.c[name] for name in _INVITATION_COLUMNS),
            attendance.c.id.label("attendance_id"),
            *(attendance.c[name] for name in _ATTENDANCE_COLUMNS),
        )
        .select_from(ConnectionPoint)
        .join(invitation, true())
        .outerjoin(Unit, Unit.code == ConnectionPoint.unit_code)
        .outerjoin(attendance, true())
        .where(ConnectionPoint.id.in_(bindparam("point_ids", expanding=True)))
    )


async def counts(session: DbSession, meeting_id: int) -> dict[str, int]:
    """`totals()` of every invited point, counted by the database (a point's own snapshot
    needs the meeting's totals, not every point's row)."""
    stale_before = datetime.now(UTC) - PRESENCE_STALE_AFTER
    unseen = or_(PointAttendance.seen_at.is_(None), PointAttendance.seen_at < stale_before)
    found = await session.execute(
        select(
            PointAttendance.status,
            PointAttendance.presence,
            PointAttendance.signal,
            func.count(),
            func.sum(case((unseen, 1), else_=0)),
            func.sum(PointAttendance.delegates_present),
        )
        .select_from(Invitation)
        .outerjoin(
            PointAttendance,
            (PointAttendance.meeting_id == Invitation.meeting_id)
            & (PointAttendance.point_id == Invitation.point_id),
        )
        .where(Invitation.meeting_id == meeting_id)
        .group_by(PointAttendance.status, PointAttendance.presence, PointAttendance.signal)
    )
    groups: list[tuple[str, str, str, int, int]] = []
    for status, presence, signal, number, stale, delegates in found:
        if status is None:  # invited points nobody has answered for or seen yet
            pending = RollCallStatus.PENDING.value
            groups.append((pending, Presence.OFFLINE.value, Signal.UNTESTED.value, int(number), 0))
            continue
        fresh = int(number) - int(stale)
        groups.append((status, presence, signal, fresh, int(delegates or 0)))
        groups.append((status, Presence.OFFLINE.value, signal, int(stale), 0))
    return _tally(groups)


def totals(shown: list[dict[str, Any]]) -> dict[str, int]:
    """The counts a province reports: points present / absent / pending, delegates, readiness."""
    return _tally(
        (p["status"], p["presence"], p["signal"], 1, p["delegates_present"] or 0) for p in shown
    )


def _tally(groups: Iterable[tuple[str, str, str, int, int]]) -> dict[str, int]:
    """`totals()` from (status, presence, signal, number of points, delegates) groups."""
    tally = {
        "invited": 0,
        "present": 0,
        "absent": 0,
        "pending": 0,
        "delegates": 0,
        "online": 0,
        "degraded": 0,
        "offline": 0,
        "ready": 0,
    }
    for status, presence, signal, number, delegates in groups:
        tally["invited"] += number
        tally[status] += number
        tally[presence] += number
        tally["delegates"] += delegates
        if signal in READY_SIGNALS:
            tally["ready"] += number
    tally["not_ready"] = tally["invited"] - tally["ready"]
    return tally


def meeting_summary(meeting: Meeting) -> dict[str, Any]:
    """The meeting fields a live client shows."""
    return {
        "id": meeting.id,
        "title": meeting.title,
        "status": meeting.status,
        "starts_at": meeting.starts_at.isoformat(),
        "ends_at": meeting.ends_at.isoformat(),
        "rehearsal": meeting.rehearsal_started_at is not None,
    }


# A point's snapshot carries the meeting's totals and the speaking queue (its own requests in
# it), which its client only displays (it receives no other point's deltas to keep the totals
# current). When 3,321 points connect at once these meeting-wide parts are read once per
# version in each process (the totals also once a second: presence goes stale with time), not
# once per connection: on PostgreSQL the counting join is planned badly while a fresh
# meeting's statistics lag (seconds per query in the roll-call benchmark), and at the rush's
# pace a snapshot read serves one or two points. Every change to the queue is a delta, so a
# version names one queue.
_COUNTS_FOR = 1.0
_shared: dict[tuple[str, str, int], tuple[int, float, Any]] = {}
_reading: weakref.WeakValueDictionary[tuple[str, str, int], asyncio.Lock] = (
    weakref.WeakValueDictionary()
)


def forget_shared_reads() -> None:
    """Forget every meeting's shared reads. They are keyed by the database's URL: a harness
    that gives one app a fresh database at the same URL (the test suite) must forget them."""
    _shared.clear()


async def _per_version(
    session: DbSession,
    meeting_id: int,
    version: int,
    read: Callable[[DbSession, int], Awaitable[Any]],
    max_age: float | None = None,
) -> Any:
    """`read(session, meeting_id)`, reused at the same version (for `max_age` s at most);
    one read at a time."""
    key = (str(session.get_bind().engine.url), read.__qualname__, meeting_id)
    lock = _reading.get(key)
    if lock is None:
        lock = _reading[key] = asyncio.Lock()
    async with lock:
        cached = _shared.get(key)
        now = time.monotonic()
        if (
            cached is not None
            and cached[0] == version
            and (max_age is None or now - cached[1] < max_age)
        ):
            return cached[2]
        value = await read(session, meeting_id)
        _shared[key] = (version, time.monotonic(), value)
        return value


async def _recent_counts(session: DbSession, meeting_id: int, version: int) -> dict[str, int]:
    """`counts()`, reused for a second at the same version."""
    return dict(await _per_version(session, meeting_id, version, counts, _COUNTS_FOR))


async def _open_speaking(session: DbSession, meeting_id: int) -> dict[str, Any]:
    """The snapshot's `speaking` of the whole meeting (shared: never changed in place)."""
    return speaking_queue.state(await speaking_queue.open_requests(session, meeting_id))


async def snapshot(
    session: DbSession,
    meeting: Meeting,
    point_ids: frozenset[int] | None,
    with_phones: bool,
) -> dict[str, Any]:
    """The whole state a client starts from, at one version (read in one transaction)."""
    version = await events.current_version(session, meeting.id)
    if point_ids is None:
        shown = await points(session, meeting.id)
        counted = totals(shown)
    else:  # a point's client: its own points, and the meeting's totals counted cheaply
        shown = await points(session, meeting.id, point_ids)
        counted = await _recent_counts(session, meeting.id, version)
    # A chair's name is personal data: the board of a province's viewer shows only that a point
    # has one (its title is an office, not a person); a point's own client sees its own chair.
    names = with_phones or point_ids is not None
    # A board also shows how far each point's invitation got, and the chair's answer.
    notices = await point_states(session, meeting.id) if point_ids is None else None
    views = [_point_view(p, names, with_phones) for p in shown]
    if notices is not None:
        for view in views:
            state = notices.get(view["point_id"])
            view["notice_state"] = state.notice_state if state else "none"
            view["acknowledgement"] = state.acknowledgement if state else None
            # Why the invitation failed: for the secretariat, who can mend the address.
            view["notice_failure"] = state.failure if state and with_phones else None
    # The open speaking queue: a point's client sees its own requests and its place.
    speaking = speaking_queue.state(await speaking_queue.open_requests(session, meeting.id))
    if point_ids is not None:
        speaking = speaking_queue.for_points(speaking, point_ids)
    return {
        "type": "snapshot",
        "version": version,
        "meeting": meeting_summary(meeting),
        "totals": counted,
        "points": views,
        "speaking": speaking,
    }


def _point_view(shown: dict[str, Any], names: bool, with_phones: bool) -> dict[str, Any]:
    """One point as a snapshot shows it."""
    view = {key: shown[key] for key in SNAPSHOT_FIELDS}
    view["has_chair"] = bool(shown["chair"])
    if not names:
        view["chair"] = None
    if with_phones:
        view["chair_phone"] = shown["chair_phone"]
    return view


async def point_snapshots(
    session: DbSession, meeting: Meeting, asked: list[frozenset[int]]
) -> dict[frozenset[int], dict[str, Any]]:
    """The snapshots of several point clients (each `snapshot(…, point_ids, False)`), read
    together at one version: the queries of one snapshot, whatever the number of clients, and
    the meeting-wide parts once per version. `meeting` was read in this transaction."""
    wanted = frozenset().union(*asked)
    # The version of the meeting row just read (`events.current_version()` reads the same).
    version = meeting.attendance_version or 0
    shown = await points(session, meeting.id, wanted)
    counted = await _recent_counts(session, meeting.id, version)
    speaking = await _per_version(session, meeting.id, version, _open_speaking)
    summary = meeting_summary(meeting)
    return {
        point_ids: {
            "type": "snapshot",
            "version": version,
            "meeting": summary,
            "totals": dict(counted),
            "points": [_point_view(p, True, False) for p in shown if p["point_id"] in point_ids],
            "speaking": speaking_queue.for_points(speaking, point_ids),
        }
        for point_ids in asked
    }


async def checkin_history(
    session: DbSession, meeting_id: int, point_id: int | None = None
) -> list[CheckinRecord]:
    """Every roll-call answer given for a meeting (or one point), oldest first."""
    query = select(CheckinRecord).where(CheckinRecord.meeting_id == meeting_id)
    if point_id is not None:
        query = query.where(CheckinRecord.point_id == point_id)
    return list(await session.scalars(query.order_by(CheckinRecord.version)))
