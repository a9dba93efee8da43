"""Sharing the machine's Redis between concurrent test runs.

Tests of the production path flush their Redis database and name live channels after it, so
two runs on one database would wipe each other's sessions. `exclusive_redis_db` holds a lock
file per database number (the same files as tests/integration/attendance/test_multiprocess.py
uses) and hands out the configured database, or another free one of that server.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive_redis_db(redis_url: str, lock_dir: Path = Path("/tmp")) -> Iterator[str]:
    """`redis_url`, or the same server's database 15, 14, … 8 when another run holds it."""
    base, _, configured = redis_url.rpartition("/")
    first = int(configured or 0)
    for db in [first, *(n for n in range(15, 7, -1) if n != first)]:
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
    raise RuntimeError("every Redis test database is held by another test run")
