"""Throttling by counters that expire: failed sign-ins per login name and per client address,
and live-channel handshakes per client address.

Past `CONFHUB_LOGIN_MAX_FAILURES_PER_ACCOUNT` failures for one login name, or
`CONFHUB_LOGIN_MAX_FAILURES_PER_ADDRESS` from one address, sign-ins are refused with 429 until
the window (`CONFHUB_LOGIN_WINDOW_SECONDS`, counted from the first failure) ends, whatever the
password: a correct one is not even checked. Unknown login names are counted like real ones, so
a refusal says nothing about whether an account exists.

Each attempt is counted before its password is checked, so parallel guesses cannot slip past
the limit while the (slow) argon2 check runs; a success takes its own count back and clears the
login name's counter, but never the address's (one valid account must not buy an attacker fresh
guesses at the others). The counters live in Redis when `CONFHUB_REDIS_URL` is set, so every
process shares them, and in this process's memory otherwise. The client address is the one
uvicorn took from `X-Forwarded-For` of a trusted proxy; IPv6 addresses count per /64 network,
which one subscriber usually holds whole.

Live-channel handshakes (`/ws/...`) are counted per address in the same counters: past
`CONFHUB_WS_HANDSHAKES_PER_MINUTE` within a minute counted from the first, a handshake is
refused (429 with `Retry-After`, before the upgrade) until the minute ends. In Redis, the
handshakes that arrive while one count is under way are counted together in the next, one
script call for all of them (3,321 phones connecting at once cost a call each, a third of the
process's work per connection; docs/performance.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from litestar import Request

from confhub.core.errors import AuthenticationRequiredError, ConfhubError
from confhub.core.i18n import N_
from confhub.core.outages import outage_of
from confhub.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("confhub.accounts.throttle")

ACCOUNT = "account"
ADDRESS = "address"
KEY_PREFIX = "confhub:login:"
HANDSHAKE_KEY_PREFIX = "confhub:ws-handshakes:"
HANDSHAKE_WINDOW_SECONDS = 60
# Handshakes counted in one call to Redis at most (the script runs atomically: Redis serves
# nothing else meanwhile, so a call stays short).
HANDSHAKE_BATCH = 500
# While Redis is down, one warning this often instead of one per handshake.
OUTAGE_WARNING_EVERY = 60.0
# Login names are logged so an operator sees which account is attacked; past this they are
# cut, so a password typed into the wrong field does not land whole in the logs.
LOGGED_NAME_LENGTH = 64

# Both scripts run atomically in Redis: a counter is created with its expiry or not at all,
# and a count taken back never creates a counter without one.
_ADD_SCRIPT = """
local result = {}
for _, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'EX', ARGV[1], 'NX')
  local count = redis.call('INCR', key)
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    redis.call('EXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  table.insert(result, count)
  table.insert(result, ttl)
end
return result
"""
_UNDO_SCRIPT = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 and redis.call('DECR', key) <= 0 then
    redis.call('DEL', key)
  end
end
return 0
"""


class TooManySignInAttemptsError(ConfhubError):
    """Too many failed sign-ins for this login name or from this address; `retry_after` is
    the number of seconds until the window ends."""

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            N_("Too many failed sign-in attempts; try again in %(seconds)s seconds"),
            seconds=retry_after,
        )
        self.retry_after = retry_after
        # Sent as response headers by the error handler (confhub.core.errors).
        self.headers = {"Retry-After": str(retry_after)}


class Counters(Protocol):
    """Counters that expire a fixed time after their first count."""

    async def add(self, keys: Sequence[str], window: int) -> list[tuple[int, int]]:
        """Count one more on each key: each key's new count and seconds until it expires."""

    async def undo(self, keys: Sequence[str]) -> None:
        """Take back one count from each key that still exists."""

    async def clear(self, keys: Sequence[str]) -> None:
        """Forget the keys."""


