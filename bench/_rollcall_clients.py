"""The load generator of bench/rollcall.py: point clients and live boards on the live channel.

A worker process runs either points or boards (never both), each socket a
`websockets.asyncio.client` connection, and obeys commands from the parent over a pipe:
`connect`, `status`, `start` (points only), `finish` and `close`. Times are
`time.monotonic()`, which on Linux is one clock for every process of the machine, so the parent
can subtract a board's "seen" time from a point's "sent" time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

CONNECT_ATTEMPTS = 3
CHECKIN_RETRIES = 5
RETRY_AFTER = 1.0
MAX_FRAME = 64 * 1024 * 1024


@dataclass(frozen=True)
class PointSpec:
    """One point client: where it connects and what it answers for."""

    url: str
    point_id: int


@dataclass(frozen=True)
class BoardSpec:
    """One live board: where it connects, with which session cookie."""

    url: str
    cookie: str | None


@dataclass(frozen=True)
class WorkerPlan:
    """What one load-generator process runs."""

    points: list[PointSpec] = field(default_factory=list)
    boards: list[BoardSpec] = field(default_factory=list)
    window: float = 10.0
    heartbeat_every: float = 10.0
    connect_concurrency: int = 100
    compression: str | None = "deflate"
    seed: int = 0
    run_id: str = "run"
    report_rtt: bool = True


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _open(url: str, plan: WorkerPlan, headers: dict[str, str] | None) -> ClientConnection:
    last: Exception | None = None
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            return await connect(
                url,
                additional_headers=headers,
                compression=plan.compression,
                max_size=MAX_FRAME,
                open_timeout=120,
                proxy=None,
            )
        except (OSError, TimeoutError, ConnectionClosed) as exc:
            last = exc
            await asyncio.sleep(0.5 * (attempt + 1))
        except Exception as exc:  # handshake refused (e.g. 403/503): retrying helps sometimes
            last = exc
            await asyncio.sleep(0.5 * (attempt + 1))
    assert last is not None
    raise last


class PointClient:
    """A chair's phone: snapshot, heartbeats every `heartbeat_every` s, one check-in."""

    def __init__(self, spec: PointSpec, plan: WorkerPlan) -> None:
        self.spec = spec
        self.plan = plan
        self.key = f"{plan.run_id}-{spec.point_id}"
        self.ws: ClientConnection | None = None
        self.connect_s: float | None = None
        self.failure: str | None = None
        self.sent_at: float | None = None
        self.acked_at: float | None = None
        self.ack_version: int | None = None
        self.errors: list[str] = []
        self.rtt_ms: int | None = None
        self.pongs = 0
        self.closed_early = False
        self.close_code: int | None = None
        self.checkin: dict[str, Any] | None = None
        self.retries = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def connect(self) -> None:
        """Open the socket, take the snapshot, heartbeat at once and then periodically."""
        started = time.monotonic()
        try:
            self.ws = await _open(self.spec.url, self.plan, None)
            snapshot = json.loads(await self.ws.recv())
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"[:200]
            return
        if snapshot.get("type") != "snapshot":
            self.failure = f"first message was {snapshot.get('type')!r}"
            return
        self.connect_s = time.monotonic() - started
        await self._heartbeat()
        self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._beat())]

    async def _heartbeat(self) -> None:
        assert self.ws is not None
        rtt = self.rtt_ms if self.plan.report_rtt else None
        message = {"type": "heartbeat", "sent_at": _now_ms(), "rtt_ms": rtt}
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(json.dumps(message))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.plan.heartbeat_every)
            await self._heartbeat()

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                self._take(json.loads(raw))
        except ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd else None
        self.closed_early = True

    def _take(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "pong" and isinstance(message.get("sent_at"), int):
            self.pongs += 1
            self.rtt_ms = max(0, _now_ms() - message["sent_at"])
        elif kind == "ack" and message.get("idempotency_key") == self.key:
            if self.acked_at is None:
                self.acked_at = time.monotonic()
                self.ack_version = message.get("version")
        elif kind == "error":
            self.errors.append(str(message.get("detail"))[:200])
            refused = message.get("idempotency_key") == self.key and self.acked_at is None
            if refused and self.retries < CHECKIN_RETRIES:  # "send it again", as a phone would
                self.retries += 1
                self.tasks.append(asyncio.create_task(self._resend()))

    async def _resend(self) -> None:
        await asyncio.sleep(RETRY_AFTER)
        if self.ws is not None and self.checkin is not None and self.acked_at is None:
            with contextlib.suppress(ConnectionClosed):
                await self.ws.send(json.dumps(self.checkin))

    async def check_in_at(self, when: float, delegates: int) -> None:
        """Send the roll-call answer at monotonic time `when`."""
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        if self.ws is None or self.failure:
            return
        message = {
            "type": "checkin",
            "point_id": self.spec.point_id,
            "status": "present",
            "delegates_present": delegates,
            "idempotency_key": self.key,
        }
        self.checkin = message
        self.sent_at = time.monotonic()
        try:
            await self.ws.send(json.dumps(message))
        except ConnectionClosed:
            self.errors.append("closed before the check-in could be sent")

    async def close(self) -> None:
        """Stop heartbeating and close the socket."""
        for task in self.tasks:
            task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)

    def result(self) -> dict[str, Any]:
        """What the parent needs, picklable."""
        return {
            "point_id": self.spec.point_id,
            "connect_s": self.connect_s,
            "failure": self.failure,
            "sent_at": self.sent_at,
            "acked_at": self.acked_at,
            "ack_version": self.ack_version,
            "errors": self.errors,
            "pongs": self.pongs,
            "retries": self.retries,
            "closed_early": self.closed_early,
            "close_code": self.close_code,
        }


