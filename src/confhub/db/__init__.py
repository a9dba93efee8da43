"""Database plumbing: the declarative bases, the one session provider, and migrations."""

from sqlalchemy.ext.asyncio import AsyncSession, async_scoped_session

from confhub.db.dialect import is_sqlite

# What a service's repository holds: a plain or a scoped async session.
DbSession = AsyncSession | async_scoped_session[AsyncSession]

__all__ = ["DbSession", "is_sqlite"]