class RedisCounters:
    """Counters in Redis, shared by every process of the deployment."""

    def __init__(self, redis: Redis) -> None:
        self._add = redis.register_script(_ADD_SCRIPT)
        self._undo = redis.register_script(_UNDO_SCRIPT)
        self._redis = redis

    async def add(self, keys: Sequence[str], window: int) -> list[tuple[int, int]]:
        """Count one more on each key (see :class:`Counters`)."""
        flat = await self._add(keys=list(keys), args=[window])
        return [(int(flat[i]), int(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def undo(self, keys: Sequence[str]) -> None:
        """Take back one count (see :class:`Counters`)."""
        if keys:
            await self._undo(keys=list(keys))

    async def clear(self, keys: Sequence[str]) -> None:
        """Forget the keys."""
        if keys:
            await self._redis.delete(*keys)


class MemoryCounters:
    """Counters in this process's memory, for a deployment of one process."""

    # Expired counters are dropped once this many exist, so a flood of made-up login names
    # cannot grow the table beyond what one window brings.
    PRUNE_ABOVE = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}

    async def add(self, keys: Sequence[str], window: int) -> list[tuple[int, int]]:
        """Count one more on each key (see :class:`Counters`)."""
        now = self._clock()
        if len(self._counts) > self.PRUNE_ABOVE:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        result = []
        for key in keys:
            count, until = self._counts.get(key, (0, now + window))
            if until <= now:
                count, until = 0, now + window
            self._counts[key] = (count + 1, until)
            result.append((count + 1, max(1, math.ceil(until - now))))
        return result

    async def undo(self, keys: Sequence[str]) -> None:
        """Take back one count (see :class:`Counters`)."""
        now = self._clock()
        for key in keys:
            count, until = self._counts.get(key, (0, now))
            if count <= 1 or until <= now:
                self._counts.pop(key, None)
            else:
                self._counts[key] = (count - 1, until)

    async def clear(self, keys: Sequence[str]) -> None:
        """Forget the keys."""
        for key in keys:
            self._counts.pop(key, None)


@dataclass(frozen=True)
class _Limit:
    scope: str
    key: str
    maximum: int


class LoginThrottle:
    """The app's one sign-in throttle (`request.app.state.login_throttle`)."""

    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self.window = settings.login_window_seconds
        self.per_account = settings.login_max_failures_per_account
        self.per_address = settings.login_max_failures_per_address
        self.counters: Counters = RedisCounters(redis) if redis is not None else MemoryCounters()

    @asynccontextmanager
    async def attempt(self, login_name: str, address: str) -> AsyncIterator[None]:
        """Guard one sign-in: raises :class:`TooManySignInAttemptsError` before the body runs
        when a limit is reached; an :class:`AuthenticationRequiredError` from the body counts as
        a failure, success takes the attempt back, any other error leaves no trace."""
        limits = self._limits(login_name, address)
        keys = [limit.key for limit in limits]
        counts = await self.counters.add(keys, self.window)
        exceeded = [
            (limit, ttl)
            for limit, (count, ttl) in zip(limits, counts, strict=True)
            if count > limit.maximum
        ]
        if exceeded:
            # Not checked, so not a failure either: the counts stay what was really tried.
            await self.counters.undo(keys)
            retry_after = max(ttl for _limit, ttl in exceeded)
            logger.warning(
                "sign-in refused: too many failures for the %s; login %r from %s, retry after %s s",
                " and the ".join(limit.scope for limit, _ttl in exceeded),
                _loggable(login_name),
                address,
                retry_after,
            )
            raise TooManySignInAttemptsError(retry_after)
        try:
            yield
        except AuthenticationRequiredError:
            raise  # a failed sign-in: it stays counted
        except Exception:
            await self.counters.undo(keys)
            raise
        await self.counters.undo([limit.key for limit in limits if limit.scope == ADDRESS])
        await self.counters.clear([limit.key for limit in limits if limit.scope == ACCOUNT])

    def _limits(self, login_name: str, address: str) -> list[_Limit]:
        limits = []
        if self.per_account:
            limits.append(
                _Limit(ACCOUNT, _key(ACCOUNT, normalize_login(login_name)), self.per_account)
            )
        if self.per_address:
            limits.append(_Limit(ADDRESS, _key(ADDRESS, address_bucket(address)), self.per_address))
        return limits


class HandshakeThrottle:
    """Live-channel handshakes per client address (`app.state.handshake_throttle`)."""

    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self.per_minute = settings.ws_handshakes_per_minute
        self.window = HANDSHAKE_WINDOW_SECONDS
        self._warned_at = -OUTAGE_WARNING_EVERY
        self.counters: Counters = RedisCounters(redis) if redis is not None else MemoryCounters()
        self._batched = redis is not None
        # Keys waiting for the next count in Redis, and the count under way.
        self._waiting: list[tuple[str, asyncio.Future[tuple[int, int]]]] = []
        self._counting: asyncio.Task[None] | None = None

    async def refusal(self, address: str) -> int | None:
        """Count one handshake from `address`: None lets it in; past the limit, the seconds until
        the window ends. A refused handshake is counted too (it cannot lengthen the window)."""
        if not self.per_minute:
            return None
        key = HANDSHAKE_KEY_PREFIX + _digest(address_bucket(address))
        try:
            if self._batched:
                count, ttl = await self._count(key)
            else:
                ((count, ttl),) = await self.counters.add([key], self.window)
        except Exception as exc:
            # Redis is down: links' sockets need nothing else from it, so they are let in
            # uncounted (nginx still limits each address) rather than refused.
            if outage_of(exc) is None:
                raise
            now = time.monotonic()
            if now - self._warned_at >= OUTAGE_WARNING_EVERY:
                self._warned_at = now
                logger.warning("live handshakes not counted: %s", exc)
            return None
        if count <= self.per_minute:
            return None
        if count == self.per_minute + 1:  # once per window, not once per refused socket
            logger.warning(
                "live handshakes refused: more than %s a minute from %s, for %s s",
                self.per_minute,
                address,
                ttl,
            )
        return ttl

    async def _count(self, key: str) -> tuple[int, int]:
        """Count `key` in the next call to Redis, with every key asked while one runs. The
        script counts a batch's keys in order, so an address twice in it counts twice."""
        answer: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        # Retrieved here, so a failure after its handshake went away is not logged again.
        answer.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._waiting.append((key, answer))
        if self._counting is None:
            self._counting = asyncio.create_task(self._drain(), name="confhub-handshakes")
        return await asyncio.shield(answer)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:HANDSHAKE_BATCH]
                del self._waiting[:HANDSHAKE_BATCH]
                try:
                    counts = await self.counters.add([key for key, _ in batch], self.window)
                except Exception as exc:
                    for _, answer in batch:
                        answer.set_exception(exc)
                    continue
                for (_, answer), count in zip(batch, counts, strict=True):
                    answer.set_result(count)
        finally:
            # No await between the last empty check and here: a new key starts a new count.
            self._counting = None


def normalize_login(login_name: str) -> str:
    """The login name as accounts are looked up (see `UserService.authenticate`)."""
    return login_name.strip().lower()


def address_bucket(address: str) -> str:
    """The unit an address is counted in: itself, or its /64 network for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP (a unix socket, a test client): counted as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address(request: Request[Any, Any, Any]) -> str:
    """The client's address, as uvicorn derived it from a trusted proxy's `X-Forwarded-For`."""
    return request.client.host if request.client else ""


def login_throttle(request: Request[Any, Any, Any]) -> LoginThrottle:
    """The app's sign-in throttle."""
    throttle = request.app.state.login_throttle
    assert isinstance(throttle, LoginThrottle)
    return throttle


def _key(scope: str, value: str) -> str:
    return KEY_PREFIX + scope + ":" + _digest(value)


def _digest(value: str) -> str:
    # Hashed: bounded length, and no e-mail addresses in Redis key names.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _loggable(login_name: str) -> str:
    name = normalize_login(login_name)
    return name if len(name) <= LOGGED_NAME_LENGTH else name[:LOGGED_NAME_LENGTH] + "…"
