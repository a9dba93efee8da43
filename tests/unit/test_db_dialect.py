"""One way to tell the embedded SQLite database from PostgreSQL: `confhub.db.is_sqlite`, asked
of a URL, an engine, a connection or a session (no server needed: an engine connects lazily)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from confhub.db import is_sqlite
from confhub.db.engine import create_engine

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "embedded"),
    [
        ("sqlite+aiosqlite:///confhub.sqlite3", True),
        ("sqlite:////var/lib/confhub/confhub.sqlite3", True),
        ("postgresql+asyncpg://confhub@127.0.0.1/confhub", False),
        ("postgresql://u:p@db.example/sqlite", False),  # a database named "sqlite" is not SQLite
    ],
)
def test_the_embedded_database_is_recognised_by_its_driver(url: str, embedded: bool) -> None:
    assert is_sqlite(url) is embedded


async def test_engines_connections_and_sessions_answer_alike(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    elsewhere = create_async_engine("postgresql+asyncpg://confhub@127.0.0.1/confhub")
    try:
        assert is_sqlite(engine) and is_sqlite(engine.url)
        async with engine.connect() as connection:
            assert is_sqlite(connection)
        async with AsyncSession(engine) as session:
            assert is_sqlite(session)
        assert not is_sqlite(elsewhere)
        assert not is_sqlite(AsyncSession(elsewhere))
    finally:
        await engine.dispose()
        await elsewhere.dispose()
