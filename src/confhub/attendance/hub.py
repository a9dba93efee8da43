"""The per-process live hub: one channel subscription per active meeting, fanned out to the
websockets of this process — every delta to boards, only its own point's deltas to a point.

Deltas reach the hub through Litestar's channels (memory in one process, Redis across several)
and are delivered strictly in version order. A gap, a dropped Redis connection or a silent
channel worker never loses anything: a poll of the meeting's version every second fills gaps
from the database, and a watchdog restarts the channel plugin's workers when they die.

While Redis is down, deltas still reach every board within about a second through that poll, and
a meeting whose channel could not be subscribed (a socket joining during the outage) is
subscribed by the watchdog once Redis is back. While the database is down the poll fails and
tries again; sockets stay open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin, Subscriber

from confhub.attendance import events
from confhub.attendance.targeting import concerned_points, view_for
from confhub.core.outages import outage_of
from confhub.core.tasks import cancelled
from confhub.system import metrics

logger = logging.getLogger("confhub.live")

POLL_INTERVAL = 1.0
WATCHDOG_INTERVAL = 2.0
MAX_QUEUED = 5000
MAX_BATCH = 500
# A delta for many sockets (an announcement to 3,321 phones) is queued for each at once, in
# order, but their senders are woken FAN_OUT_TURN at a time with a pause between: all of them in
# one turn of the loop kept it from every other socket and from the database for a third of a
# second, while a check-in's socket and transaction waited. 3,321 sockets are woken within about
# 0.3 s; the deltas after it (a check-in's, for the boards and one point) do not wait for that:
# a delta for at most FAN_OUT_AT_ONCE sockets wakes them at once.
FAN_OUT_AT_ONCE = 256
FAN_OUT_TURN = 32
FAN_OUT_PAUSE = 0.002
# The websocket close code of a server going away for a restart: clients reconnect elsewhere.
SERVICE_RESTART = 1012

SessionFactory = Callable[[], Any]


def channel_name(meeting_id: int, namespace: str = "") -> str:
    """The channel carrying one meeting's deltas; `namespace` tells deployments sharing a Redis
    server apart (pub/sub channels ignore Redis database numbers)."""
    return f"{namespace}meeting:{meeting_id}"


@dataclass(eq=False)
class LiveClient:
    """One websocket: a board (`point_ids` None: sees everything) or a point's client."""

    meeting_id: int
    point_ids: frozenset[int] | None = None
    last_version: int = 0
    # Deltas waiting to be sent, oldest first (a plain list: most of a national roll call's
    # 3,321 point sockets wait idle, and an asyncio.Queue costs each about 2.5 KiB).
    pending: list[dict[str, Any]] = field(default_factory=list)
    needs_snapshot: bool = False
    # Called when there is something to send (set by the handler that owns the socket).
    wake: Callable[[], None] | None = None
    # Closes the socket with a code and reason (set by the handler that owns the socket).
    close_socket: Callable[[int, str], Awaitable[None]] | None = None

    def wants(self, message: dict[str, Any]) -> bool:
        """Targeted fan-out: a point sees its own deltas and the meeting's."""
        return self.view(message) is not None

    def view(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """The delta as this client receives it (a point sees only what concerns it), or None."""
        return view_for(message, self.point_ids)

    async def close(self, code: int = SERVICE_RESTART, reason: str = "service restart") -> None:
        """Close the client's socket; its handler then leaves the hub as on any disconnect."""
        if self.close_socket is not None:
            await self.close_socket(code, reason)

    def offer(self, message: dict[str, Any], *, wake: bool = True) -> None:
        """Queue a delta; a client too far behind is told to take a snapshot instead. Without
        `wake`, the caller wakes the client's sender later."""
        if len(self.pending) >= MAX_QUEUED:
            self.resnapshot()
            return
        self.pending.append(message)
        if wake and self.wake is not None:
            self.wake()

    def resnapshot(self) -> None:
        """Drop what is queued: the client's next message is a fresh snapshot."""
        self.needs_snapshot = True
        self.pending.clear()
        if self.wake is not None:
            self.wake()

    def take(self, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` of the oldest queued deltas, removed from the queue."""
        batch = self.pending[:limit]
        del self.pending[:limit]
        return batch


@dataclass(eq=False)
class MeetingRoom:
    """The clients of one meeting in this process and the last version delivered to them."""

    meeting_id: int
    delivered: int
    clients: set[LiveClient] = field(default_factory=set)
    # Boards, and each point's clients: a point's delta goes to these without asking every
    # socket of the meeting (3,000 point clients would make each delta cost 3,000 calls).
    boards: set[LiveClient] = field(default_factory=set)
    by_point: dict[int, set[LiveClient]] = field(default_factory=dict)
    subscriber: Subscriber | None = None
    reader: asyncio.Task[None] | None = None
    # The channel could not be subscribed (Redis down): the watchdog tries again.
    unsubscribed: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def add(self, client: LiveClient) -> None:
        """A client joins the room."""
        self.clients.add(client)
        if client.point_ids is None:
            self.boards.add(client)
        for point_id in client.point_ids or ():
            self.by_point.setdefault(point_id, set()).add(client)

    def discard(self, client: LiveClient) -> None:
        """A client leaves the room."""
        self.clients.discard(client)
        self.boards.discard(client)
        for point_id in client.point_ids or ():
            clients = self.by_point.get(point_id)
            if clients is not None:
                clients.discard(client)
                if not clients:
                    del self.by_point[point_id]

    def targets(self, message: dict[str, Any]) -> Collection[LiveClient]:
        """The clients that want a delta: what `LiveClient.wants` says, without asking each."""
        concerned = concerned_points(message)
        if concerned is None:
            return self.clients
        if len(concerned) == 1:
            return [*self.boards, *self.by_point.get(concerned[0], ())]
        points = {c for point_id in concerned for c in self.by_point.get(point_id, ())}
        return [*self.boards, *points]


class AttendanceHub:
    """Fans a meeting's deltas out to this process's websockets, in version order."""

    def __init__(
        self, channels: ChannelsPlugin, session_factory: SessionFactory, namespace: str = ""
    ) -> None:
        self.channels = channels
        self.session_factory = session_factory
        self.namespace = namespace
        self.rooms: dict[int, MeetingRoom] = {}
        # Rooms being opened: the clients joining meanwhile wait for the one opening.
        self._opening: dict[int, asyncio.Future[MeetingRoom]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.delivered_total = 0
        # Clients whose senders a large fan-out wakes in turns (`_wake_in_turns`).
        self._to_wake: deque[LiveClient] = deque()
        self._waker: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the gap-filling poll and the channel watchdog."""
        self._tasks = [
            asyncio.create_task(self._poll_forever(), name="confhub-live-poll"),
            asyncio.create_task(self._watchdog_forever(), name="confhub-live-watchdog"),
        ]

    async def stop(self) -> None:
        """Close any socket still open, then stop background tasks and every room's
        subscription."""
        await self.close_all()
        self._to_wake.clear()
        if self._waker is not None:
            self._tasks.append(self._waker)
        for task in self._tasks:
            task.cancel()
        for room in list(self.rooms.values()):
            await self._close_room(room)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close_all(self, code: int = SERVICE_RESTART, reason: str = "service restart") -> int:
        """Close every socket of this process (it is going away); returns how many."""
        clients = [client for room in list(self.rooms.values()) for client in room.clients]
        await asyncio.gather(*(c.close(code, reason) for c in clients), return_exceptions=True)
        return len(clients)

    def publish_committed(self, meeting_id: int, messages: list[dict[str, Any]]) -> None:
        """Session commit hook: send committed deltas to every process (this one included),
        stamped with the commit time so each process can measure its fan-out lag."""
        metrics.checkins_committed(messages)
        self.channels.publish(
            {"messages": messages, "committed_at": time.time()},
            channel_name(meeting_id, self.namespace),
        )

    # -- clients ---------------------------------------------------------------------------

    async def join(self, client: LiveClient) -> None:
        """Register a client (before its snapshot is read, so nothing falls in between)."""
        room = self.rooms.get(client.meeting_id)
        if room is None:
            room = await self._opened(client.meeting_id)
        room.add(client)

    async def _opened(self, meeting_id: int) -> MeetingRoom:
        """The meeting's room, opened once however many clients join while it opens (a
        thousand sockets let in together after a network failure each read the version in a
        transaction of their own)."""
        opening = self._opening.get(meeting_id)
        if opening is None:
            opening = asyncio.ensure_future(self._open(meeting_id))
            self._opening[meeting_id] = opening
            opening.add_done_callback(lambda _: self._opening.pop(meeting_id, None))
            # Retrieved here, so an opening that fails after its clients left is not logged.
            opening.add_done_callback(lambda f: f.cancelled() or f.exception())
        return await asyncio.shield(opening)

    async def _open(self, meeting_id: int) -> MeetingRoom:
        async with self.session_factory() as session:
            version = await events.current_version(session, meeting_id)
        room = self.rooms.get(meeting_id)
        if room is None:
            room = MeetingRoom(meeting_id=meeting_id, delivered=version)
            self.rooms[meeting_id] = room
            await self._subscribe(room)
        return room

    async def leave(self, client: LiveClient) -> None:
        """Forget a client; the last one out closes the room's subscription."""
        room = self.rooms.get(client.meeting_id)
        if room is None:
            return
        room.discard(client)
        if not room.clients:
            await self._close_room(room)

    # -- delivery --------------------------------------------------------------------------

    async def _subscribe(self, room: MeetingRoom) -> None:
        """Read the room's channel; when Redis refuses, the room goes without (the poll serves
        it) and the watchdog subscribes it later."""
        name = channel_name(room.meeting_id, self.namespace)
        try:
            room.subscriber = await self.channels.subscribe([name])
        except Exception as exc:
            if outage_of(exc) is None:
                raise
            # The plugin registered a subscriber before Redis refused: nobody would read it.
            plugin: Any = self.channels
            plugin._channels.pop(name, None)
            room.subscriber, room.unsubscribed = None, True
            logger.warning("live channel of meeting %s not subscribed: %s", room.meeting_id, exc)
            return
        room.unsubscribed = False
        room.reader = asyncio.create_task(self._read(room), name=f"confhub-live-{room.meeting_id}")

    async def _close_room(self, room: MeetingRoom) -> None:
        self.rooms.pop(room.meeting_id, None)
        await cancelled(room.reader)
        if room.subscriber is not None:
            with contextlib.suppress(Exception):
                await self.channels.unsubscribe(room.subscriber)

    async def _read(self, room: MeetingRoom) -> None:
        assert room.subscriber is not None
        try:
            async for raw in room.subscriber.iter_events():
                payload = msgspec.json.decode(raw)
                await self.deliver(room, list(payload.get("messages", [])))
                committed_at = payload.get("committed_at")
                if isinstance(committed_at, int | float):
                    metrics.FANOUT_LAG.observe(max(0.0, time.time() - committed_at))
        except asyncio.CancelledError:
            raise
        except Exception:  # the poll keeps the room correct; log and let the watchdog resubscribe
            logger.exception("live channel reader of meeting %s stopped", room.meeting_id)

    async def deliver(self, room: MeetingRoom, messages: list[dict[str, Any]]) -> None:
        """Hand deltas to the room's clients in version order, filling gaps from the database."""
        async with room.lock:
            for message in sorted(messages, key=lambda m: int(m["version"])):
                version = int(message["version"])
                if version <= room.delivered:
                    continue
                if version > room.delivered + 1:
                    await self._fill_gap(room)
                    if version <= room.delivered:
                        continue
                self._fan_out(room, message)

    async def _fill_gap(self, room: MeetingRoom) -> None:
        async with self.session_factory() as session:
            missing = await events.since(session, room.meeting_id, room.delivered)
            if missing is None:
                latest = await events.current_version(session, room.meeting_id)
        if missing is None:
            for client in room.clients:
                client.resnapshot()
            room.delivered = latest
            return
        for message in missing:
            self._fan_out(room, message)

    def _fan_out(self, room: MeetingRoom, message: dict[str, Any]) -> None:
        room.delivered = int(message["version"])
        self.delivered_total += 1
        metrics.LIVE_DELTAS.inc()
        targets = room.targets(message)
        at_once = len(targets) <= FAN_OUT_AT_ONCE
        later: list[LiveClient] = []
        for client in targets:
            shown = client.view(message)
            if shown is not None:
                client.offer(shown, wake=at_once)
                if not at_once:
                    later.append(client)
        if later:
            self._wake_in_turns(later)

    def _wake_in_turns(self, clients: list[LiveClient]) -> None:
        """Wake these clients' senders FAN_OUT_TURN at a time, after those already waiting."""
        self._to_wake.extend(clients)
        if self._waker is None or self._waker.done():
            self._waker = asyncio.create_task(self._wake_forever(), name="confhub-live-waker")

    async def _wake_forever(self) -> None:
        while self._to_wake:
            for _ in range(min(FAN_OUT_TURN, len(self._to_wake))):
                client = self._to_wake.popleft()
                if client.wake is not None and (client.pending or client.needs_snapshot):
                    client.wake()
            if self._to_wake:
                await asyncio.sleep(FAN_OUT_PAUSE)

    # -- safety nets -----------------------------------------------------------------------

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            for room in list(self.rooms.values()):
                try:
                    async with self.session_factory() as session:
                        latest = await events.current_version(session, room.meeting_id)
                    if latest > room.delivered:
                        async with room.lock:
                            await self._fill_gap(room)
                except Exception as exc:  # a database hiccup must not end the poll
                    if outage_of(exc) is None:
                        logger.exception("live poll of meeting %s failed", room.meeting_id)
                    else:
                        logger.warning("live poll of meeting %s: %s", room.meeting_id, exc)

    async def _watchdog_forever(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_INTERVAL)
            try:
                await self.heal()
            except Exception as exc:
                if outage_of(exc) is None:
                    logger.exception("live watchdog failed")
                else:  # Redis is still away: the next round tries again
                    logger.warning("live watchdog: Redis is down (%s)", exc)

    async def heal(self) -> None:
        """Restart channel workers that died (e.g. Redis dropped the connection) and readers."""
        # Litestar's ChannelsPlugin ends its workers silently on a backend error; there is no
        # public way to restart them, so this reaches into the plugin's two task attributes.
        plugin: Any = self.channels
        sub_task = getattr(plugin, "_sub_task", None)
        if sub_task is not None and sub_task.done():
            logger.warning("restarting the live channel subscriber (%s)", _failure(sub_task))
            # Reconnect and resubscribe first, then read: a worker started alongside would use
            # the one pub/sub connection while it reconnects (its health-check PING interleaves
            # with the handshake), both fail, and so would every later attempt. When Redis is
            # still away this raises, the old task stays done and the next round tries again.
            channels = list(getattr(plugin, "_channels", {}))
            if channels:
                await plugin._backend.subscribe(channels)
            plugin._sub_task = asyncio.create_task(plugin._sub_worker())
        pub_task = getattr(plugin, "_pub_task", None)
        if pub_task is not None and pub_task.done():
            logger.warning("restarting the live channel publisher (%s)", _failure(pub_task))
            plugin._pub_task = asyncio.create_task(plugin._pub_worker())
        for room in list(self.rooms.values()):
            if room.unsubscribed or (room.reader is not None and room.reader.done()):
                with contextlib.suppress(Exception):
                    if room.subscriber is not None:
                        await self.channels.unsubscribe(room.subscriber)
                await self._subscribe(room)


def _failure(task: asyncio.Task[Any]) -> str:
    """Why a worker task ended (retrieving its exception, so asyncio does not log it again)."""
    if task.cancelled():
        return "cancelled"
    exc = task.exception()
    return f"{type(exc).__name__}: {exc}" if exc is not None else "ended"