class BoardClient:
    """A live board: the snapshot, then every delta (single frames or `batch` frames)."""

    def __init__(self, spec: BoardSpec, plan: WorkerPlan) -> None:
        self.spec = spec
        self.plan = plan
        self.ws: ClientConnection | None = None
        self.connect_s: float | None = None
        self.failure: str | None = None
        self.last_version = 0
        self.versions: set[int] = set()
        self.seen: dict[int, float] = {}
        self.online: set[int] = set()
        self.last_presence_at = 0.0
        self.duplicates = 0
        self.repeated_checkins = 0
        self.gaps = 0
        self.out_of_order = 0
        self.snapshots = 0
        self.frames = 0
        self.deltas = 0
        self.kinds: dict[str, int] = {}
        self.errors: list[str] = []
        self.closed_early = False
        self.close_code: int | None = None
        self.task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        """Open the socket with the session cookie and read the snapshot."""
        headers = {"Cookie": self.spec.cookie} if self.spec.cookie else None
        started = time.monotonic()
        try:
            self.ws = await _open(self.spec.url, self.plan, headers)
            snapshot = json.loads(await self.ws.recv())
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"[:200]
            return
        if snapshot.get("type") != "snapshot":
            self.failure = f"first message was {snapshot.get('type')!r}"
            return
        self.connect_s = time.monotonic() - started
        self._take_snapshot(snapshot)
        self.snapshots = 0
        self.task = asyncio.create_task(self._read())

    def _take_snapshot(self, snapshot: dict[str, Any]) -> None:
        self.snapshots += 1
        self.last_version = int(snapshot.get("version", 0))
        points = snapshot.get("points", [])
        self.online = {p["point_id"] for p in points if p.get("presence") == "online"}

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                now = time.monotonic()
                self.frames += 1
                self._take(json.loads(raw), now)
        except ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd else None
        self.closed_early = True

    def _take(self, message: dict[str, Any], now: float) -> None:
        kind = message.get("type")
        if kind == "batch":
            for delta in message.get("messages", []):
                self._delta(delta, now)
        elif kind == "snapshot":
            self._take_snapshot(message)
        elif kind == "error":
            self.errors.append(str(message.get("detail"))[:200])
        else:
            self._delta(message, now)

    def _delta(self, delta: dict[str, Any], now: float) -> None:
        version = int(delta["version"])
        kind = str(delta.get("type"))
        self.deltas += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if version in self.versions:
            self.duplicates += 1
            return
        self.versions.add(version)
        if version < self.last_version:
            self.out_of_order += 1
        elif version > self.last_version + 1:
            self.gaps += version - self.last_version - 1
        self.last_version = max(self.last_version, version)
        point_id = delta.get("point_id")
        if kind == "checkin" and isinstance(point_id, int):
            if point_id in self.seen:
                self.repeated_checkins += 1
            else:
                self.seen[point_id] = now
        elif kind == "presence" and isinstance(point_id, int):
            self.last_presence_at = now
            if delta.get("presence") == "online":
                self.online.add(point_id)
            else:
                self.online.discard(point_id)

    async def close(self) -> None:
        """Close the socket."""
        if self.task is not None:
            self.task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)

    def result(self) -> dict[str, Any]:
        """What the parent needs, picklable."""
        return {
            "connect_s": self.connect_s,
            "failure": self.failure,
            "seen": self.seen,
            "duplicates": self.duplicates,
            "repeated_checkins": self.repeated_checkins,
            "gaps": self.gaps,
            "out_of_order": self.out_of_order,
            "snapshots": self.snapshots,
            "frames": self.frames,
            "deltas": self.deltas,
            "kinds": self.kinds,
            "errors": self.errors[:20],
            "closed_early": self.closed_early,
            "close_code": self.close_code,
        }


