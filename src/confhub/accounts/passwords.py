"""Password hashing with argon2id; clear-text passwords never leave this module's callers.

An argon2id hash (RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes) takes about
130 ms of CPU here. On the event loop that would stall every live socket of the process for
each sign-in, so hashing runs in one thread of its own: sign-ins queue there, one hash (one
64 MiB buffer) at a time per process, while check-ins and heartbeats go on.

The cost comes from the settings (`CONFHUB_PASSWORD_HASH_*`): the app sets it when it is built
(:func:`use_hash_cost`), and code without an app (seeding, commands) gets the environment's.
Verifying reads the parameters stored in each hash, whatever the current cost.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from confhub.settings import Settings, get_settings

MIN_PASSWORD_LENGTH = 8

_hasher: PasswordHasher | None = None
_hashing_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="confhub-argon2")


def use_hash_cost(settings: Settings) -> None:
    """Hash new passwords with the argon2id cost of `settings` in this process."""
    global _hasher
    cost = (
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
    )
    if _hasher is None or (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism) != cost:
        _hasher = PasswordHasher(time_cost=cost[0], memory_cost=cost[1], parallelism=cost[2])
        _dummy_hash.cache_clear()


def _current_hasher() -> PasswordHasher:
    if _hasher is None:
        use_hash_cost(get_settings())
    assert _hasher is not None
    return _hasher


async def hash_password(password: str) -> str:
    """An argon2id hash of `password`, computed off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hashing_thread, _current_hasher().hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`; with no hash, spends the same time and fails.

    Computed off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hashing_thread, _verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        matches = _current_hasher().verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matches and password_hash is not None


@functools.cache
def _dummy_hash() -> str:
    # Verified against when the e-mail is unknown, so a wrong e-mail costs as much time as a
    # wrong password and timing does not tell which half was wrong. Made on first use, not at
    # import: every process and command would otherwise pay 130 ms and a 64 MiB peak.
    # Made with the current cost, so an unknown e-mail costs what a new password's check does.
    return _current_hasher().hash("confhub-timing-equaliser")
