"""Telling "a dependency is down" from a bug: PostgreSQL or Redis not answering is an outage
(503 with `Retry-After`, or "send it again" on the live channel); a bad query stays a 500.

The drivers do not agree on how they say it. asyncpg raises the operating system's
`ConnectionRefusedError` when it cannot connect (SQLAlchemy passes it on unwrapped) and its own
errors for a server that is starting, stopping or full; SQLAlchemy wraps a connection lost
mid-query as a DBAPI error marked `connection_invalidated`, and raises its own `TimeoutError`
when the pool has no connection to give; redis-py has its own `ConnectionError` and
`TimeoutError`. :func:`outage_of` knows them all, following `orig` and `__cause__` to the
driver's error.

Neither driver is imported here: a process on SQLite without Redis never loads them (issue 20:
a serving process holds what it imported for its whole life), and an error of a driver's class
can only exist once that driver was imported, so the classes are taken from `sys.modules`.
"""

from __future__ import annotations

import socket
import sys
from functools import cache

from sqlalchemy import exc as sa_exc

# What a 503 asks clients to wait before trying again, in seconds.
RETRY_AFTER_SECONDS = 5

DATABASE = "the database"
REDIS = "Redis"
NETWORK = "a service this server needs"


@cache
def _redis_down() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


@cache
def _postgres_down() -> tuple[type[BaseException], ...]:
    import asyncpg.exceptions  # type: ignore[import-untyped]

    return (
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
    # A driver's errors exist only once the driver is imported (by the engine or the client).
    redis_down = _redis_down() if "redis.exceptions" in sys.modules else ()
    postgres_down = _postgres_down() if "asyncpg.exceptions" in sys.modules else ()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < _MAX_DEPTH:
        seen.add(id(current))
        if isinstance(current, redis_down):
            return REDIS
        if isinstance(current, postgres_down):
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
