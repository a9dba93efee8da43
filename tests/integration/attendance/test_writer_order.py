"""Signals and check-ins share the attendance writer's queue: a burst of both, from every point at
once, is stored as one gap-free run of versions, each acknowledged with the version of its own
delta in the event log (in-process, on SQLite; the served PostgreSQL burst is in
test_one_write_path.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from confhub.attendance.schemas import CheckinWrite
from confhub.attendance.writer import AttendanceWriter
from confhub.db.engine import sqlalchemy_config
from confhub.demo import DemoSeed
from confhub.meetings.actors import Actor
from confhub.meetings.models import Invitation, Meeting
from tests.conftest import make_settings
from tests.integration.attendance.conftest import events_after

pytestmark = pytest.mark.integration


async def test_a_burst_of_signals_and_checkins_keeps_one_version_order(
    demo_db: str, demo_seed: DemoSeed, tmp_path: Path
) -> None:
    db_config = sqlalchemy_config(make_settings(demo_db, tmp_path))
    writer = AttendanceWriter(db_config)
    meeting_id = demo_seed.upcoming_meeting_id
    try:
        async with db_config.get_session() as session:
            meeting = await session.get(Meeting, meeting_id)
            assert meeting is not None
            start = meeting.attendance_version
            points = sorted(
                await session.scalars(
                    select(Invitation.point_id).where(Invitation.meeting_id == meeting_id)
                )
            )[:40]

        def answer(n: int, point_id: int) -> CheckinWrite:
            key = f"burst-{n}"
            return CheckinWrite(point_id, "present", key, delegates_present=n + 1)

        # Every point checks in; every other one also reports its link, in the same burst.
        burst: list[Awaitable[Any]] = []
        for n, point_id in enumerate(points):
            link = Actor.of_link(point_id)
            burst.append(writer.submit(meeting_id, link, answer(n, point_id)))
            if n % 2 == 0:
                burst.append(writer.signal(meeting_id, link, point_id, "test_ok"))
        results = await asyncio.gather(*burst)

        logged = await events_after(db_config, meeting_id, start)
    finally:
        await db_config.get_engine().dispose()

    assert len(results) == 60
    assert [e.version for e in logged] == list(range(start + 1, start + 61)), "one gap-free run"
    by_version = {e.version: e for e in logged}
    # Each answer's acknowledged version is its own delta's: the right type, point and value.
    acknowledged = [
        (r.record.version, r.record.point_id) for r in results if not isinstance(r, dict)
    ]
    reported = [(r["version"], r["point_id"]) for r in results if isinstance(r, dict)]
    assert [p for _, p in acknowledged] == points and [p for _, p in reported] == points[::2]
    for version, point_id in acknowledged:
        assert (by_version[version].type, by_version[version].point_id) == ("checkin", point_id)
    for version, point_id in reported:
        assert (by_version[version].type, by_version[version].point_id) == ("signal", point_id)
        assert by_version[version].payload["signal"] == "test_ok"
