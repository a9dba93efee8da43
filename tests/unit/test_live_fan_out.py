"""The live hub's fan-out: a delta for every point's socket is queued for each in order, but
their senders are woken in turns, so the process serves its other sockets meanwhile, and a
check-in after it reaches the boards without waiting for every phone's turn."""

from __future__ import annotations

import asyncio
from typing import Any

from confhub.attendance.hub import AttendanceHub, LiveClient, MeetingRoom

MEETING = 3
POINTS = 600


def announcement(version: int) -> dict[str, Any]:
    return {"type": "announcement", "version": version, "announcement_id": "a1", "text": "Tắt mic"}


def checkin(version: int, point_id: int) -> dict[str, Any]:
    return {"type": "checkin", "version": version, "point_id": point_id, "status": "present"}


class Wakes:
    """The order in which clients' senders were woken, and what else ran meanwhile."""

    def __init__(self, expected: int) -> None:
        self.order: list[tuple[str, int]] = []
        self.expected = expected
        self.all_woken = asyncio.Event()

    def of(self, client: LiveClient, name: str) -> None:
        def wake() -> None:
            self.order.append((name, len(client.pending)))
            self.expected -= 1
            if self.expected == 0:
                self.all_woken.set()

        client.wake = wake


async def test_a_delta_for_every_point_wakes_their_senders_in_turns() -> None:
    hub = AttendanceHub(channels=None, session_factory=None)  # type: ignore[arg-type]
    room = MeetingRoom(MEETING, delivered=0)
    # Every socket woken for the announcement, then the boards and point 7 for the check-in.
    wakes = Wakes(expected=POINTS + 3 + 4)
    phones = [LiveClient(MEETING, frozenset({point_id})) for point_id in range(1, POINTS + 1)]
    boards = [LiveClient(MEETING) for _ in range(3)]
    for n, client in enumerate([*phones, *boards]):
        room.add(client)
        wakes.of(client, "board" if client.point_ids is None else f"phone {n + 1}")

    async def other_socket() -> None:  # another socket's work, one step per turn of the loop
        while True:
            wakes.order.append(("other socket", 0))
            await asyncio.sleep(0)

    other = asyncio.create_task(other_socket())
    await asyncio.sleep(0)
    try:
        await hub.deliver(room, [announcement(1), checkin(2, 7)])
        await asyncio.wait_for(wakes.all_woken.wait(), timeout=10)
    finally:
        other.cancel()

    woken = [name for name, _ in wakes.order]
    # The room's clients are a set: its phones are woken in no fixed order ("phone 1" may come
    # in the last turn), so the first and last woken are looked for by kind, not by name.
    phones_woken = [i for i, name in enumerate(woken) if name.startswith("phone")]
    first_phone, last_phone = phones_woken[0], phones_woken[-1]
    # The other socket was served while the phones were woken, not only before and after.
    assert "other socket" in woken[first_phone:last_phone]
    # The check-in's boards and point were woken before the announcement reached every phone.
    assert woken.index("board") < last_phone
    # Every socket has its deltas queued in version order.
    assert all(
        [m["version"] for m in phone.pending] == [1] for n, phone in enumerate(phones) if n != 6
    )
    assert [m["version"] for m in phones[6].pending] == [1, 2]
    assert all([m["version"] for m in board.pending] == [1, 2] for board in boards)
    assert room.delivered == 2
