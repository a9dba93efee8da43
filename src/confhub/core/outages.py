"""Telling "a dependency is down" from a bug: PostgreSQL or Redis not answering is an outage
(503 with `Retry-After`, or "send it again" on the live channel); a bad query stays a 500.

The drivers do not agree on how they say it. asyncpg raises the operating system's
`ConnectionRefusedError` when it cannot connect (SQLAlchemy passes it on unwrapped) and its own
errors for a server that is starting, stopping or full; SQLAlchemy wraps a connection lost
mid-query as a DBAPI error marked `connection_invalidated`, and raises its own `TimeoutError`
when the pool has no connection to give; redis-py has its own `ConnectionError` and
`TimeoutError`. :func:`outage_of` knows them all, following `orig` and `__cause__` to the
driver's error.
"""

from __future__ import annotations

import socket

import asyncpg.exceptions  # type: ignore[import-untyped]
import redis.exceptions
from sqlalchemy import exc as sa_exc

# What a 503 asks clients to wait before trying again, in seconds.
RETRY_AFTER_SECONDS = 5

DATABASE = "the database"
REDIS = "Redis"
NETWORK = "a service this server needs"

_REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
_POSTGRES_DOWN = (
    asyncpg.exceptions.PostgresConnectionError,  # class 08: connection lost or refused
    asyncpg.exceptions.CannotConnectNowError,  # starting up or in recovery
    asyncpg.exceptions.AdminShutdownError,  # shutting down
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)
# The operating system's own: refused, reset, timed out, the host name not resolved.
_NETWORK_DOWN = (ConnectionError, TimeoutError, socket.gaierror)
_MAX_DEPTH = 8


def outage_of(exc: BaseException) -> str | None:
    """Which dependency is down when `exc` says one is (`DATABASE`, `REDIS`, or `NETWORK` for
    a bare refused or timed-out connection); None for any other error, a bad query or a bug
    included."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < _MAX_DEPTH:
        seen.add(id(current))
        if isinstance(current, _REDIS_DOWN):
            return REDIS
        if isinstance(current, _POSTGRES_DOWN):
            return DATABASE
        if isinstance(current, _NETWORK_DOWN):
            return NETWORK
        if isinstance(current, sa_exc.TimeoutError):
            return DATABASE  # the pool had no connection to give in time
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return DATABASE
        orig = current.orig if isinstance(current, sa_exc.DBAPIError) else None
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None
