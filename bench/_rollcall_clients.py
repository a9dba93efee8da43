"""The load generator of bench/rollcall.py: point clients and live boards on the live channel.

A worker process runs either points or boards (never both), each socket a
`websockets.asyncio.client` connection, and obeys commands from the parent over a pipe:
`connect`, `status`, `start` (points only), `finish` and `close` for the classic run;
`rush`, `storm` (points only) and `presence` (boards only) for the rush (bench/rollcall.py's
default: each client connects, checks in or opens at its own random moment). Times are
`time.monotonic()`, which on Linux is one clock for every process of the machine, so the parent
can subtract a board's "seen" time from a point's "sent" time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

CONNECT_ATTEMPTS = 3
# A board seeing two presence deltas of one point closer than this: presence not coalesced.
PRESENCE_QUIET_S = 1.0
CHECKIN_RETRIES = 5
RETRY_AFTER = 1.0
MAX_FRAME = 64 * 1024 * 1024


@dataclass(frozen=True)
class PointSpec:
    """One point client: where it connects and what it answers for."""

    url: str
    point_id: int
    # The phone's own address, as the proxy in front tells it (each chair's network).
    forwarded_for: str | None = None


@dataclass(frozen=True)
class BoardSpec:
    """One live board: where it connects, with which session cookie."""

    url: str
    cookie: str | None
    # The board's page, fetched before its socket opens (as a browser does); None: socket only.
    page_url: str | None = None


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
    # Handshakes tried before a client gives up (a phone keeps trying; the rush allows more).
    connect_attempts: int = CONNECT_ATTEMPTS


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _open(url: str, plan: WorkerPlan, headers: dict[str, str] | None) -> ClientConnection:
    last: Exception | None = None
    for attempt in range(plan.connect_attempts):
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
            await asyncio.sleep(_backoff(attempt))
        except Exception as exc:  # handshake refused (e.g. 403/503): retrying helps sometimes
            last = exc
            await asyncio.sleep(_backoff(attempt))
    assert last is not None
    raise last


def _backoff(attempt: int) -> float:
    """Seconds before the next handshake, jittered as pages do (no lockstep retries)."""
    return min(5.0, 0.5 * (attempt + 1)) * random.uniform(0.5, 1.5)  # noqa: S311 - timing


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
        self.storm_s: float | None = None
        self.storm_failure: str | None = None

    async def connect(self) -> None:
        """Open the socket, take the snapshot, heartbeat at once and then periodically."""
        started = time.monotonic()
        self.failure = await self._establish()
        if self.failure is None:
            self.connect_s = time.monotonic() - started

    async def _establish(self) -> str | None:
        """Open, read the snapshot, start heartbeating and reading; why not, or None."""
        headers = {"X-Forwarded-For": self.spec.forwarded_for} if self.spec.forwarded_for else None
        try:
            self.ws = await _open(self.spec.url, self.plan, headers)
            snapshot = json.loads(await self.ws.recv())
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"[:200]
        if snapshot.get("type") != "snapshot":
            return f"first message was {snapshot.get('type')!r}"
        await self._heartbeat()
        self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._beat())]
        return None

    async def rush(self, connect_at: float, checkin_at: float, delegates: int) -> None:
        """Connect at `connect_at`; check in at `checkin_at`, or at once when connected later."""
        await asyncio.sleep(max(0.0, connect_at - time.monotonic()))
        await self.connect()
        await self.check_in_at(checkin_at, delegates)

    async def reconnect(self) -> None:
        """The network drops the socket (no closing handshake) and the phone reconnects."""
        for task in self.tasks:
            task.cancel()
        if self.ws is not None:
            self.ws.transport.abort()
        self.ws = None
        started = time.monotonic()
        self.storm_failure = await self._establish()
        if self.storm_failure is None:
            self.storm_s = time.monotonic() - started

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
                message = json.loads(raw)
                # Deltas queued for one phone together come as one `batch` frame.
                for one in message["messages"] if message.get("type") == "batch" else [message]:
                    self._take(one)
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
            "storm_s": self.storm_s,
            "storm_failure": self.storm_failure,
        }


class BoardClient:
    """A live board: the snapshot, then every delta (single frames or `batch` frames)."""

    def __init__(self, spec: BoardSpec, plan: WorkerPlan) -> None:
        self.spec = spec
        self.plan = plan
        self.ws: ClientConnection | None = None
        self.connect_s: float | None = None
        self.page_s: float | None = None
        # When the first snapshot arrived: check-ins sent later must reach this board as deltas.
        self.ready_at: float | None = None
        # Points the snapshot already showed checked in (a board opened after they answered).
        self.from_snapshot: set[int] = set()
        self.presence_at: dict[int, float] = {}
        self.presence_too_soon = 0
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
        self.chars = 0  # of text frames (about their bytes)
        self.deltas = 0
        self.kinds: dict[str, int] = {}
        self.errors: list[str] = []
        self.closed_early = False
        self.close_code: int | None = None
        self.task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        """Fetch the page (when it has one), open the socket with the session cookie and read
        the snapshot: the board's first full state."""
        headers = {"Cookie": self.spec.cookie} if self.spec.cookie else None
        started = time.monotonic()
        try:
            if self.spec.page_url is not None:
                await _fetch_page(self.spec.page_url, headers)
                self.page_s = time.monotonic() - started
            self.ws = await _open(self.spec.url, self.plan, headers)
            snapshot = json.loads(await self.ws.recv())
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"[:200]
            return
        if snapshot.get("type") != "snapshot":
            self.failure = f"first message was {snapshot.get('type')!r}"
            return
        self.ready_at = time.monotonic()
        self.connect_s = self.ready_at - started
        self._take_snapshot(snapshot)
        self.from_snapshot = {
            p["point_id"] for p in snapshot.get("points", []) if p.get("status") == "present"
        }
        self.snapshots = 0
        self.task = asyncio.create_task(self._read())

    async def open_at(self, when: float) -> None:
        """Open the board at monotonic time `when`."""
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        await self.connect()

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
                self.chars += len(raw)
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
            previous = self.presence_at.get(point_id)
            if previous is not None and now - previous < PRESENCE_QUIET_S:
                self.presence_too_soon += 1
            self.presence_at[point_id] = now
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
            "page_s": self.page_s,
            "ready_at": self.ready_at,
            "from_snapshot": self.from_snapshot,
            "presence_too_soon": self.presence_too_soon,
            "failure": self.failure,
            "seen": self.seen,
            "duplicates": self.duplicates,
            "repeated_checkins": self.repeated_checkins,
            "gaps": self.gaps,
            "out_of_order": self.out_of_order,
            "snapshots": self.snapshots,
            "frames": self.frames,
            "chars": self.chars,
            "deltas": self.deltas,
            "kinds": self.kinds,
            "errors": self.errors[:20],
            "closed_early": self.closed_early,
            "close_code": self.close_code,
        }


async def _fetch_page(url: str, headers: dict[str, str] | None) -> None:
    """GET a page and read it whole (raises on a non-200 answer)."""
    async with httpx.AsyncClient(headers=headers, timeout=120, trust_env=False) as client:
        response = await client.get(url)
        response.raise_for_status()
