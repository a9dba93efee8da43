"""Which errors mean "a dependency is down" (503, "send it again") and which are bugs (500).

The errors are the drivers' own, raised the way they reach confhub: asyncpg's refused connection
unwrapped, a connection lost mid-query wrapped by SQLAlchemy (and again by Advanced Alchemy).
"""

from __future__ import annotations

import asyncpg.exceptions
import pytest
import redis.exceptions
from advanced_alchemy.exceptions import RepositoryError
from sqlalchemy import exc as sa_exc

from confhub.core.errors import ServiceUnavailableError, as_outage
from confhub.core.outages import DATABASE, NETWORK, REDIS, outage_of

pytestmark = pytest.mark.unit


def wrapped(orig: Exception, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    """What SQLAlchemy raises for a driver error met while executing a statement."""
    error = sa_exc.DBAPIError.instance(
        "SELECT 1", {}, orig, Exception, connection_invalidated=invalidated
    )
    assert isinstance(error, sa_exc.DBAPIError)
    return error


def repository_error(cause: Exception) -> RepositoryError:
    """Advanced Alchemy's wrapping of a SQLAlchemy error, chained as it does."""
    try:
        raise RepositoryError("An exception occurred") from cause
    except RepositoryError as error:
        return error


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (redis.exceptions.ConnectionError("Error 111 connecting"), REDIS),
        (redis.exceptions.TimeoutError("Timeout reading from socket"), REDIS),
        (ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"), NETWORK),
        (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), DATABASE),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), DATABASE),
        (asyncpg.exceptions.TooManyConnectionsError("too many clients"), DATABASE),
        (wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("closed")), DATABASE),
        (wrapped(Exception("connection is closed"), invalidated=True), DATABASE),
        (sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"), DATABASE),
        (repository_error(wrapped(Exception("gone"), invalidated=True)), DATABASE),
    ],
)
def test_a_dependency_that_is_down_is_a_503(error: Exception, dependency: str) -> None:
    assert outage_of(error) == dependency
    answer = as_outage(error)
    assert isinstance(answer, ServiceUnavailableError)
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    "error",
    [
        wrapped(asyncpg.exceptions.UndefinedColumnError('column "x" does not exist')),
        wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key")),
        sa_exc.OperationalError("SELECT 1", {}, Exception("no such table: meeting")),
        repository_error(sa_exc.IntegrityError("INSERT", {}, Exception("NOT NULL"))),
        ValueError("a bug"),
        KeyError("point_id"),
    ],
)
def test_a_bad_query_or_a_bug_is_not_an_outage(error: Exception) -> None:
    assert outage_of(error) is None
    assert as_outage(error) is None
