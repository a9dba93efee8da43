"""Presence from heartbeats: a point is online while one of its clients heartbeats promptly
with a good round-trip time, degraded when heartbeats are late or slow, offline otherwise.

The tracker follows this process's sockets in memory; the presence loop
(`confhub.attendance.runtime`) stores what changed with `record_presences()`, keeps `seen_at`
fresh with `touch()`, and `sweep_stale_presence()` marks offline the points whose process died.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, select, update

from confhub.attendance import events, rows
from confhub.attendance.models import EventType, PointAttendance, Presence
from confhub.db import DbSession, is_sqlite

HEARTBEAT_EVERY = 10.0  # what clients are asked to do
LATE_AFTER = 25.0
GONE_AFTER = 60.0
SLOW_RTT_MS = 1000
# Round-trip times are re-published only when they move this much (fan-out stays quiet).
RTT_REPORT_STEP = 0.5
# A point whose client has not been seen for this long reads as offline, whatever was stored:
# the process that held its socket may have died without saying so.
PRESENCE_STALE_AFTER = timedelta(seconds=60)


@dataclass
class PointPulse:
    """The freshest heartbeat of one point among its clients in this process."""

    last_beat: float = field(default_factory=time.monotonic)
    rtt_ms: int | None = None
    reported: Presence = Presence.OFFLINE
    reported_rtt: int | None = None
    # The point's last client here has left: offline, stored by the next presence round.
    gone: bool = False

    def beat(self, rtt_ms: int | None) -> None:
        """Record a heartbeat (and the round-trip time the client measured on the last one)."""
        self.last_beat = time.monotonic()
        if rtt_ms is not None:
            self.rtt_ms = rtt_ms

    def presence(self, now: float | None = None) -> Presence:
        """What the heartbeats say now."""
        age = (now if now is not None else time.monotonic()) - self.last_beat
        if self.gone or age > GONE_AFTER:
            return Presence.OFFLINE
        if age > LATE_AFTER or (self.rtt_ms is not None and self.rtt_ms >= SLOW_RTT_MS):
            return Presence.DEGRADED
        return Presence.ONLINE

    def worth_reporting(self, presence: Presence) -> bool:
        """A changed state, a round-trip time that moved by more than half, or a point whose
        clients all left (stored offline even if never reported online: another process may
        have)."""
        if presence is not self.reported or self.gone:
            return True
        if self.rtt_ms is None or self.reported_rtt is None:
            return self.rtt_ms != self.reported_rtt
        return abs(self.rtt_ms - self.reported_rtt) > RTT_REPORT_STEP * max(self.reported_rtt, 50)

    def mark_reported(self, presence: Presence) -> None:
        """Remember what was last published."""
        self.reported = presence
        self.reported_rtt = self.rtt_ms


class PresenceTracker:
    """Heartbeats of this process's point clients, turned into stored presence changes."""

    def __init__(self) -> None:
        self.pulses: dict[tuple[int, int], PointPulse] = {}
        self.connections: dict[tuple[int, int], int] = {}

    def connected(self, meeting_id: int, point_id: int) -> None:
        """A client of the point connected to this process."""
        key = (meeting_id, point_id)
        self.connections[key] = self.connections.get(key, 0) + 1
        pulse = self.pulses.setdefault(key, PointPulse())
        if pulse.gone:  # back before its departure was stored
            pulse.gone = False
            pulse.last_beat = time.monotonic()

    def disconnected(self, meeting_id: int, point_id: int) -> bool:
        """A client left; True when it was the point's last one here. The point is then offline
        and `due` reports it once: a province's points leaving together (the end of a meeting,
        a town's network failing) are stored a batch per transaction like every other presence
        change, not in 3,000 transactions at once."""
        key = (meeting_id, point_id)
        left = self.connections.get(key, 1) - 1
        if left > 0:
            self.connections[key] = left
            return False
        self.connections.pop(key, None)
        pulse = self.pulses.get(key)
        if pulse is not None:
            pulse.gone = True
        return True

    def reported(self, changes: list[tuple[int, int, Presence, PointPulse]]) -> None:
        """`due` changes were stored: remember them, and forget the points that left."""
        for meeting_id, point_id, presence, pulse in changes:
            pulse.mark_reported(presence)
            key = (meeting_id, point_id)
            if pulse.gone and self.pulses.get(key) is pulse:
                del self.pulses[key]

    def beat(self, meeting_id: int, point_id: int, rtt_ms: int | None) -> PointPulse:
        """Record a heartbeat; returns the point's pulse."""
        pulse = self.pulses.setdefault((meeting_id, point_id), PointPulse())
        pulse.beat(rtt_ms)
        return pulse

    def due(self) -> list[tuple[int, int, Presence, PointPulse]]:
        """Points whose presence (or round-trip time) changed since it was last published."""
        now = time.monotonic()
        changed = []
        for (meeting_id, point_id), pulse in self.pulses.items():
            presence = pulse.presence(now)
            if pulse.worth_reporting(presence):
                changed.append((meeting_id, point_id, presence, pulse))
        return changed

    def alive(self) -> dict[int, dict[int, int | None]]:
        """Per meeting, the points heartbeating here and their round-trip times."""
        now = time.monotonic()
        alive: dict[int, dict[int, int | None]] = {}
        for (meeting_id, point_id), pulse in self.pulses.items():
            if pulse.presence(now) is not Presence.OFFLINE:
                alive.setdefault(meeting_id, {})[point_id] = pulse.rtt_ms
        return alive


