"""Rows written straight into a test's database, as they were stored before a rule existed."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from confhub.db.engine import create_engine, session_maker
from confhub.meetings.models import Meeting


def store_title(database_url: str, meeting_id: int, title: str) -> None:
    """Give a meeting `title` without any check (e.g. with a control character in it)."""

    async def run() -> None:
        engine = create_engine(database_url)
        try:
            async with session_maker(engine)() as session, session.begin():
                await session.execute(
                    update(Meeting).where(Meeting.id == meeting_id).values(title=title)
                )
        finally:
            await engine.dispose()

    asyncio.run(run())
