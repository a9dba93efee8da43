"""The live channels' Redis pub/sub backend (imported only when `CONFHUB_REDIS_URL` is set)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from litestar.channels.backends.redis import RedisChannelsPubSubBackend

from confhub.core.outages import outage_of

logger = logging.getLogger("confhub.live")


class OutageTolerantPubSubBackend(RedisChannelsPubSubBackend):
    """Redis pub/sub whose publishing survives Redis being down.

    The channels plugin's publishing worker ends on the first error, leaving the message it took
    unfinished, and the plugin waits for every queued message at shutdown: one failed publish
    made a process hang on SIGTERM. Here a delta that cannot be published is dropped (logged);
    every board still gets it from the database within the hub's poll interval.
    """

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        """Publish, or drop and log when Redis is down."""
        try:
            await super().publish(data, channels)
        except Exception as exc:
            if outage_of(exc) is None:
                raise
            logger.warning("live delta not published (the poll delivers it): %s", exc)
