"""The live machinery of one app: the channels plugin (memory, or Redis when configured), the
hub that fans deltas out to this process's sockets, and the presence loop."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from confhub.attendance.hub import AttendanceHub
from confhub.attendance.models import Presence
from confhub.attendance.presence import (
    PresenceTracker,
    record_presences,
    sweep_stale_presence,
    touch,
)
from confhub.attendance.rows import chunks
from confhub.attendance.writer import Priority, one_writer
from confhub.core.outages import outage_of
from confhub.core.tasks import cancelled

logger = logging.getLogger("confhub.live")

PRESENCE_EVERY = 2.0
# Presence changes stored per transaction: few enough to keep check-ins waiting briefly (presence
# goes last in the meeting's writer queue, but a transaction once begun is not interrupted).
PRESENCE_CHUNK = 50
TOUCH_EVERY = 20.0


@dataclass
class LiveRuntime:
    """Everything the live channel needs, started and stopped with the app."""

    channels: ChannelsPlugin
    hub: AttendanceHub
    presence: PresenceTracker
    # Points left online by a process that died are marked offline this often (seconds, checked
    # each presence round), once stale (presence.PRESENCE_STALE_AFTER without a heartbeat in
    # any process): Settings.presence_sweep_seconds.
    sweep_every: float
    # Set by the app once its database config exists (the config needs the hub's publisher).
    db_config: Any = None
    # The channels plugin's backend (memory, or Redis pub/sub).
    backend: Any = None
    # Seconds between two presence rounds (Settings.presence_every_seconds).
    every: float = PRESENCE_EVERY
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    async def start(self) -> None:
        """Start the hub's safety nets and the presence loop."""
        await self.hub.start()
        self._task = asyncio.create_task(self._presence_forever(), name="confhub-presence")

    async def stop(self) -> None:
        """Stop background work."""
        await cancelled(self._task)
        await self.hub.stop()

    def forget(self) -> None:
        """Forget the rooms, the channels' subscribers and every point's presence, as a runtime
        just built would start (only while stopped): for a harness that reuses one app over
        fresh databases (`confhub.app.reset_app_state`)."""
        if isinstance(self.backend, MemoryChannelsBackend):
            MemoryChannelsBackend.__init__(self.backend)
        ChannelsPlugin.__init__(
            self.channels, backend=self.backend, arbitrary_channels_allowed=True
        )
        AttendanceHub.__init__(
            self.hub, self.channels, self.hub.session_factory, namespace=self.hub.namespace
        )
        PresenceTracker.__init__(self.presence)

    async def _presence_forever(self) -> None:
        since_touch = since_sweep = 0.0
        while True:
            await asyncio.sleep(self.every)
            since_touch += self.every
            since_sweep += self.every
            try:
                await self.publish_presence()
                if since_touch >= TOUCH_EVERY:
                    since_touch = 0.0
                    await self.touch_alive()
                if since_sweep >= self.sweep_every:
                    since_sweep = 0.0
                    await self.sweep_stale()
            except Exception as exc:  # a database hiccup must not end presence tracking
                if outage_of(exc) is None:
                    logger.exception("presence update failed")
                else:  # what was not stored is still due: the next round stores it
                    logger.warning("presence update failed: %s", exc)

    async def publish_presence(self) -> None:
        """Store (and so broadcast) every point whose presence changed, PRESENCE_CHUNK points
        per transaction: one commit and one fan-out batch instead of one per point. Meetings are
        taken in order, each by its version counter before its rows (as every attendance writer
        does), so no two transactions wait for each other the other way round."""
        due = sorted(self.presence.due(), key=lambda change: (change[0], change[1]))
        for start in range(0, len(due), PRESENCE_CHUNK):
            chunk = due[start : start + PRESENCE_CHUNK]
            writer = one_writer(self.db_config, chunk[0][0], Priority.BACKGROUND)
            by_meeting: dict[int, list[tuple[int, Presence, int | None]]] = {}
            for meeting_id, point_id, presence, pulse in chunk:
                by_meeting.setdefault(meeting_id, []).append((point_id, presence, pulse.rtt_ms))
            async with writer, self.db_config.get_session() as session:
                for meeting_id, changes in by_meeting.items():
                    await record_presences(session, meeting_id, changes)
                await session.commit()
            self.presence.reported(chunk)

    async def sweep_stale(self) -> None:
        """Mark offline, for every board, the points whose process died while they were
        connected (points heartbeating here are kept fresh by `touch_alive`)."""
        async with self.db_config.get_session() as session:
            await sweep_stale_presence(session)
            await session.commit()

    async def touch_alive(self) -> None:
        """Keep `seen_at` fresh for points heartbeating here, so snapshots anywhere trust it."""
        for meeting_id, rtts in self.presence.alive().items():
            # A transaction per chunk: the rows it touched are held only until it commits.
            for chunk in chunks(sorted(rtts)):
                async with self.db_config.get_session() as session:
                    await touch(session, meeting_id, chunk)
                    await session.commit()


def live_namespace(redis_url: str) -> str:
    """The prefix of a deployment's live channels: Redis pub/sub is one space for the whole
    server, whatever database a client selected, while meeting ids repeat across deployments."""
    from redis.asyncio.connection import parse_url

    return f"confhub:live:{parse_url(redis_url).get('db', 0)}:"


def build_live_runtime(
    redis_url: str | None, sweep_every: float, every: float = PRESENCE_EVERY
) -> LiveRuntime:
    """Memory fan-out in one process; Redis pub/sub shared by every process when configured."""
    if redis_url:
        # Imported only with Redis configured: a process on its own never loads redis-py.
        from redis.asyncio import Redis

        from confhub.attendance.redis_backend import OutageTolerantPubSubBackend

        # Its own connection, checked every 10 s, so a dead pub/sub link is noticed.
        pubsub_redis = Redis.from_url(
            redis_url, health_check_interval=10, socket_keepalive=True, socket_connect_timeout=2
        )
        backend: Any = OutageTolerantPubSubBackend(redis=pubsub_redis, key_prefix="confhub:live")
    else:
        backend = MemoryChannelsBackend()
    channels = ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)
    runtime = LiveRuntime(
        channels=channels,
        hub=None,  # type: ignore[arg-type]
        presence=PresenceTracker(),
        sweep_every=sweep_every,
        backend=backend,
        every=every,
    )
    runtime.hub = AttendanceHub(
        channels,
        lambda: runtime.db_config.get_session(),
        namespace=live_namespace(redis_url) if redis_url else "",
    )
    return runtime
