"""The meeting's writer queue in a roll call: check-ins first, then the desk's work, then receipts
and presence, each class in its order of arrival, no class passed over for long, nothing lost.
The queue alone, then a check-in arriving behind a burst of announcement receipts on SQLite."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import select

from confhub.accounts.models import Role, User
from confhub.accounts.principal import Principal
from confhub.attendance.desk.announcements import Receipt
from confhub.attendance.desk.models import AnnouncementReceipt
from confhub.attendance.desk.schemas import AnnouncementWrite
from confhub.attendance.desk.writer import DeskWriter
from confhub.attendance.models import AttendanceEvent
from confhub.attendance.rollcall import CheckinOutcome
from confhub.attendance.schemas import CheckinWrite
from confhub.attendance.writer import (
    PASSED_OVER_AT_MOST,
    AttendanceWriter,
    Priority,
    WriterQueue,
    one_writer,
    writer_queue,
)
from confhub.db.engine import sqlalchemy_config
from confhub.demo import DemoSeed
from confhub.meetings.actors import Actor
from confhub.meetings.models import Invitation
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


async def _write(queue: WriterQueue, priority: Priority, name: str, order: list[str]) -> None:
    async with queue.hold(priority):
        order.append(name)
        await asyncio.sleep(0)  # a transaction's worth of waiting, others queueing meanwhile


async def _queued(*tasks: asyncio.Task[None]) -> None:
    """Let every task reach the queue."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_check_ins_go_first_then_the_desk_then_receipts_each_in_arrival_order() -> None:
    queue = WriterQueue()
    order: list[str] = []
    await queue.acquire(Priority.DESK)  # a transaction in progress; everybody below waits
    arrivals = [
        (Priority.BACKGROUND, "receipts 1"),
        (Priority.DESK, "speaking request 1"),
        (Priority.BACKGROUND, "presence"),
        (Priority.CHECKIN, "check-in 1"),
        (Priority.DESK, "announcement"),
        (Priority.CHECKIN, "check-in 2"),
    ]
    tasks = []
    for priority, name in arrivals:
        tasks.append(asyncio.create_task(_write(queue, priority, name, order)))
        await _queued()
    queue.release()
    await asyncio.gather(*tasks)

    assert order == [
        "check-in 1",
        "check-in 2",
        "speaking request 1",
        "announcement",
        "receipts 1",
        "presence",
    ]


async def test_desk_and_receipts_still_progress_while_check_ins_keep_coming() -> None:
    queue = WriterQueue()
    order: list[str] = []

    async def checkins(rounds: int) -> None:
        # As the check-ins' worker does: a burst stored, the next one asked for at once.
        for n in range(rounds):
            async with queue.hold(Priority.CHECKIN):
                order.append(f"check-in {n}")
                await asyncio.sleep(0)

    await queue.acquire(Priority.CHECKIN)
    worker = asyncio.create_task(checkins(30))
    desk = [asyncio.create_task(_write(queue, Priority.DESK, f"desk {n}", order)) for n in range(3)]
    receipts = asyncio.create_task(_write(queue, Priority.BACKGROUND, "receipts", order))
    await _queued()
    queue.release()
    await asyncio.gather(worker, *desk, receipts)

    assert len(order) == 30 + 3 + 1, "every writer had its turn once"
    assert [name for name in order if name.startswith("desk")] == ["desk 0", "desk 1", "desk 2"]
    last_checkin = order.index("check-in 29")
    # The desk and the receipts were served while check-ins still waited, not after them all.
    assert order.index("desk 2") < last_checkin and order.index("receipts") < last_checkin
    # ... each waiting no more turns in a row than the bound allows.
    served = [n for n, name in enumerate(order) if name.startswith("desk")]
    turns_waited = [b - a - 1 for a, b in zip([-1, *served], served, strict=False)]
    assert max(turns_waited) <= PASSED_OVER_AT_MOST[Priority.DESK], order
    assert order.index("receipts") <= PASSED_OVER_AT_MOST[Priority.BACKGROUND]


