"""Presence from heartbeats: a point is online while one of its clients heartbeats promptly
with a good round-trip time, degraded when heartbeats are late or slow, offline otherwise."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from confhub.attendance.models import Presence

HEARTBEAT_EVERY = 10.0  # what clients are asked to do
LATE_AFTER = 25.0
GONE_AFTER = 60.0
SLOW_RTT_MS = 1000
# Round-trip times are re-published only when they move this much (fan-out stays quiet).
RTT_REPORT_STEP = 0.5


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
