"""The machine's PostgreSQL and Redis, shared by concurrent test runs and by pytest-xdist workers.

A test that needs one of them and cannot reach it skips saying why; `CONFHUB_REQUIRE_SERVICES=1`
(set by `.ci/run`) turns that skip into a failure.

Tests of the production path flush their Redis database and name live channels after it, so
two tests on one database would wipe each other's sessions. `exclusive_redis_db` holds a lock
file per database number and hands out the configured database, or another free one of that
server, waiting while every one is held (other workers, other engineers' runs).
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "CONFHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("CONFHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Redis databases the tests may take, first the configured one; 0 is left to people's demos.
REDIS_TEST_DATABASES = range(15, 0, -1)
REDIS_WAIT_SECONDS = 300.0


def services_required() -> bool:
    """Whether a missing PostgreSQL/Redis must fail the run instead of skipping."""
    return os.environ.get("CONFHUB_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip (on a laptop without the service) or fail (on CI, where it must be there)."""
    if services_required():
        pytest.fail(f"{reason} (CONFHUB_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    """Whether something listens on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick, so workers do not collide)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_redis(url: str = REDIS_URL) -> str:
    """`url` when its server answers on its port; skips or fails otherwise."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    if not port_open(host or "127.0.0.1", int(port or 6379)):
        skip_or_fail(f"Redis is not reachable on {host_port}")
    return url


@contextmanager
def exclusive_redis_db(redis_url: str, lock_dir: Path = Path("/tmp")) -> Iterator[str]:
    """`redis_url`, or the same server's database 15, 14, … 1 when another test holds it; waits
    (up to REDIS_WAIT_SECONDS) while all are held."""
    base, _, configured = redis_url.rpartition("/")
    first = int(configured or 0)
    order = [first, *(n for n in REDIS_TEST_DATABASES if n != first)]
    deadline = time.monotonic() + REDIS_WAIT_SECONDS
    while True:
        for db in order:
            handle = (lock_dir / f"confhub-test-redis-{Path(base).name}-{db}.lock").open("w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield f"{base}/{db}"
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        if time.monotonic() > deadline:
            raise RuntimeError("every Redis test database is held by another test")
        time.sleep(0.5)


def flush_redis(url: str) -> None:
    """Empty one Redis database (one held with `exclusive_redis_db`)."""
    from redis import Redis

    client = Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
