"""The live hub's fan-out: a delta for every point's socket is handed out in turns, so the
process serves its other sockets meanwhile, and each socket still gets its deltas in order."""

from __future__ import annotations

import asyncio
from typing import Any

from confhub.attendance.hub import AttendanceHub, LiveClient, MeetingRoom

MEETING = 3
POINTS = 600


def announcement(version: int) -> dict[str, Any]:
    return {
        "type": "announcement",
        "version": version,
        "announcement_id": "a1",
        "text": "Tắt micrô",
    }


def checkin(version: int, point_id: int) -> dict[str, Any]:
    return {"type": "checkin", "version": version, "point_id": point_id, "status": "present"}


async def test_a_delta_for_every_point_is_handed_out_while_the_process_serves_others() -> None:
    hub = AttendanceHub(channels=None, session_factory=None)  # type: ignore[arg-type]
    room = MeetingRoom(MEETING, delivered=0)
    phones = [LiveClient(MEETING, frozenset({point_id})) for point_id in range(1, POINTS + 1)]
    boards = [LiveClient(MEETING) for _ in range(3)]
    for client in [*phones, *boards]:
        room.add(client)

    # Another socket's work, one step per turn of the loop: what it sees of the fan-out.
    handed_out_seen: list[int] = []

    async def other_socket() -> None:
        while True:
            handed_out_seen.append(sum(bool(phone.pending) for phone in phones))
            await asyncio.sleep(0)

    other = asyncio.create_task(other_socket())
    await asyncio.sleep(0)
    try:
        await hub.deliver(room, [announcement(1), checkin(2, 7)])
    finally:
        other.cancel()

    # The other socket was served while the announcement went out, not only before and after.
    assert any(0 < seen < POINTS for seen in handed_out_seen), handed_out_seen[:5]
    assert all(phone.pending[0]["version"] == 1 for phone in phones)
    # The check-in after it reached its point and every board, after the announcement.
    assert [m["version"] for m in phones[6].pending] == [1, 2]
    assert all([m["version"] for m in board.pending] == [1, 2] for board in boards)
    assert all(len(phone.pending) == 1 for n, phone in enumerate(phones) if n != 6)
    assert room.delivered == 2


async def test_a_socket_joining_during_the_fan_out_gets_the_deltas_after_it() -> None:
    hub = AttendanceHub(channels=None, session_factory=None)  # type: ignore[arg-type]
    room = MeetingRoom(MEETING, delivered=0)
    for point_id in range(1, POINTS + 1):
        room.add(LiveClient(MEETING, frozenset({point_id})))
    late = LiveClient(MEETING, frozenset({1}))

    async def join_meanwhile() -> None:
        await asyncio.sleep(0)
        room.add(late)  # it took a snapshot with the announcement already in it

    joining = asyncio.create_task(join_meanwhile())
    await hub.deliver(room, [announcement(1)])
    await joining
    await hub.deliver(room, [checkin(2, 1)])

    assert [m["version"] for m in late.pending] == [2]
