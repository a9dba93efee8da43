"""The load generator of bench/during_meeting.py: bench/_rollcall_clients.py's phones and boards,
which also speak the desk's messages (issue #19).

A phone may ask to speak (`speak_request`) or report an incident (`incident`) at its own moment
of the roll call's window, and counts every `announcement` it receives (answering
`announcement_seen` at once, as the check-in page does); a board records the speaking requests,
incidents and announcement counts its deltas carry. The worker (`DeskWorker`) is
bench/_rollcall_worker.py's with these clients and one more command, `desk`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from multiprocessing.connection import Connection
from typing import Any

from _rollcall_clients import BoardClient, PointClient, WorkerPlan
from _rollcall_worker import Worker, raise_fd_limit
from websockets.exceptions import ConnectionClosed


class DeskPoint(PointClient):
    """A chair's phone that also asks to speak or reports an incident, and reads announcements."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desk_kind: str | None = None  # "speak" or "incident"
        self.desk_id: str | None = None
        self.desk_sent_at: float | None = None
        self.desk_acked_at: float | None = None
        self.desk_acks = 0
        self.desk_errors: list[str] = []
        # announcement id → the monotonic times it arrived (once, if nothing is duplicated)
        self.announcements: dict[str, list[float]] = {}

    def _take(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "announcement" and message.get("text"):
            announcement_id = str(message.get("announcement_id"))
            self.announcements.setdefault(announcement_id, []).append(time.monotonic())
            if len(self.announcements[announcement_id]) == 1 and self.ws is not None:
                seen = {"type": "announcement_seen", "announcement_id": announcement_id}
                self.tasks.append(asyncio.create_task(self._send(seen)))
            return
        if kind in ("ack", "error") and self.desk_id and message.get("id") == self.desk_id:
            if kind == "ack":
                self.desk_acks += 1
                if self.desk_acked_at is None:
                    self.desk_acked_at = time.monotonic()
            else:
                self.desk_errors.append(f"{message.get('status_code')}: {message.get('detail')}")
            return
        if kind == "ack" and message.get("id") in self.announcements:
            return  # the ack of `announcement_seen`
        super()._take(message)

    async def _send(self, message: dict[str, Any]) -> None:
        if self.ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await self.ws.send(json.dumps(message))

    async def desk_at(self, when: float, kind: str) -> None:
        """Ask to speak (`speak`) or report an incident (`incident`) at monotonic `when`."""
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        if self.ws is None or self.failure:
            return
        self.desk_kind = kind
        self.desk_id = f"{self.plan.run_id}-{kind}-{self.spec.point_id}"
        if kind == "speak":
            message = {
                "type": "speak_request",
                "request_id": self.desk_id,
                "topic": f"Ý kiến của điểm cầu {self.spec.point_id}",
                "minutes": 5,
            }
        else:
            message = {"type": "incident", "incident_id": self.desk_id, "kind": "no_audio"}
        self.desk_sent_at = time.monotonic()
        await self._send(message)

    def result(self) -> dict[str, Any]:
        """The roll call's result and the desk's."""
        return super().result() | {
            "desk_kind": self.desk_kind,
            "desk_id": self.desk_id,
            "desk_sent_at": self.desk_sent_at,
            "desk_acked_at": self.desk_acked_at,
            "desk_acks": self.desk_acks,
            "desk_errors": self.desk_errors[:5],
            "announcements": self.announcements,
        }


class DeskBoard(BoardClient):
    """A live board that also records the desk's deltas."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests_seen: dict[str, float] = {}  # speaking request id → first seen
        self.incidents_seen: dict[str, float] = {}
        self.incident_repeats = 0
        self.announcement_counts: dict[str, tuple[int, int, int]] = {}  # addressed, seen, acked

    def _delta(self, delta: dict[str, Any], now: float) -> None:
        kind = delta.get("type")
        fresh = int(delta.get("version", 0)) not in self.versions
        super()._delta(delta, now)
        if not fresh:
            return
        if kind == "speaking":
            for item in delta.get("queue", []):
                self.requests_seen.setdefault(str(item.get("request_id")), now)
        elif kind == "incident" and delta.get("state") == "open":
            incident_id = str(delta.get("incident_id"))
            if incident_id in self.incidents_seen:
                self.incident_repeats += 1
            else:
                self.incidents_seen[incident_id] = now
        elif kind == "announcement":
            announcement_id = str(delta.get("announcement_id"))
            old = self.announcement_counts.get(announcement_id, (0, 0, 0))
            counts = (
                int(delta.get("addressed") or old[0]),
                int(delta.get("seen") or 0),
                int(delta.get("acknowledged") or 0),
            )
            self.announcement_counts[announcement_id] = max(old, counts)

    def result(self) -> dict[str, Any]:
        """The roll call's result and the desk's."""
        return super().result() | {
            "requests_seen": self.requests_seen,
            "incidents_seen": self.incidents_seen,
            "incident_repeats": self.incident_repeats,
            "announcement_counts": self.announcement_counts,
        }


class DeskWorker(Worker):
    """bench/_rollcall_worker.py's worker with the desk's clients and a `desk` command."""

    def __init__(self, plan: WorkerPlan, conn: Connection) -> None:
        super().__init__(plan, conn)
        self.points = [DeskPoint(spec, plan) for spec in plan.points]
        self.boards = [DeskBoard(spec, plan) for spec in plan.boards]
        self.desk: list[asyncio.Task[None]] = []

    async def run(self) -> None:
        """The parent's commands, `desk` included."""
        while True:
            command, argument = await asyncio.to_thread(self.conn.recv)
            if command == "desk":
                answer: Any = await self.schedule_desk(argument)
            else:
                answer = await getattr(self, command)(argument)
            self.conn.send(answer)
            if command == "close":
                return

    async def schedule_desk(self, plan: tuple[float, float, dict[int, str]]) -> int:
        """Each point named in `plan` asks to speak or reports an incident at a random moment
        of `window` seconds from `start_at`."""
        start_at, window, kinds = plan
        scheduled = 0
        for point in self.points:
            kind = kinds.get(point.spec.point_id)
            if kind is not None:
                when = start_at + self.rng.uniform(0, window)
                self.desk.append(asyncio.create_task(point.desk_at(when, kind)))
                scheduled += 1
        return scheduled

    def _desk_pending(self) -> bool:
        """A desk message sent, neither acknowledged nor refused yet."""
        return any(
            p.desk_sent_at is not None and p.desk_acked_at is None and not p.desk_errors
            for p in self.points
        )

    async def finish(self, argument: tuple[float, frozenset[int] | None]) -> dict[str, Any]:
        """Also wait (within the deadline) for the desk's messages to be sent."""
        deadline, _expected = argument
        if self.desk:
            await asyncio.wait(self.desk, timeout=max(0.0, deadline - time.monotonic()))
        while time.monotonic() < deadline and self._desk_pending():  # noqa: ASYNC110 - polled
            await asyncio.sleep(0.05)
        # A board's counts of the announcements catch up as the receipts, served last in the
        # meeting's writer, are stored: wait (within the deadline) for every phone's `seen`.
        while time.monotonic() < deadline and self._counts_pending():  # noqa: ASYNC110 - polled
            await asyncio.sleep(0.05)
        return await super().finish(argument)

    def _counts_pending(self) -> bool:
        """A board of this worker counts fewer `seen` than an announcement addressed."""
        return any(
            seen < addressed
            for board in self.boards
            if isinstance(board, DeskBoard)
            for addressed, seen, _acked in board.announcement_counts.values()
        )


def desk_worker_main(conn: Connection, plan: WorkerPlan) -> None:
    """Entry point of a load-generator process."""
    raise_fd_limit()
    asyncio.run(DeskWorker(plan, conn).run())