async def test_a_writer_cancelled_while_waiting_does_not_stop_the_queue() -> None:
    queue = WriterQueue()
    order: list[str] = []
    await queue.acquire(Priority.DESK)
    gone = asyncio.create_task(_write(queue, Priority.CHECKIN, "gone", order))
    stays = asyncio.create_task(_write(queue, Priority.BACKGROUND, "stays", order))
    await _queued()
    gone.cancel()
    await _queued()
    queue.release()
    await stays
    assert order == ["stays"]
    async with queue.hold(Priority.DESK):  # and the queue is free again
        pass


@dataclass
class Announced:
    """The demo's upcoming meeting on SQLite, an announcement sent to all its points."""

    db_config: Any
    meeting_id: int
    points: list[int]
    announcement_pk: int
    announcement_id: str
    desk: DeskWriter
    attendance: AttendanceWriter


@pytest.fixture
async def announced(demo_db: str, demo_seed: DemoSeed, tmp_path: Path) -> AsyncIterator[Announced]:
    db_config = sqlalchemy_config(make_settings(demo_db, tmp_path))
    desk = DeskWriter(db_config)
    meeting_id = demo_seed.upcoming_meeting_id
    try:
        async with db_config.get_session() as session:
            user = await session.scalar(select(User).where(User.email == demo_seed.organizer_email))
            assert user is not None
            points = sorted(
                await session.scalars(
                    select(Invitation.point_id).where(Invitation.meeting_id == meeting_id)
                )
            )
        secretariat = Principal(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=Role.SECRETARIAT,
            province_code=38,
            unit_code=None,
        )
        sent = await desk.announce(
            meeting_id, secretariat, AnnouncementWrite(text="5 phút nữa bắt đầu")
        )
        yield Announced(
            db_config,
            meeting_id,
            points,
            sent.announcement.id,
            sent.announcement.announcement_id,
            desk,
            AttendanceWriter(db_config),
        )
    finally:
        await db_config.get_engine().dispose()


def _check_in(meeting: Announced, point_id: int) -> asyncio.Task[CheckinOutcome]:
    data = CheckinWrite(point_id, "present", f"late-{point_id}", delegates_present=1)
    return asyncio.create_task(
        meeting.attendance.submit(meeting.meeting_id, Actor.of_link(point_id), data)
    )


async def _versions(meeting: Announced) -> list[int]:
    async with meeting.db_config.get_session() as session:
        return list(
            await session.scalars(
                select(AttendanceEvent.version)
                .where(AttendanceEvent.meeting_id == meeting.meeting_id)
                .order_by(AttendanceEvent.version)
            )
        )


async def test_a_check_in_behind_a_burst_of_receipts_is_acknowledged_first_and_none_is_lost(
    announced: Announced,
) -> None:
    meeting = announced
    readers, late = meeting.points[:100], meeting.points[100]
    assert len(readers) == 100

    # Every phone shows the announcement and says so, seen then acknowledged: 200 receipts queue
    # while the meeting's writer is busy; then one chair checks in.
    receipts: list[asyncio.Task[int | None]] = []
    async with one_writer(meeting.db_config, meeting.meeting_id, Priority.DESK):
        for acknowledged in (False, True):
            for point_id in readers:
                receipt = Receipt(
                    Actor.of_link(point_id), point_id, meeting.announcement_id, acknowledged
                )
                receipts.append(
                    asyncio.create_task(meeting.desk.receipt(meeting.meeting_id, receipt))
                )
        await _queued()
        checkin = _check_in(meeting, late)
        await _queued()
    outcome = await checkin
    stored_when_acknowledged = sum(task.done() for task in receipts)
    versions = await asyncio.gather(*receipts)

    async with meeting.db_config.get_session() as session:
        rows = list(
            await session.scalars(
                select(AnnouncementReceipt).where(
                    AnnouncementReceipt.announcement_pk == meeting.announcement_pk,
                    AnnouncementReceipt.point_id.in_(readers),
                )
            )
        )
    logged = await _versions(meeting)

    assert stored_when_acknowledged == 0, "acknowledged before the receipts were stored"
    # Stored before them: its version is below every receipt's.
    assert all(v is not None and v > outcome.record.version for v in versions)
    # Nothing lost or doubled: each reader seen and acknowledged once.
    assert len(rows) == 100
    assert all(row.seen_at is not None and row.acknowledged_at is not None for row in rows)
    assert logged == list(range(logged[0], logged[0] + len(logged))), "versions without a gap"


