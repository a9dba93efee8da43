"""`confhub.core.signals`: receivers run in order inside the sender's transaction, and a failing
receiver fails the sender and takes the transaction's writes with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from confhub.core.signals import Signal
from confhub.db import DbSession
from confhub.db.engine import session_maker

pytestmark = pytest.mark.unit


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite database with one table the receivers write to."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'signals.sqlite3'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE note (text VARCHAR NOT NULL)"))
    yield engine
    await engine.dispose()


async def _notes(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.scalars(text("SELECT text FROM note ORDER BY rowid"))).all())


async def test_receivers_write_in_the_senders_transaction_in_order(engine: AsyncEngine) -> None:
    changed: Signal[str, int] = Signal("test.changed")

    @changed.connect
    async def first(session: DbSession, what: str) -> int:
        await session.execute(text("INSERT INTO note VALUES (:t)"), {"t": f"first saw {what}"})
        return 1

    @changed.connect
    async def second(session: DbSession, what: str) -> int:
        await session.execute(text("INSERT INTO note VALUES (:t)"), {"t": f"second saw {what}"})
        return 2

    changed.connect(first)  # connecting again changes nothing
    async with session_maker(engine)() as session, session.begin():
        assert await changed.send(session, "a status") == [1, 2]
        assert await _notes(engine) == [], "nothing is visible before the sender commits"
    assert await _notes(engine) == ["first saw a status", "second saw a status"]


async def test_a_failing_receiver_fails_the_sender_and_rolls_back(engine: AsyncEngine) -> None:
    changed: Signal[str, None] = Signal("test.changed")

    @changed.connect
    async def writes(session: DbSession, what: str) -> None:
        await session.execute(text("INSERT INTO note VALUES (:t)"), {"t": what})

    @changed.connect
    async def fails(session: DbSession, what: str) -> None:
        raise RuntimeError(f"cannot take {what}")

    with pytest.raises(RuntimeError, match="cannot take a status"):
        async with session_maker(engine)() as session, session.begin():
            await session.execute(text("INSERT INTO note VALUES ('the sender')"))
            await changed.send(session, "a status")
    assert await _notes(engine) == []


async def test_a_signal_without_receivers_answers_nothing(engine: AsyncEngine) -> None:
    quiet: Signal[str, int] = Signal("test.quiet")
    async with session_maker(engine)() as session, session.begin():
        assert await quiet.send(session, "anything") == []
