"""The load-generator processes of bench/rollcall.py: each runs point clients or boards
(bench/_rollcall_clients.py, never both) and obeys the parent's commands over a pipe."""

from __future__ import annotations

import asyncio
import random
import resource
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from _rollcall_clients import BoardClient, PointClient, WorkerPlan


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
        self.openings: list[asyncio.Task[None]] = []

    async def run(self) -> None:
        """Answer the parent's commands until `close`."""
        handlers: dict[str, Callable[[Any], Awaitable[Any]]] = {
            "connect": self.connect,
            "status": self.status,
            "start": self.start,
            "finish": self.finish,
            "close": self.close,
            "rush": self.rush,
            "storm": self.storm,
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
            board.frames, board.chars, board.deltas, board.kinds = 0, 0, 0, {}
        for point in self.points:
            when = start_at + self.rng.uniform(0, self.plan.window)
            delegates = self.rng.randint(3, 60)
            self.checkins.append(asyncio.create_task(point.check_in_at(when, delegates)))
        return "started"

    async def rush(self, plan: dict[str, float]) -> str:
        """Schedule the rush: each point connects at a random moment of `connect_over` seconds
        and checks in at one of `checkin_over` (at once if it connected later); each board
        opens at a random moment of `boards_over`. Counted from `start_at`."""
        start_at = plan["start_at"]
        for board in self.boards:
            when = start_at + self.rng.uniform(0, plan["boards_over"])
            self.openings.append(asyncio.create_task(board.open_at(when)))
        for point in self.points:
            connect_at = start_at + self.rng.uniform(0, plan["connect_over"])
            checkin_at = start_at + self.rng.uniform(0, plan["checkin_over"])
            delegates = self.rng.randint(3, 60)
            self.checkins.append(asyncio.create_task(point.rush(connect_at, checkin_at, delegates)))
        return "scheduled"

    async def storm(self, argument: tuple[float, int]) -> dict[str, Any]:
        """Every connected point's socket drops at `start_at` and reconnects at once (at most
        `concurrency` handshakes in flight from this process); when the last got its snapshot."""
        start_at, concurrency = argument
        gate = asyncio.Semaphore(concurrency)
        connected = [p for p in self.points if p.ws is not None]

        async def one(point: PointClient) -> None:
            async with gate:
                await point.reconnect()

        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        await asyncio.gather(*(one(point) for point in connected))
        return {"back_at": time.monotonic(), "reconnected": len(connected)}

    async def finish(self, argument: tuple[float, frozenset[int] | None]) -> dict[str, Any]:
        """Wait (until `deadline`) for every ack, or every board to see `expected`; report."""
        deadline, expected = argument
        if self.openings:
            await asyncio.wait(self.openings, timeout=max(0.0, deadline - time.monotonic()))
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
        return expected is None or all(
            expected <= b.seen.keys() | b.from_snapshot for b in self.boards if b.failure is None
        )

    async def close(self, _: Any) -> str:
        """Close every socket."""
        clients: list[PointClient | BoardClient] = [*self.points, *self.boards]
        await asyncio.gather(*(client.close() for client in clients))
        return "closed"


def worker_main(conn: Connection, plan: WorkerPlan) -> None:
    """Entry point of a load-generator process."""
    raise_fd_limit()
    asyncio.run(Worker(plan, conn).run())
