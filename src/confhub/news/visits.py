"""The visitor counter of each news site: online now, today, this week, total.

Nothing that identifies a person is stored. A visitor is recognised within one day by a keyed
hash of their address and browser, whose key is random, lives only in memory (or in Redis with
a two-day expiry, when configured, so processes agree) and changes every day; the hashes
themselves are kept only in memory/Redis, for at most a day. The database holds only counts per
site and day. Crawlers announcing themselves are not counted.

While Redis is down the public pages keep answering: this process counts in its own memory
(visitors seen by several processes may then be counted more than once) until Redis is back.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from confhub.core.timefmt import local_time
from confhub.db import DbSession, is_sqlite
from confhub.news.models import SiteVisitDay

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("confhub.news.visits")

ONLINE_WINDOW = 300  # seconds: "online now" is the last five minutes
_BOTS = ("bot", "spider", "crawl", "slurp", "facebookexternalhit", "preview")


@dataclass(frozen=True)
class VisitStats:
    """What the counter box shows."""

    online: int
    today: int
    week: int
    total: int


def is_crawler(user_agent: str) -> bool:
    """Whether the browser says it is a crawler or a link previewer."""
    agent = user_agent.lower()
    return not agent or any(word in agent for word in _BOTS)


class VisitCounter:
    """Counts visits per site; one per application (see :func:`visit_counter`)."""

    def __init__(self, redis: Redis | None = None) -> None:
        self.redis = redis
        # redis-py is imported only by a process configured with Redis (issue 20).
        self._redis_down: tuple[type[BaseException], ...] = ()
        if redis is not None:
            from redis.exceptions import ConnectionError as RedisConnectionError
            from redis.exceptions import TimeoutError as RedisTimeoutError

            self._redis_down = (RedisConnectionError, RedisTimeoutError)
        self._day: date | None = None
        self._salt = b""
        self._seen: dict[str, set[str]] = {}
        self._online: dict[str, dict[str, float]] = {}

    async def _visitor(self, day: date, address: str, user_agent: str) -> str:
        """The visitor's hash for `day` (the key changes with the day)."""
        if self._day != day:
            self._day, self._salt, self._seen = day, secrets.token_bytes(32), {}
        salt = self._salt
        message = f"{address}\n{user_agent}".encode()
        return hmac.new(salt, message, hashlib.sha256).hexdigest()[:24]

    async def _shared_visitor(self, redis: Redis, day: date, address: str, agent: str) -> str:
        """The visitor's hash with the day's key every process shares."""
        key = f"confhub:visits:salt:{day.isoformat()}"
        await redis.set(key, secrets.token_hex(32), nx=True, ex=2 * 86400)
        salt = bytes(await redis.get(key) or b"")
        message = f"{address}\n{agent}".encode()
        return hmac.new(salt, message, hashlib.sha256).hexdigest()[:24]

    async def _first_today(self, site: str, visitor: str) -> bool:
        seen = self._seen.setdefault(site, set())
        if visitor in seen:
            return False
        seen.add(visitor)
        return True

    async def _shared_hit(self, redis: Redis, site: str, day: date, visitor: str) -> bool:
        """Mark the visitor online and seen today in Redis; whether they are new today."""
        now = time.time()
        online_key = f"confhub:visits:online:{site}"
        await redis.zadd(online_key, {visitor: now})
        await redis.zremrangebyscore(online_key, 0, now - ONLINE_WINDOW)
        await redis.expire(online_key, ONLINE_WINDOW * 2)
        seen_key = f"confhub:visits:seen:{site}:{day.isoformat()}"
        added = await cast("Awaitable[int]", redis.sadd(seen_key, visitor))
        await redis.expire(seen_key, 2 * 86400)
        return added == 1

    async def _mark_online(self, site: str, visitor: str, now: float) -> None:
        online = self._online.setdefault(site, {})
        online[visitor] = now
        if len(online) > 64:  # prune now and then, not on every hit
            for stale in [v for v, seen in online.items() if seen < now - ONLINE_WINDOW]:
                del online[stale]

    async def online(self, site: str) -> int:
        """Distinct visitors of the site in the last five minutes."""
        now = time.time()
        if self.redis is not None:
            try:
                key = f"confhub:visits:online:{site}"
                return int(await self.redis.zcount(key, now - ONLINE_WINDOW, now))
            except self._redis_down as exc:
                logger.warning("visitors online counted in this process: Redis is down (%s)", exc)
        return sum(1 for seen in self._online.get(site, {}).values() if seen >= now - ONLINE_WINDOW)

    async def hit(
        self,
        session: DbSession,
        site: str,
        day: date,
        address: str,
        user_agent: str,
    ) -> None:
        """Count one page view of `site` (and a visitor, the first time today)."""
        if is_crawler(user_agent):
            return
        new: bool | None = None
        if self.redis is not None:
            try:
                visitor = await self._shared_visitor(self.redis, day, address, user_agent)
                new = await self._shared_hit(self.redis, site, day, visitor)
            except self._redis_down as exc:
                logger.warning("visit counted in this process: Redis is down (%s)", exc)
        if new is None:
            visitor = await self._visitor(day, address, user_agent)
            await self._mark_online(site, visitor, time.time())
            new = await self._first_today(site, visitor)
        await _add(session, site, day, views=1, visitors=1 if new else 0)

    async def stats(self, session: DbSession, site: str, day: date) -> VisitStats:
        """The counts shown on the site's pages (the week starts on Monday)."""
        week_start = day - timedelta(days=day.weekday())
        visitors = SiteVisitDay.visitors
        row = (
            await session.execute(
                select(
                    func.sum(case((SiteVisitDay.day == day, visitors), else_=0)),
                    func.sum(case((SiteVisitDay.day >= week_start, visitors), else_=0)),
                    func.sum(visitors),
                ).where(SiteVisitDay.site == site)
            )
        ).one()
        return VisitStats(
            online=await self.online(site),
            today=int(row[0] or 0),
            week=int(row[1] or 0),
            total=int(row[2] or 0),
        )


async def _add(session: DbSession, site: str, day: date, *, views: int, visitors: int) -> None:
    """Add to the day's counts in one statement (insert, or update the existing row)."""
    insert: Any = sqlite.insert if is_sqlite(session) else postgresql.insert
    now = datetime.now(UTC)
    statement = insert(SiteVisitDay).values(
        site=site, day=day, views=views, visitors=visitors, created_at=now, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[SiteVisitDay.site, SiteVisitDay.day],
        set_={
            "views": SiteVisitDay.views + views,
            "visitors": SiteVisitDay.visitors + visitors,
            "updated_at": now,
        },
    )
    await session.execute(statement)


def local_day(now: datetime, timezone: str) -> date:
    """Today in the province's zone."""
    return local_time(now, timezone).date()