class InLoopSocket:
    """A live-channel connection to the app run in the test's own event loop, spoken in raw ASGI
    messages: the test holds the meeting's writer queue that the app's handlers wait in."""

    def __init__(self, app: Litestar, meeting_id: int, token: str) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        path = f"/ws/meetings/{meeting_id}"
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 50000),
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": f"token={token}".encode(),
            "headers": [(b"host", b"testserver")],
            "subprotocols": [],
            "state": {},
            "extensions": {},
        }
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.task = asyncio.create_task(app(scope, self.inbox.get, self.outbox.put))  # type: ignore[arg-type]

    async def receive(self) -> dict[str, Any]:
        """The next message the server sent (JSON), skipping the handshake's accept."""
        while True:
            event = await asyncio.wait_for(self.outbox.get(), timeout=10)
            if event["type"] == "websocket.send":
                message: dict[str, Any] = json.loads(event.get("text") or event["bytes"])
                return message
            assert event["type"] == "websocket.accept", event

    def send(self, message: dict[str, Any]) -> None:
        """Send a JSON message to the server."""
        self.inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(message)})

    async def close(self) -> None:
        """The client goes away; the server's side ends."""
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, timeout=10)


async def test_a_phone_s_desk_messages_do_not_hold_up_its_check_in_sent_after_them(
    demo_app: Litestar, demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    async with demo_app.lifespan():
        db_config = demo_app.state.db_config
        queue = writer_queue(db_config, meeting_id)
        phone = InLoopSocket(demo_app, meeting_id, demo_seed.cam_tu_token)
        snapshot = await phone.receive()
        assert snapshot["type"] == "snapshot"
        (point_id,) = {row["point_id"] for row in snapshot["points"]}
        async with one_writer(db_config, meeting_id, Priority.DESK):
            # While the meeting's writer is busy, the chair asks to speak, reports lost sound,
            # says it saw an announcement that does not exist, then checks in.
            phone.send(
                {"type": "speak_request", "request_id": "r1", "topic": "Bão số 5", "minutes": 5}
            )
            phone.send({"type": "incident", "incident_id": "i1", "kind": "no_audio"})
            phone.send({"type": "announcement_seen", "announcement_id": "no-such-announcement"})
            phone.send(
                {
                    "type": "checkin",
                    "point_id": point_id,
                    "status": "present",
                    "idempotency_key": "k1",
                    "delegates_present": 12,
                }
            )
            # The socket read on past the three: the check-in waits for the queue beside them.
            for _ in range(1000):
                if queue.waiting(Priority.CHECKIN):
                    break
                await asyncio.sleep(0.01)
            assert queue.waiting(Priority.CHECKIN) == 1, "the check-in was not read"
        # Its answers (the deltas of what was stored come on the same socket, and are skipped).
        answers: list[dict[str, Any]] = []
        while len(answers) < 4:
            message = await phone.receive()
            if message["type"] in ("ack", "error"):
                answers.append(message)
        await phone.close()
    acks = [m for m in answers if m["type"] == "ack"]
    # The check-in is stored and acknowledged first, the desk's messages after it, each once.
    assert acks[0].get("idempotency_key") == "k1"
    assert [a["id"] for a in acks[1:]] in (["r1", "i1"], ["i1", "r1"])
    assert all(a["version"] > acks[0]["version"] for a in acks[1:])
    # The receipt naming no announcement is refused on the socket, by its id.
    (refused,) = [m for m in answers if m["type"] == "error"]
    assert refused["id"] == "no-such-announcement" and refused["status_code"] == 404
