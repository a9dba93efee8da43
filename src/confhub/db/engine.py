"""The one database configuration: engine, session provider and SQLite pragmas.

Every request gets its session from `db_session` (confhub.core.request_session, which the domains'
service providers in their `deps.py` build on), committed before the answer starts when it is a
2xx or a redirect and rolled back otherwise (see `confhub.db.transactions`). The live
channel, the attendance writer and the background tasks open theirs from the same configuration
(`db_config.get_session()`) and commit them themselves; the CLI from :func:`session_maker`. What
happens after a commit (live deltas, forgotten links) is the app's to install: it puts their
receivers in every session's `info` (see confhub.app).
"""

from __future__ import annotations

from typing import Any

from advanced_alchemy.config import AsyncSessionConfig, EngineConfig, SQLAlchemyAsyncConfig
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from confhub.db.dialect import is_sqlite
from confhub.settings import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite leaves foreign keys off by default; WAL lets readers work while a check-in writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for `url`, with SQLite's pragmas where it applies."""
    if is_sqlite(url):
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(engine):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def sqlalchemy_config(
    settings: Settings, session_info: dict[str, Any] | None = None
) -> SQLAlchemyAsyncConfig:
    """The database configuration behind the app's `db_session` dependency.

    `session_info` goes into every session's `info`, where after-commit listeners find what
    they hand their work to.
    """
    engine_config = EngineConfig(pool_pre_ping=not is_sqlite(settings.database_url))
    info = dict(session_info or {})
    return SQLAlchemyAsyncConfig(
        connection_string=settings.database_url,
        create_engine_callable=create_engine,
        engine_config=engine_config,
        session_config=AsyncSessionConfig(expire_on_commit=False, info=info),
    )


def session_maker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    """A session factory for work outside a request (CLI, websockets, seeding)."""
    return async_sessionmaker(engine, expire_on_commit=False)
