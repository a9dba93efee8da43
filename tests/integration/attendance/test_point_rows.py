"""A point's own rows in its snapshot, read on PostgreSQL by the whole (meeting, point) key of
each join (so a fresh meeting's statistics cannot make the read take every invitation), are
the rows the board reads of the same points, checked-in, seen or untouched; a point not
invited has none. The presence loop's touch of those rows never waits for one a check-in
holds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from confhub.attendance import views
from confhub.attendance.models import PointAttendance
from confhub.attendance.presence import touch
from confhub.attendance.schemas import CheckinWrite
from confhub.attendance.writer import AttendanceWriter
from confhub.db.engine import sqlalchemy_config
from confhub.meetings.actors import Actor
from confhub.meetings.models import Invitation
from confhub.points.models import ConnectionPoint
from tests.conftest import PostgresDemo, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.services]


async def test_a_points_own_rows_are_those_the_board_reads(
    postgres_demo_db: PostgresDemo, tmp_path: Path
) -> None:
    meeting_id = postgres_demo_db.seed.upcoming_meeting_id
    db_config = sqlalchemy_config(make_settings(postgres_demo_db.url, tmp_path))
    writer = AttendanceWriter(db_config)
    try:
        invited = await _invited(db_config, meeting_id, 6)
        async with db_config.get_session() as session:
            stranger = await session.scalar(
                select(ConnectionPoint.id).where(ConnectionPoint.id.not_in(invited)).limit(1)
            )
        for n, point_id in enumerate(invited[:2]):
            answer = CheckinWrite(point_id, "present", f"rows-{n}", delegates_present=n + 2)
            await writer.submit(meeting_id, Actor.of_link(point_id), answer)
        await writer.signal(meeting_id, Actor.of_link(invited[2]), invited[2], "test_ok")

        async with db_config.get_session() as session:
            board = await views.points(session, meeting_id)
            for asked in ([invited[0]], invited[1:4], invited):
                own = await views.points(session, meeting_id, frozenset(asked))
                assert own == [p for p in board if p["point_id"] in asked]
            assert await views.points(session, meeting_id, frozenset({stranger})) == []
        status = {p["point_id"]: p["status"] for p in board}
        assert [status[p] for p in invited[:3]] == ["present", "present", "pending"]
    finally:
        await db_config.get_engine().dispose()


async def test_touching_points_leaves_a_row_a_check_in_holds_and_never_waits_for_it(
    postgres_demo_db: PostgresDemo, tmp_path: Path
) -> None:
    """The presence loop's touch of every connected point skips a row another transaction
    holds (a check-in being stored) instead of waiting for it with other rows held: waiting
    deadlocked with check-ins, and PostgreSQL aborted a whole burst of them."""
    meeting_id = postgres_demo_db.seed.upcoming_meeting_id
    db_config = sqlalchemy_config(make_settings(postgres_demo_db.url, tmp_path))
    writer = AttendanceWriter(db_config)
    try:
        invited = await _invited(db_config, meeting_id, 3)
        for n, point_id in enumerate(invited):
            answer = CheckinWrite(point_id, "present", f"touch-{n}", delegates_present=1)
            await writer.submit(meeting_id, Actor.of_link(point_id), answer)
        table = PointAttendance.__table__
        rows_of = (table.c.meeting_id == meeting_id, table.c.point_id.in_(invited))
        async with db_config.get_session() as session:
            before = await _seen(session, rows_of)

        async with db_config.get_session() as holder:
            # A check-in's transaction holding the first point's row, not yet committed.
            await holder.execute(
                update(table)
                .where(table.c.meeting_id == meeting_id, table.c.point_id == invited[0])
                .values(note="being stored")
            )
            async with db_config.get_session() as session:
                await asyncio.wait_for(touch(session, meeting_id, invited), timeout=10)
                await session.commit()
            await holder.rollback()

        async with db_config.get_session() as session:
            after = await _seen(session, rows_of)
    finally:
        await db_config.get_engine().dispose()

    assert after[invited[0]] == before[invited[0]], "the held row is left for the next touch"
    for point_id in invited[1:]:
        assert after[point_id] is not None
        assert before[point_id] is None or after[point_id] > before[point_id]


async def _seen(session: Any, rows_of: tuple[Any, ...]) -> dict[int, Any]:
    """When each of these points' rows says it was last seen."""
    table = PointAttendance.__table__
    found = await session.execute(select(table.c.point_id, table.c.seen_at).where(*rows_of))
    return {row[0]: row[1] for row in found}


async def _invited(db_config: Any, meeting_id: int, number: int) -> list[int]:
    """The first `number` points the meeting invited."""
    async with db_config.get_session() as session:
        invited = await session.scalars(
            select(Invitation.point_id).where(Invitation.meeting_id == meeting_id)
        )
        return sorted(invited)[:number]
