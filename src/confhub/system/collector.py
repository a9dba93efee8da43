"""One full garbage collection once a burst of refused connections is over.

Each refused live socket leaves reference cycles behind, about 25 objects (7 KiB): CPython
3.11's socket transport keeps a bound method of itself, and the websockets library's sans-I/O
parser is a generator that holds its protocol. Only the cyclic collector frees them, and a
serving process runs its full collections rarely (`serving.tune_garbage_collector`), so after
a flood of thousands they wait, promoted, and the next flood's add to them: resident memory
grew about 6 MiB per flood of 3,000 (docs/performance.md). Once `BURST` refusals have
been noted and none came for `QUIET_SECONDS`, this runs one full collection (at most every
`MIN_INTERVAL` seconds), so the next flood reuses that memory instead. The collection pauses
the process (0.1-0.2 s idle, more with thousands of live sockets: the whole process is walked),
which is why it waits for the burst to end and comes at most every 10 s.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import time
from collections.abc import Callable

BURST = 1000
QUIET_SECONDS = 1.0
MIN_INTERVAL = 10.0

logger = logging.getLogger("confhub.live")


class BurstCollector:
    """Counts refusals; collects once a burst of them has ended."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.pending = 0
        self._last = 0.0
        self._collected_at = -MIN_INTERVAL
        self._timer: asyncio.TimerHandle | None = None

    def note(self) -> None:
        """One more refused connection (call from the event loop)."""
        self.pending += 1
        self._last = self._clock()
        if self.pending >= BURST and self._timer is None:
            # Outside the refused request's context: the collection is no request's work.
            self._timer = asyncio.get_running_loop().call_later(
                QUIET_SECONDS, self._check, context=contextvars.Context()
            )

    def _check(self) -> None:
        now = self._clock()
        wait = max(QUIET_SECONDS - (now - self._last), MIN_INTERVAL - (now - self._collected_at))
        if wait > 0:
            self._timer = asyncio.get_running_loop().call_later(
                wait, self._check, context=contextvars.Context()
            )
            return
        self._timer = None
        started = time.perf_counter()
        freed = gc.collect()
        logger.info(
            "collected after %s refused live handshakes: %s objects freed in %.0f ms",
            self.pending,
            freed,
            (time.perf_counter() - started) * 1000,
        )
        self.pending = 0
        self._collected_at = now


REFUSALS = BurstCollector()
