"""Prometheus metrics of one confhub process, served at `/metrics` (prometheus_client).

Each `confhub serve` process answers for itself, and Prometheus scrapes every process on its own
port (the deployment in docs/deploy.md). `confhub serve --workers N` shares one port between
workers, so it turns on prometheus_client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`): the
metrics live in files every worker writes and any worker's `/metrics` sums them.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from confhub.core.tasks import cancelled

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format every Prometheus version reads (the web layer adds the charset).
CONTENT_TYPE = "text/plain; version=0.0.4"
UNMATCHED_ROUTE = "<unmatched>"

HTTP_REQUESTS = Counter(
    "confhub_http_requests",
    "HTTP requests answered, by method, route (the path template) and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "confhub_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_IN_PROGRESS = Gauge(
    "confhub_http_requests_in_progress",
    "HTTP requests being answered now.",
    multiprocess_mode="livesum",
)
WEBSOCKETS_OPEN = Gauge(
    "confhub_websockets_open",
    "Live-channel websockets open now: boards (every point) and points' clients.",
    ["kind"],
    multiprocess_mode="livesum",
)
WEBSOCKETS_ACCEPTED = Counter(
    "confhub_websockets_accepted",
    "Live-channel websockets let in, by kind.",
    ["kind"],
)
WEBSOCKETS_REFUSED = Counter(
    "confhub_websockets_refused",
    "Live-channel handshakes refused, by reason: origin, meeting (an impossible id), "
    "credentials (none that could be one), rate (too many from one address: 429), "
    "busy (too many links being looked up at once: 503), "
    "not_allowed (no access to that meeting: an unknown or revoked link, say).",
    ["reason"],
)
CHECKINS = Counter(
    "confhub_checkins",
    "Roll-call answers committed (the first of each idempotency key), by status.",
    ["status"],
)
LIVE_DELTAS = Counter(
    "confhub_live_deltas_delivered",
    "Attendance deltas this process handed to its websockets' queues.",
)
FANOUT_LAG = Histogram(
    "confhub_live_fanout_lag_seconds",
    "Time from a delta's commit (in any process) to its delivery to this process's websockets.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
# A meeting's attendance writes go one transaction at a time through its writer queue
# (`confhub.attendance.writer`): how long each class waited for its turn, and how long it held it.
_WRITER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
WRITER_WAIT = Histogram(
    "confhub_writer_wait_seconds",
    "Time a meeting's attendance write waited for its turn in the writer queue, by class "
    "(checkin, desk, background).",
    ["priority"],
    buckets=_WRITER_BUCKETS,
)
WRITER_HELD = Histogram(
    "confhub_writer_held_seconds",
    "Time a meeting's attendance write held the writer queue (its transaction), by class.",
    ["priority"],
    buckets=_WRITER_BUCKETS,
)
CHECKIN_ANSWER = Histogram(
    "confhub_live_checkin_seconds",
    "Time from a check-in read on the live channel to its ack sent (stored and committed "
    "meanwhile): what a chair's phone waits, as this process sees it.",
    buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0),
)
# A timer due every LOOP_WATCH_INTERVAL and how late it ran: the longest stretch of work the
# process did without yielding (a fan-out, a collection, a large statement's rows), which every
# socket and request of the process waited through.
LOOP_WATCH_INTERVAL = 0.05
EVENT_LOOP_LAG = Histogram(
    "confhub_event_loop_lag_seconds",
    f"How late a timer due every {LOOP_WATCH_INTERVAL:g} s ran: the process busy without "
    "yielding to its other sockets and requests.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
GC_PAUSES = Histogram(
    "confhub_gc_pause_seconds",
    "Pauses of Python's cyclic garbage collector (the whole process waits), by generation.",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
DB_POOL_CHECKED_OUT = Gauge(
    "confhub_db_pool_checked_out",
    "Database connections lent out by the pool now.",
    multiprocess_mode="livesum",
)
DB_STATEMENTS = Counter(
    "confhub_db_statements",
    "SQL statements this process sent to the database.",
)
DB_POOL_SIZE = Gauge(
    "confhub_db_pool_size",
    "Connections the pool keeps open (its size; overflow comes on top).",
    multiprocess_mode="livesum",
)


def websocket_kind(point_ids: frozenset[int] | None) -> str:
    """`board` for a socket that sees every point, `point` for a point's own client."""
    return "board" if point_ids is None else "point"


def checkins_committed(messages: list[dict[str, Any]]) -> None:
    """Count the check-in deltas of a committed transaction."""
    for message in messages:
        if message.get("type") == "checkin":
            CHECKINS.labels(status=str(message.get("status", "unknown"))).inc()


def instrument_pool(engine: AsyncEngine) -> None:
    """Follow the engine's pool (connections lent out now, the pool's size) and count the
    statements sent."""
    target: Any = engine.sync_engine
    size = getattr(target.pool, "size", None)
    DB_POOL_SIZE.set(size() if callable(size) else 0)
    if getattr(target, "_confhub_instrumented", False):
        return
    target._confhub_instrumented = True
    event.listen(target, "checkout", lambda *_: DB_POOL_CHECKED_OUT.inc())
    event.listen(target, "checkin", lambda *_: DB_POOL_CHECKED_OUT.dec())
    event.listen(target, "before_cursor_execute", lambda *_: DB_STATEMENTS.inc())


def instrument_gc() -> None:
    """Time every collection of the cyclic garbage collector (once per process)."""
    if any(getattr(callback, "_confhub", False) for callback in gc.callbacks):
        return
    started: list[float] = [0.0]

    def observe(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pause = time.perf_counter() - started[0]
            GC_PAUSES.labels(generation=str(info["generation"])).observe(pause)

    observe._confhub = True  # type: ignore[attr-defined]
    gc.callbacks.append(observe)


class LoopWatch:
    """Measures the event loop's lag while the app serves (`EVENT_LOOP_LAG`)."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._watch(), name="confhub-loop-watch"
            )

    async def stop(self) -> None:
        """Stop watching."""
        task, self._task = self._task, None
        await cancelled(task)

    @staticmethod
    async def _watch() -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LOOP_WATCH_INTERVAL
            await asyncio.sleep(LOOP_WATCH_INTERVAL)
            EVENT_LOOP_LAG.observe(max(loop.time() - due, 0.0))


def exposition() -> tuple[bytes, str]:
    """The text exposition of every metric, and its content type."""
    registry: Any = REGISTRY
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE
