"""The meeting's writer queue in a roll call: check-ins first, then the desk's work, then receipts
and presence, each class in its order of arrival, no class passed over for long, nothing lost.
The queue alone, then a check-in arriving behind a burst of announcement receipts on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from confhub.accounts.models import Role, User
from confhub.accounts.principal import Principal
from confhub.attendance.access import Access
from confhub.attendance.desk import live as desk_live
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


@dataclass
class PhoneSocket:
    """One point's live connection as the desk's message handlers see it: what it was sent."""

    meeting_id: int
    desk: DeskWriter
    access: Access
    sent: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def _send(self, message: dict[str, Any]) -> None:
        self.sent.put_nowait(message)


async def test_a_phone_s_receipt_does_not_hold_up_its_check_in_sent_after_it(
    announced: Announced,
) -> None:
    meeting = announced
    point_id = meeting.points[0]
    phone = PhoneSocket(
        meeting.meeting_id,
        meeting.desk,
        Access(Actor.of_link(point_id), frozenset({point_id}), False),
    )
    seen = desk_live.handlers(phone)["announcement_seen"]
    async with one_writer(meeting.db_config, meeting.meeting_id, Priority.DESK):
        # The socket hands the receipt over and reads its next message: the check-in.
        await seen({"type": "announcement_seen", "announcement_id": meeting.announcement_id})
        checkin = _check_in(meeting, point_id)
        await _queued()
    outcome = await checkin
    assert phone.sent.empty(), "the check-in is stored before the receipt sent ahead of it"
    ack = await phone.sent.get()
    assert ack["type"] == "ack" and ack["id"] == meeting.announcement_id
    assert ack["version"] > outcome.record.version

    # A receipt for an announcement that does not exist is refused on the socket, later.
    await seen({"type": "announcement_seen", "announcement_id": "no-such-announcement"})
    refused = await phone.sent.get()
    assert refused["type"] == "error" and refused["id"] == "no-such-announcement"
    assert phone.sent.empty()
