"""What each process remembers of the feeds: their versions for a second, and built calendars.

Versions: a short-lived memory, so most conditional GETs touch no database.

Calendar apps poll; a province's feed may be asked for by thousands of phones within a minute. A
feed's version (one aggregate query) is kept here for at most `VERSION_TTL` seconds. Any commit
in this process that changed a row a feed is built from (meetings, agenda, invitations, points,
units, provinces, users) forgets every remembered version at once, so the process that made a
change never answers from before it. Another worker process sees the change when its memory
expires, i.e. within `VERSION_TTL` — far below the 15 minutes calendar apps wait between polls.

Built calendars: by ETag (which names the content), bounded in bytes. When a meeting changes,
every subscribed phone fetches the feed again; the process builds it once, not once per phone.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from itertools import chain
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from confhub.accounts.models import User
from confhub.meetings.models import AgendaItem, Invitation, Meeting
from confhub.points.models import ConnectionPoint
from confhub.units.models import Province, Unit

VERSION_TTL = 1.0  # seconds
MAX_ENTRIES = 10_000
MAX_BODY_BYTES = 64 * 1024 * 1024
WATCHED = (Meeting, AgendaItem, Invitation, ConnectionPoint, Unit, Province, User)
_CHANGED = "confhub_calendar_changed"
V = TypeVar("V")


@dataclass(frozen=True)
class FeedVersion:
    """What a conditional GET is decided on."""

    etag: str
    last_modified: datetime
    private: bool = False
    parts: tuple[Any, ...] = field(default=(), repr=False)

    def not_modified(self, if_none_match: str | None, if_modified_since: str | None) -> bool:
        """RFC 9110: If-None-Match decides when present (weak comparison); else the date."""
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or self.etag in tags
        if if_modified_since:
            try:
                since = parse_http_date(if_modified_since)
            except ValueError:
                return False
            return self.last_modified.replace(microsecond=0) <= since
        return False


def parse_http_date(value: str) -> datetime:
    """An HTTP-date (IMF-fixdate and the obsolete forms) as an aware UTC datetime."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"not an HTTP date: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class _Generation:
    """Counts the commits in this process that changed what feeds are built from."""

    value = 0


def generation() -> int:
    """The current generation; a remembered version is good only within the one it was read in."""
    return _Generation.value


def bump() -> None:
    """Forget every remembered version (called after a commit that changed feed data)."""
    _Generation.value += 1


class VersionMemory(Generic[V]):
    """Remembered values by key, each good for `ttl` seconds within one generation."""

    def __init__(
        self,
        ttl: float = VERSION_TTL,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, int, V]] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        """The remembered value, or None when absent, expired or from an older generation."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, remembered_in, value = entry
        if remembered_in != _Generation.value or self._clock() >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: Hashable, value: V, read_in: int) -> None:
        """Remember `value`, read from the database during generation `read_in`."""
        if read_in != _Generation.value or self.ttl <= 0:
            return  # something changed while it was being read: do not keep it
        self._entries[key] = (self._clock() + self.ttl, read_in, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()


class BodyMemory:
    """Built calendars by ETag, the least recently used dropped past `max_bytes`."""

    def __init__(self, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._building: dict[str, asyncio.Lock] = {}

    async def get_or_build(self, etag: str, build: Callable[[], Awaitable[bytes]]) -> bytes:
        """The calendar of `etag`, built by `build` only if nobody has (or is building) it."""
        body = self._recall(etag)
        if body is not None:
            return body
        lock = self._building.setdefault(etag, asyncio.Lock())
        try:
            async with lock:
                body = self._recall(etag)
                if body is None:
                    body = await build()
                    self._keep(etag, body)
                return body
        finally:
            if not lock.locked():
                self._building.pop(etag, None)

    def _recall(self, etag: str) -> bytes | None:
        body = self._bodies.get(etag)
        if body is not None:
            self._bodies.move_to_end(etag)
        return body

    def _keep(self, etag: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        self._bodies[etag] = body
        self._size += len(body)
        while self._size > self.max_bytes:
            _, dropped = self._bodies.popitem(last=False)
            self._size -= len(dropped)


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session: Session, _flush: UOWTransaction) -> None:
    if any(
        isinstance(instance, WATCHED)
        for instance in chain(session.new, session.dirty, session.deleted)
    ):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        mapper = state.bind_mapper
        if mapper is None or issubclass(mapper.class_, WATCHED):
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _forget_on_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        bump()
