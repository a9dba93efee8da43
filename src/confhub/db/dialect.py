"""The one way to ask whether confhub runs on the embedded SQLite database or on PostgreSQL.

A few things differ between the two: SQLite has one writer for the whole file (the attendance
writer queues every meeting in one line), its upsert and its backups are its own, and its engine
needs pragmas and no pool sizes. Each asks :func:`is_sqlite`, of whatever it holds.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_scoped_session

Target = (
    str
    | URL
    | Engine
    | AsyncEngine
    | Connection
    | AsyncConnection
    | AsyncSession
    | async_scoped_session[AsyncSession]
)


def is_sqlite(target: Target) -> bool:
    """Whether `target` (a database URL, an engine, a connection or a session) is SQLite, by
    any driver; a PostgreSQL database named "sqlite" is not."""
    if isinstance(target, str | URL):
        return make_url(target).get_backend_name() == "sqlite"
    if isinstance(target, AsyncSession | async_scoped_session):
        return target.get_bind().dialect.name == "sqlite"
    return target.dialect.name == "sqlite"