# --- stored presence ------------------------------------------------------------------------


def live_presence(stored: str, seen_at: datetime | None, now: datetime) -> str:
    """The stored presence, unless the point has not been seen for too long (offline)."""
    if seen_at is None or now - seen_at > PRESENCE_STALE_AFTER:
        return Presence.OFFLINE.value
    return stored


async def record_presences(
    session: DbSession, meeting_id: int, changes: Sequence[tuple[int, Presence, int | None]]
) -> list[dict[str, Any]]:
    """Store (point, presence, round-trip time) changes of a meeting's points, as the
    tracker reports them; returns a delta for each point whose presence or round-trip time
    moved (a new round-trip time is published too: the tracker asks only when it moved
    enough). A few statements whatever the number of points."""
    now = datetime.now(UTC)
    version = await events.lock_version(session, meeting_id)
    states = await rows.read_states(session, meeting_id, {point_id for point_id, _, _ in changes})
    deltas: list[events.Delta] = []
    for point_id, presence, rtt_ms in changes:
        state = states.setdefault(point_id, rows.new_state(meeting_id, point_id))
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
    await rows.save_states(session, states, now, rows.PRESENCE_FIELDS)
    return await events.append_many(session, meeting_id, deltas, locked_version=version)


async def touch(session: DbSession, meeting_id: int, point_ids: Sequence[int]) -> None:
    """Mark points as still seen (no event: presence did not change): one `UPDATE … IN` for at
    most `rows.CHUNK` points. A national meeting touches 3,321 rows every TOUCH_EVERY seconds;
    the presence loop (confhub.attendance.runtime) calls this once per chunk and commits each.
    Round-trip times are not stored here: boards show the last one published, and so do
    snapshots.

    On PostgreSQL a row another transaction holds (a check-in storing it) is left for the next
    touch, well within PRESENCE_STALE_AFTER: waiting for it, while holding the rows touched
    before, deadlocked with check-ins that held one of those and waited for this one
    (PostgreSQL then aborts one of them: a whole burst of check-ins was stored again one by
    one, seconds late)."""
    now = datetime.now(UTC)
    table: Table = PointAttendance.__table__  # type: ignore[assignment]
    touched: ColumnElement[bool] = and_(
        table.c.meeting_id == meeting_id, table.c.point_id.in_(point_ids)
    )
    if not is_sqlite(session):
        free = select(table.c.id).where(touched).with_for_update(skip_locked=True)
        touched = table.c.id.in_(free.scalar_subquery())
    await session.execute(update(table).where(touched).values(seen_at=now))


async def sweep_stale_presence(session: DbSession) -> list[dict[str, Any]]:
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
    meeting_ids = await session.scalars(select(PointAttendance.meeting_id).where(*stale).distinct())
    messages = []
    for meeting_id in sorted(meeting_ids):
        version = await events.lock_version(session, meeting_id)
        gone = list(
            await session.scalars(
                select(PointAttendance)
                .where(PointAttendance.meeting_id == meeting_id, *stale)
                .order_by(PointAttendance.point_id)
                .with_for_update()
            )
        )
        for row in gone:
            row.presence, row.rtt_ms = Presence.OFFLINE.value, None
        await session.flush()
        offline = {"presence": Presence.OFFLINE.value, "rtt_ms": None}
        messages += await events.append_many(
            session,
            meeting_id,
            [
                events.Delta(
                    EventType.PRESENCE, {"point_id": row.point_id, **offline}, row.point_id
                )
                for row in gone
            ],
            locked_version=version,
        )
    return messages
