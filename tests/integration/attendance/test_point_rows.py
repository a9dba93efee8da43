"""A point's own rows in its snapshot, read on PostgreSQL by the whole (meeting, point) key of
each join (so a fresh meeting's statistics cannot make the read take every invitation), are
the rows the board reads of the same points, checked-in, seen or untouched; a point not
invited has none."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from confhub.attendance import views
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
        async with db_config.get_session() as session:
            invited = sorted(
                await session.scalars(
                    select(Invitation.point_id).where(Invitation.meeting_id == meeting_id)
                )
            )[:6]
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