def raise_fd_limit() -> int:
    """Lift this process's open-file limit to its hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Worker:
    """One load-generator process: its clients and the command loop."""

    def __init__(self, plan: WorkerPlan, conn: Connection) -> None:
        self.plan = plan
        self.conn = conn
        self.points = [PointClient(spec, plan) for spec in plan.points]
        self.boards = [BoardClient(spec, plan) for spec in plan.boards]
        self.rng = random.Random(plan.seed)  # noqa: S311 - load timing, not secrets
        self.checkins: list[asyncio.Task[None]] = []

    async def run(self) -> None:
        """Answer the parent's commands until `close`."""
        handlers: dict[str, Callable[[Any], Awaitable[Any]]] = {
            "connect": self.connect,
            "status": self.status,
            "start": self.start,
            "finish": self.finish,
            "close": self.close,
        }
        while True:
            command, argument = await asyncio.to_thread(self.conn.recv)
            self.conn.send(await handlers[command](argument))
            if command == "close":
                return

    async def connect(self, _: Any) -> dict[str, Any]:
        """Connect every client, at most `connect_concurrency` handshakes at a time."""
        gate = asyncio.Semaphore(self.plan.connect_concurrency)
        clients: list[PointClient | BoardClient] = [*self.boards, *self.points]

        async def one(client: PointClient | BoardClient) -> None:
            async with gate:
                await client.connect()

        started = time.monotonic()
        await asyncio.gather(*(one(client) for client in clients))
        return {
            "seconds": time.monotonic() - started,
            "failures": [c.failure for c in clients if c.failure],
        }

    async def status(self, _: Any) -> dict[str, float]:
        """Progress: the fewest points any board shows online / has seen check in, the last
        presence delta; acks."""
        return {
            "online_min": min((len(b.online) for b in self.boards), default=0),
            "last_presence_at": max((b.last_presence_at for b in self.boards), default=0.0),
            "seen_min": min((len(b.seen) for b in self.boards), default=0),
            "sent": sum(p.sent_at is not None for p in self.points),
            "acked": sum(p.acked_at is not None for p in self.points),
        }

    async def start(self, start_at: float) -> str:
        """Schedule every point's check-in at a random moment of the window; boards count
        frames and deltas from here on."""
        for board in self.boards:
            board.frames, board.deltas, board.kinds = 0, 0, {}
        for point in self.points:
            when = start_at + self.rng.uniform(0, self.plan.window)
            delegates = self.rng.randint(3, 60)
            self.checkins.append(asyncio.create_task(point.check_in_at(when, delegates)))
        return "started"

    async def finish(self, argument: tuple[float, frozenset[int] | None]) -> dict[str, Any]:
        """Wait (until `deadline`) for every ack, or every board to see `expected`; report."""
        deadline, expected = argument
        if self.checkins:
            await asyncio.wait(self.checkins, timeout=max(0.0, deadline - time.monotonic()))
        while not self._complete(expected):  # polled: completion spans many sockets
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(min(0.05, remaining))
        return {
            "points": [p.result() for p in self.points],
            "boards": [b.result() for b in self.boards],
        }

    def _complete(self, expected: frozenset[int] | None) -> bool:
        pending = [p for p in self.points if p.sent_at is not None and p.acked_at is None]
        if pending:
            return False
        return expected is None or all(expected <= b.seen.keys() for b in self.boards)

    async def close(self, _: Any) -> str:
        """Close every socket."""
        clients: list[PointClient | BoardClient] = [*self.points, *self.boards]
        await asyncio.gather(*(client.close() for client in clients))
        return "closed"


def worker_main(conn: Connection, plan: WorkerPlan) -> None:
    """Entry point of a load-generator process."""
    raise_fd_limit()
    asyncio.run(Worker(plan, conn).run())
