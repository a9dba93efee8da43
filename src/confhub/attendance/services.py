"""Roll-call rules: who may answer for a point, idempotent check-ins, signals, presence, and the
snapshot every live client starts from."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, bindparam, case, func, insert, or_, select, update

from confhub.accounts.models import Role
from confhub.accounts.principal import Principal
from confhub.attendance import events
from confhub.attendance.models import (
    CheckinRecord,
    EventType,
    PointAttendance,
    Presence,
    RollCallStatus,
    Signal,
)
from confhub.core.errors import (
    ConfhubError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
)
from confhub.db import DbSession
from confhub.meetings import audit
from confhub.meetings.audit import AuditAction
from confhub.meetings.models import Invitation, Meeting, MeetingStatus
from confhub.points.models import ConnectionPoint
from confhub.settings import is_sqlite_url
from confhub.units.models import Unit

# A point whose client has not been seen for this long reads as offline, whatever was stored:
# the process that held its socket may have died without saying so.
PRESENCE_STALE_AFTER = timedelta(seconds=60)
MAX_DELEGATES = 100_000
ANSWERING_STATUSES = frozenset({MeetingStatus.SCHEDULED.value, MeetingStatus.LIVE.value})


# A meeting's versions are taken one transaction at a time: its row stays locked until commit
# on PostgreSQL, and SQLite has one writer for the whole database. This process's attendance
# writers queue here, in order, instead of each holding a pooled connection while it waits: in a
# burst of check-ins those take every connection (the hub then cannot fill gaps, its reader
# dies and boards stop hearing anything), and on SQLite they poll the lock with busy_timeout's
# backoff (up to 100 ms between tries), starving some for seconds.
_writers: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakValueDictionary[int, asyncio.Lock]
] = weakref.WeakKeyDictionary()


def one_writer(db_config: Any, meeting_id: int) -> asyncio.Lock:
    """Hold around a whole write transaction on a meeting's attendance: that meeting's queue
    in this process (on SQLite, the whole database's)."""
    key = 0 if is_sqlite_url(str(db_config.connection_string)) else meeting_id
    queues = _writers.setdefault(asyncio.get_running_loop(), weakref.WeakValueDictionary())
    queue = queues.get(key)
    if queue is None:
        queue = queues[key] = asyncio.Lock()
    return queue


@dataclass(frozen=True)
class Actor:
    """Who acts on a point: a check-in link (bound to one point) or a signed-in user."""

    label: str
    principal: Principal | None = None
    link_point_id: int | None = None

    @property
    def source(self) -> str:
        """How the answer came in, kept with each check-in record."""
        if self.principal is None:
            return "link"
        return "secretariat" if self.principal.role in (Role.ADMIN, Role.SECRETARIAT) else "chair"


@dataclass(frozen=True)
class CheckinInput:
    """A roll-call answer as sent over HTTP or the websocket."""

    point_id: int
    status: str
    idempotency_key: str
    delegates_present: int | None = None
    reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class CheckinOutcome:
    """The stored record, whether this call created it, and the delta to broadcast."""

    record: CheckinRecord
    created: bool
    message: dict[str, Any] | None


def may_act_for_point(actor: Actor, meeting: Meeting, point: ConnectionPoint) -> bool:
    """A link acts for its own point; a chair for its unit's points; the secretariat for any."""
    if actor.principal is None:
        return actor.link_point_id == point.id
    principal = actor.principal
    if principal.manages_province(meeting.province_code):
        return True
    return principal.role is Role.CHAIR and principal.unit_code == point.unit_code


def _check_input(data: CheckinInput) -> tuple[RollCallStatus, int | None, str | None]:
    try:
        status = RollCallStatus(data.status)
    except ValueError:
        raise InvalidInputError("status", "must be present or absent") from None
    if status is RollCallStatus.PENDING:
        raise InvalidInputError("status", "must be present or absent")
    key = data.idempotency_key.strip()
    if not key or len(key) > 100:
        raise InvalidInputError("idempotency_key", "must be 1 to 100 characters")
    reason = (data.reason or "").strip() or None
    delegates = data.delegates_present
    if status is RollCallStatus.PRESENT:
        if delegates is None or not 0 <= delegates <= MAX_DELEGATES:
            raise InvalidInputError(
                "delegates_present", f"a number from 0 to {MAX_DELEGATES} is required"
            )
        return status, delegates, reason
    if reason is None:
        raise InvalidInputError("reason", "say why the point is absent")
    return status, None, reason


def live_presence(stored: str, seen_at: datetime | None, now: datetime) -> str:
    """The stored presence, unless the point has not been seen for too long (offline)."""
    if seen_at is None or now - seen_at > PRESENCE_STALE_AFTER:
        return Presence.OFFLINE.value
    return stored


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


# A point's stored state (a `point_attendance` row) and the part a roll-call answer sets.
_ANSWER_FIELDS = ("status", "delegates_present", "reason", "note", "answered_at")
_PRESENCE_FIELDS = ("presence", "rtt_ms", "seen_at")
_STATE_FIELDS = (*_ANSWER_FIELDS, "signal", "signal_at", *_PRESENCE_FIELDS)
# Bound parameters per IN list: well under SQLite's and asyncpg's limits.
_CHUNK = 500


def _chunks(values: Sequence[int] | Sequence[str]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _new_state(meeting_id: int, point_id: int) -> dict[str, Any]:
    """The state of a point nobody has answered for or seen yet (no row stored)."""
    return {
        "id": None,
        "meeting_id": meeting_id,
        "point_id": point_id,
        "status": RollCallStatus.PENDING.value,
        "delegates_present": None,
        "reason": None,
        "note": None,
        "answered_at": None,
        "signal": Signal.UNTESTED.value,
        "signal_at": None,
        "presence": Presence.OFFLINE.value,
        "rtt_ms": None,
        "seen_at": None,
        "changed": False,
    }


def _as_row(state: dict[str, Any]) -> Any:
    """What `point_state()` reads of a row, from a state dict."""
    return SimpleNamespace(**{field: state[field] for field in _STATE_FIELDS})


class AttendanceService:
    """Reads and changes the attendance of meetings; every change appends an event."""

    def __init__(self, session: DbSession) -> None:
        self.session = session

    async def _invited_point(self, meeting: Meeting, point_id: int) -> ConnectionPoint:
        point = await self.session.scalar(
            select(ConnectionPoint)
            .join(Invitation, Invitation.point_id == ConnectionPoint.id)
            .where(Invitation.meeting_id == meeting.id, ConnectionPoint.id == point_id)
        )
        if point is None:
            raise InvalidInputError("point_id", f"point {point_id} is not invited to this meeting")
        return point

    async def _row(self, meeting_id: int, point_id: int) -> PointAttendance:
        row = await self.session.scalar(
            select(PointAttendance).where(
                PointAttendance.meeting_id == meeting_id, PointAttendance.point_id == point_id
            )
        )
        if row is None:
            row = PointAttendance(
                meeting_id=meeting_id,
                point_id=point_id,
                status=RollCallStatus.PENDING.value,
                signal=Signal.UNTESTED.value,
                presence=Presence.OFFLINE.value,
            )
            self.session.add(row)
        return row

    async def find_checkin(self, meeting_id: int, key: str) -> CheckinRecord | None:
        """The check-in stored under an idempotency key, if any."""
        return await self.session.scalar(
            select(CheckinRecord).where(
                CheckinRecord.meeting_id == meeting_id,
                CheckinRecord.idempotency_key == key.strip(),
            )
        )

    async def record_checkin(
        self, meeting: Meeting, actor: Actor, data: CheckinInput
    ) -> CheckinOutcome:
        """Store a roll-call answer once per idempotency key; a repeat returns the first."""
        (result,) = await self.store_checkins(meeting, [(actor, data)])
        if isinstance(result, ConfhubError):
            raise result
        return result

    async def store_checkins(
        self, meeting: Meeting, answers: Sequence[tuple[Actor, CheckinInput]]
    ) -> list[CheckinOutcome | ConfhubError]:
        """Store several roll-call answers in the caller's transaction, in order, with a few
        statements whatever their number; each gets its outcome or the error that refused it.

        The meeting's version counter is taken first, so nothing another writer of this meeting
        is doing can interleave: an idempotency key stored by another process a moment ago is
        seen here, and a repeat (in the database or earlier in `answers`) returns the first
        answer.
        """
        now = datetime.now(UTC)
        version = await events.lock_version(self.session, meeting.id)
        keys = {data.idempotency_key.strip() for _actor, data in answers}
        stored = {
            record.idempotency_key: record
            for chunk in _chunks(sorted(keys))
            for record in await self.session.scalars(
                select(CheckinRecord).where(
                    CheckinRecord.meeting_id == meeting.id,
                    CheckinRecord.idempotency_key.in_(chunk),
                )
            )
        }
        point_ids = {data.point_id for _actor, data in answers}
        point_ids |= {record.point_id for record in stored.values()}
        invited = await self._invited_points(meeting.id, point_ids)
        states = await self._point_states(meeting.id, point_ids)

        results: list[CheckinOutcome | ConfhubError] = []
        fresh: list[tuple[int, CheckinRecord]] = []  # (index in results, new record)
        deltas: list[events.Delta] = []
        for actor, data in answers:
            key = data.idempotency_key.strip()
            try:
                earlier = stored.get(key)
                if earlier is not None:
                    # A repeat is answered only to someone who may answer for that point.
                    point = invited.get(earlier.point_id)
                    if point is None or not may_act_for_point(actor, meeting, point):
                        raise PermissionDeniedError(
                            "You may only answer for your own connection point"
                        )
                    results.append(CheckinOutcome(earlier, created=False, message=None))
                    continue
                status, delegates, reason = _check_input(data)
                point = invited.get(data.point_id)
                if point is None:
                    raise InvalidInputError(
                        "point_id", f"point {data.point_id} is not invited to this meeting"
                    )
                if not may_act_for_point(actor, meeting, point):
                    raise PermissionDeniedError("You may only answer for your own connection point")
                if meeting.status not in ANSWERING_STATUSES and not (
                    actor.source == "secretariat" and meeting.status == MeetingStatus.ENDED.value
                ):
                    raise ConflictError(f"The meeting is {meeting.status}; the roll call is closed")
            except ConfhubError as refusal:
                results.append(refusal)
                continue
            note = (data.note or "").strip() or None
            state = states.setdefault(point.id, _new_state(meeting.id, point.id))
            state.update(
                status=status.value,
                delegates_present=delegates,
                reason=reason,
                note=note,
                answered_at=now,
                changed=True,
            )
            record = CheckinRecord(
                meeting_id=meeting.id,
                point_id=point.id,
                idempotency_key=key,
                status=status.value,
                delegates_present=delegates,
                reason=reason,
                note=note,
                source=actor.source,
                actor_id=actor.principal.id if actor.principal else None,
                actor_label=actor.label,
                version=version + len(deltas) + 1,
                created_at=now,
                updated_at=now,
            )
            stored[key] = record
            fresh.append((len(results), record))
            results.append(CheckinOutcome(record, created=True, message=None))
            deltas.append(
                events.Delta(
                    EventType.CHECKIN,
                    {"point_id": point.id, **point_state(_as_row(state), now)},
                    point_id=point.id,
                )
            )
            if actor.source == "secretariat" and actor.principal is not None:
                audit.record(
                    self.session,
                    meeting.id,
                    actor.principal,
                    AuditAction.ROLL_CALL,
                    point_id=point.id,
                    point=point.name,
                    status=status.value,
                    delegates_present=delegates,
                    reason=reason,
                )
        if not deltas:
            return results
        await self._save_states(states, now)
        messages = await events.append_many(
            self.session, meeting.id, deltas, locked_version=version
        )
        self.session.add_all(record for _index, record in fresh)
        await self.session.flush()
        for (index, record), message in zip(fresh, messages, strict=True):
            results[index] = CheckinOutcome(record, created=True, message=message)
        return results

    async def _invited_points(
        self, meeting_id: int, point_ids: Iterable[int]
    ) -> dict[int, ConnectionPoint]:
        """The points among `point_ids` invited to the meeting."""
        found: dict[int, ConnectionPoint] = {}
        for chunk in _chunks(sorted(point_ids)):
            found.update(
                (point.id, point)
                for point in await self.session.scalars(
                    select(ConnectionPoint)
                    .join(Invitation, Invitation.point_id == ConnectionPoint.id)
                    .where(Invitation.meeting_id == meeting_id, ConnectionPoint.id.in_(chunk))
                )
            )
        return found

    async def _point_states(
        self, meeting_id: int, point_ids: Iterable[int]
    ) -> dict[int, dict[str, Any]]:
        """The stored attendance rows of these points, as plain dicts keyed by point."""
        table = PointAttendance.__table__
        columns = [table.c[name] for name in ("id", "point_id", *_STATE_FIELDS)]
        states: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(sorted(point_ids)):
            rows = await self.session.execute(
                select(*columns).where(
                    table.c.meeting_id == meeting_id, table.c.point_id.in_(chunk)
                )
            )
            for row in rows.mappings():
                states[row["point_id"]] = {**row, "meeting_id": meeting_id, "changed": False}
        return states

    async def _save_states(
        self,
        states: dict[int, dict[str, Any]],
        now: datetime,
        fields: Sequence[str] = _ANSWER_FIELDS,
    ) -> None:
        """Write the changed rows: one UPDATE of `fields` for those stored, one INSERT for the
        new (every field)."""
        table: Table = PointAttendance.__table__  # type: ignore[assignment]
        changed = [state for state in states.values() if state["changed"]]
        updates = [
            {"row_id": state["id"], "updated_at": now, **{f: state[f] for f in fields}}
            for state in changed
            if state["id"] is not None
        ]
        if updates:
            await self.session.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values({field: bindparam(field) for field in (*fields, "updated_at")}),
                updates,
            )
        inserts = [
            {
                "meeting_id": state["meeting_id"],
                "point_id": state["point_id"],
                "created_at": now,
                "updated_at": now,
                **{f: state[f] for f in _STATE_FIELDS},
            }
            for state in changed
            if state["id"] is None
        ]
        if inserts:
            await self.session.execute(insert(table), inserts)
        for state in changed:
            state["changed"] = False

    async def record_signal(
        self, meeting: Meeting, actor: Actor, point_id: int, signal: str
    ) -> dict[str, Any] | None:
        """Store the technician's report of the link; returns the delta (None if unchanged)."""
        try:
            value = Signal(signal)
        except ValueError:
            allowed = ", ".join(s.value for s in Signal)
            raise InvalidInputError("signal", f"must be one of {allowed}") from None
        point = await self._invited_point(meeting, point_id)
        if not may_act_for_point(actor, meeting, point):
            raise PermissionDeniedError("You may only report for your own connection point")
        if meeting.status not in ANSWERING_STATUSES:
            raise ConflictError(f"The meeting is {meeting.status}")
        now = datetime.now(UTC)
        version = await events.lock_version(self.session, meeting.id)
        row = await self._row(meeting.id, point_id)
        if row.signal == value.value:
            return None
        row.signal, row.signal_at = value.value, now
        await self.session.flush()
        return await events.append(
            self.session,
            meeting.id,
            EventType.SIGNAL,
            {"point_id": point_id, "signal": value.value},
            point_id=point_id,
            locked_version=version,
        )

    async def record_presences(
        self, meeting_id: int, changes: Sequence[tuple[int, Presence, int | None]]
    ) -> list[dict[str, Any]]:
        """Store (point, presence, round-trip time) changes of a meeting's points, as the
        tracker reports them; returns a delta for each point whose presence or round-trip time
        moved (a new round-trip time is published too: the tracker asks only when it moved
        enough). A few statements whatever the number of points."""
        now = datetime.now(UTC)
        version = await events.lock_version(self.session, meeting_id)
        states = await self._point_states(meeting_id, {point_id for point_id, _, _ in changes})
        deltas: list[events.Delta] = []
        for point_id, presence, rtt_ms in changes:
            state = states.setdefault(point_id, _new_state(meeting_id, point_id))
            shown = live_presence(state["presence"], state["seen_at"], now)
            if presence is not Presence.OFFLINE:
                state["seen_at"] = now
            state["changed"] = True
            if shown == state["presence"] == presence.value and state["rtt_ms"] == rtt_ms:
                continue
            state.update(presence=presence.value, rtt_ms=rtt_ms)
            deltas.append(
                events.Delta(
                    EventType.PRESENCE,
                    {"point_id": point_id, "presence": presence.value, "rtt_ms": rtt_ms},
                    point_id=point_id,
                )
            )
        await self._save_states(states, now, _PRESENCE_FIELDS)
        return await events.append_many(self.session, meeting_id, deltas, locked_version=version)

    async def touch(self, meeting_id: int, point_ids: Iterable[int]) -> None:
        """Mark points as still seen (no event: presence did not change). A national meeting
        touches 3,321 rows every few seconds: one `UPDATE … IN` per 500 points, quick
        enough that a check-in waiting for one of those rows' locks hardly notices. Round-trip
        times are not stored here: boards show the last one published, and so do snapshots."""
        now = datetime.now(UTC)
        table: Table = PointAttendance.__table__  # type: ignore[assignment]
        for chunk in _chunks(sorted(point_ids)):
            await self.session.execute(
                update(table)
                .where(table.c.meeting_id == meeting_id, table.c.point_id.in_(chunk))
                .values(seen_at=now)
            )

    async def sweep_stale_presence(self) -> list[dict[str, Any]]:
        """Points still stored online or degraded that no process has seen for a while (the
        process holding their socket died, so nobody said goodbye): store them offline, with a
        delta, so boards everywhere learn it instead of showing them online until reloaded.

        Meetings are taken in order, each by its version counter before its rows (as every
        attendance writer does), so sweeps of several processes queue instead of deadlocking."""
        stale_before = datetime.now(UTC) - PRESENCE_STALE_AFTER
        stale = (
            PointAttendance.presence != Presence.OFFLINE.value,
            or_(PointAttendance.seen_at.is_(None), PointAttendance.seen_at < stale_before),
        )
        meeting_ids = await self.session.scalars(
            select(PointAttendance.meeting_id).where(*stale).distinct()
        )
        messages = []
        for meeting_id in sorted(meeting_ids):
            version = await events.lock_version(self.session, meeting_id)
            rows = list(
                await self.session.scalars(
                    select(PointAttendance)
                    .where(PointAttendance.meeting_id == meeting_id, *stale)
                    .order_by(PointAttendance.point_id)
                    .with_for_update()
                )
            )
            for row in rows:
                row.presence, row.rtt_ms = Presence.OFFLINE.value, None
            await self.session.flush()
            messages += await events.append_many(
                self.session,
                meeting_id,
                [
                    events.Delta(
                        EventType.PRESENCE,
                        {
                            "point_id": row.point_id,
                            "presence": Presence.OFFLINE.value,
                            "rtt_ms": None,
                        },
                        point_id=row.point_id,
                    )
                    for row in rows
                ],
                locked_version=version,
            )
        return messages

    async def points(
        self, meeting_id: int, point_ids: frozenset[int] | None = None
    ) -> list[dict[str, Any]]:
        """Every invited point (or those of `point_ids`) with its unit, chair and attendance,
        ordered by unit name."""
        now = datetime.now(UTC)
        # Columns, not entities: a national board's snapshot is 3,321 rows, and building four
        # ORM objects per row cost most of a second.
        query = (
            select(
                ConnectionPoint.id.label("point_id"),
                ConnectionPoint.unit_code,
                ConnectionPoint.name,
                Unit.name.label("unit_name"),
                Invitation.chair_name,
                Invitation.chair_title,
                Invitation.chair_phone,
                PointAttendance.id.label("attendance_id"),
                PointAttendance.status,
                PointAttendance.delegates_present,
                PointAttendance.reason,
                PointAttendance.answered_at,
                PointAttendance.signal,
                PointAttendance.presence,
                PointAttendance.rtt_ms,
                PointAttendance.seen_at,
            )
            .select_from(Invitation)
            .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
            .outerjoin(Unit, Unit.code == ConnectionPoint.unit_code)
            .outerjoin(
                PointAttendance,
                (PointAttendance.meeting_id == Invitation.meeting_id)
                & (PointAttendance.point_id == Invitation.point_id),
            )
            .where(Invitation.meeting_id == meeting_id)
        )
        if point_ids is not None:
            query = query.where(Invitation.point_id.in_(point_ids))
        rows = await self.session.execute(query)
        points = [
            {
                "point_id": row.point_id,
                "unit_code": row.unit_code,
                "unit_name": row.unit_name,
                "name": row.name,
                "chair": row.chair_name,
                "chair_title": row.chair_title,
                "chair_phone": row.chair_phone,
                **point_state(row if row.attendance_id is not None else None, now),
            }
            for row in rows
        ]
        return sorted(points, key=lambda p: (p["unit_code"] is not None, p["unit_name"] or ""))

    async def counts(self, meeting_id: int) -> dict[str, int]:
        """`totals()` of every invited point, counted by the database (a point's own snapshot
        needs the meeting's totals, not every point's row)."""
        stale_before = datetime.now(UTC) - PRESENCE_STALE_AFTER
        unseen = or_(PointAttendance.seen_at.is_(None), PointAttendance.seen_at < stale_before)
        rows = await self.session.execute(
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
        for status, presence, signal, number, stale, delegates in rows:
            if status is None:  # invited points nobody has answered for or seen yet
                groups.append(
                    (
                        RollCallStatus.PENDING.value,
                        Presence.OFFLINE.value,
                        Signal.UNTESTED.value,
                        int(number),
                        0,
                    )
                )
                continue
            fresh = int(number) - int(stale)
            groups.append((status, presence, signal, fresh, int(delegates or 0)))
            groups.append((status, Presence.OFFLINE.value, signal, int(stale), 0))
        return _tally(groups)


READY_SIGNALS = frozenset({Signal.TEST_OK.value, Signal.CONNECTED.value})


def totals(points: list[dict[str, Any]]) -> dict[str, int]:
    """The counts a province reports: points present / absent / pending, delegates, readiness."""
    return _tally(
        (p["status"], p["presence"], p["signal"], 1, p["delegates_present"] or 0) for p in points
    )


def _tally(groups: Iterable[tuple[str, str, str, int, int]]) -> dict[str, int]:
    """`totals()` from (status, presence, signal, number of points, delegates) groups."""
    counts = {
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
        counts["invited"] += number
        counts[status] += number
        counts[presence] += number
        counts["delegates"] += delegates
        if signal in READY_SIGNALS:
            counts["ready"] += number
    counts["not_ready"] = counts["invited"] - counts["ready"]
    return counts


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


# A point's snapshot carries the meeting's totals, which its client only displays (it receives
# no other point's deltas to keep them current). When 3,321 points connect at once they are
# counted once per version and second in each process, not once per connection: on
# PostgreSQL the counting join is planned badly while a fresh meeting's statistics lag
# (seconds per query in the roll-call benchmark).
_COUNTS_FOR = 1.0
_recent: dict[tuple[str, int], tuple[int, float, dict[str, int]]] = {}
_counting: weakref.WeakValueDictionary[tuple[str, int], asyncio.Lock] = (
    weakref.WeakValueDictionary()
)


async def _recent_counts(
    service: AttendanceService, meeting_id: int, version: int
) -> dict[str, int]:
    """`service.counts()`, reused for a second at the same version; one count at a time."""
    key = (str(service.session.get_bind().engine.url), meeting_id)
    lock = _counting.get(key)
    if lock is None:
        lock = _counting[key] = asyncio.Lock()
    async with lock:
        cached = _recent.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] == version and now - cached[1] < _COUNTS_FOR:
            return dict(cached[2])
        counted = await service.counts(meeting_id)
        _recent[key] = (version, time.monotonic(), counted)
        return dict(counted)


async def snapshot(
    session: DbSession,
    meeting: Meeting,
    point_ids: frozenset[int] | None,
    with_phones: bool,
) -> dict[str, Any]:
    """The whole state a client starts from, at one version (read in one transaction)."""
    version = await events.current_version(session, meeting.id)
    service = AttendanceService(session)
    if point_ids is None:
        shown = await service.points(meeting.id)
        counted = totals(shown)
    else:  # a point's client: its own points, and the meeting's totals counted cheaply
        shown = await service.points(meeting.id, point_ids)
        counted = await _recent_counts(service, meeting.id, version)
    fields = (
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
    # A chair's name is personal data: the board of a province's viewer shows only that a point
    # has one (its title is an office, not a person); a point's own client sees its own chair.
    names = with_phones or point_ids is not None
    points = []
    for point in shown:
        view = {key: point[key] for key in fields}
        view["has_chair"] = bool(point["chair"])
        if not names:
            view["chair"] = None
        if with_phones:
            view["chair_phone"] = point["chair_phone"]
        points.append(view)
    return {
        "type": "snapshot",
        "version": version,
        "meeting": meeting_summary(meeting),
        "totals": counted,
        "points": points,
    }


async def set_rehearsal(
    session: DbSession, meeting: Meeting, actor: Principal, running: bool
) -> dict[str, Any]:
    """Start a test run (every point's signal goes back to `untested`) or end it."""
    if meeting.status not in ANSWERING_STATUSES:
        raise ConflictError(f"The meeting is {meeting.status}; no rehearsal now")
    version = await events.lock_version(session, meeting.id)
    if running:
        meeting.rehearsal_started_at = datetime.now(UTC)
        rows = await session.scalars(
            select(PointAttendance).where(PointAttendance.meeting_id == meeting.id)
        )
        for row in rows:
            row.signal, row.signal_at = Signal.UNTESTED.value, None
    else:
        meeting.rehearsal_started_at = None
    audit.record(session, meeting.id, actor, AuditAction.REHEARSAL, running=running)
    await session.flush()
    return await events.append(
        session,
        meeting.id,
        EventType.MEETING,
        {"meeting": {"rehearsal": running, "signals_reset": running}},
        locked_version=version,
    )


async def checkin_history(
    session: DbSession, meeting_id: int, point_id: int | None = None
) -> list[CheckinRecord]:
    """Every roll-call answer given for a meeting (or one point), oldest first."""
    query = select(CheckinRecord).where(CheckinRecord.meeting_id == meeting_id)
    if point_id is not None:
        query = query.where(CheckinRecord.point_id == point_id)
    return list(await session.scalars(query.order_by(CheckinRecord.version)))
