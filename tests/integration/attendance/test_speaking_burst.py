"""A burst of speaking requests (and incidents) from many points at once, in-process on SQLite:
the requests stored in one transaction reach the boards as one `speaking` delta carrying the
whole queue (not one copy of the queue each), each asking point is still told of its own
request and its place, each is acknowledged with the version of a delta that shows it, and the
event log stays one gap-free run of versions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from confhub.attendance.desk.schemas import IncidentReport
from confhub.attendance.desk.writer import DeskWriter
from confhub.attendance.speaking.desk import Asked, SpeakingDesk
from confhub.attendance.speaking.schemas import SpeakRequestWrite
from confhub.attendance.targeting import view_for
from confhub.db.engine import sqlalchemy_config
from confhub.demo import DemoSeed
from confhub.meetings.actors import Actor
from confhub.meetings.models import Invitation, Meeting
from tests.conftest import make_settings
from tests.integration.attendance.conftest import events_after

pytestmark = pytest.mark.integration


async def test_a_burst_of_requests_reaches_the_board_as_one_queue(
    demo_db: str, demo_seed: DemoSeed, tmp_path: Path
) -> None:
    db_config = sqlalchemy_config(make_settings(demo_db, tmp_path))
    speaking, desk = SpeakingDesk(db_config), DeskWriter(db_config)
    meeting_id = demo_seed.upcoming_meeting_id
    try:
        start, points = await _version_and_points(db_config, meeting_id, 24)

        # Every point asks to speak at once; every third also reports lost sound, and one
        # phone sends its request twice (resending from its outbox before the first ack).
        burst: list[Awaitable[Any]] = []
        for n, point_id in enumerate(points):
            link = Actor.of_link(point_id)
            asking = SpeakRequestWrite(f"burst-{n}", f"Ý kiến số {n}", 3)
            burst.append(speaking.ask(meeting_id, link, asking))
            if n == 5:
                burst.append(speaking.ask(meeting_id, link, asking))
            if n % 3 == 0:
                lost = IncidentReport(f"mat-tieng-{n}", "no_audio", point_id=point_id)
                burst.append(desk.report(meeting_id, link, lost))
        results = await asyncio.gather(*burst)

        logged = await events_after(db_config, meeting_id, start)
    finally:
        await db_config.get_engine().dispose()

    asked = [r for r in results if isinstance(r, Asked)]
    assert len(asked) == len(points) + 1
    assert sum(a.created for a in asked) == len(points), "the repeat stored nothing"
    versions = [e.version for e in logged]
    assert versions == list(range(start + 1, start + len(logged) + 1)), "one gap-free run"
    told = [e.payload for e in logged if e.type == "speaking"]
    assert 1 <= len(told) < len(points), "requests stored together are told together"
    assert len([e for e in logged if e.type == "incident"]) == len(points[::3])

    # The board's last delta shows the whole queue, in the order asked.
    queue = told[-1]["queue"]
    assert [i["request_id"] for i in queue] == [f"burst-{n}" for n in range(len(points))]
    assert [i["position"] for i in queue] == list(range(1, len(points) + 1))

    by_version = {e.version: e.payload for e in logged}
    for answer in asked:
        request_id = answer.request["request_id"]
        delta = by_version[answer.version]
        assert delta["type"] == "speaking", request_id
        assert request_id in {i["request_id"] for i in delta["queue"]}
        # The asking point sees its own request as the change, with its place; nobody else's.
        point_id = answer.request["point_id"]
        mine = view_for(delta, frozenset({point_id}))
        assert mine is not None
        assert mine["request"]["request_id"] == request_id
        assert [i["request_id"] for i in mine["queue"]] == [request_id]
        assert mine["position"] == answer.request["position"]
        assert "requests" not in mine and "to_points" not in mine
    repeat = [a for a in asked if a.request["request_id"] == "burst-5"]
    assert repeat[0].version == repeat[1].version


async def test_requests_arriving_close_together_are_told_in_one_delta(
    demo_db: str, demo_seed: DemoSeed, tmp_path: Path
) -> None:
    """Points asking within the same half second (not at the same instant) are stored as one
    lot: boards get the queue once for them, not once each. A request after a quiet spell is
    a lot of its own."""
    db_config = sqlalchemy_config(make_settings(demo_db, tmp_path))
    speaking = SpeakingDesk(db_config)
    meeting_id = demo_seed.upcoming_meeting_id
    try:
        start, points = await _version_and_points(db_config, meeting_id, 5)

        def ask(n: int) -> Awaitable[Asked]:
            return speaking.ask(
                meeting_id, Actor.of_link(points[n]), SpeakRequestWrite(f"soon-{n}", "Ý kiến", 3)
            )

        first = await ask(0)  # after a quiet spell: stored at once, alone
        # Four more, one every 30 ms, the first of them right after the first was stored.
        later: list[asyncio.Task[Asked]] = []
        for n in range(1, 5):
            later.append(asyncio.ensure_future(ask(n)))
            await asyncio.sleep(0.03)
        asked = [first, *await asyncio.gather(*later)]
        logged = await events_after(db_config, meeting_id, start)
    finally:
        await db_config.get_engine().dispose()

    told = [e.payload for e in logged if e.type == "speaking"]
    assert [len(t.get("requests") or [t["request"]]) for t in told] == [1, 4]
    assert told[-1]["queue"][-1]["request_id"] == "soon-4"
    assert len({a.version for a in asked[1:]}) == 1, "acknowledged with the one delta"


async def _version_and_points(
    db_config: Any, meeting_id: int, number: int
) -> tuple[int, list[int]]:
    """The meeting's version now, and the first `number` points it invited."""
    async with db_config.get_session() as session:
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        invited = await session.scalars(
            select(Invitation.point_id).where(Invitation.meeting_id == meeting_id)
        )
        return meeting.attendance_version, sorted(invited)[:number]
