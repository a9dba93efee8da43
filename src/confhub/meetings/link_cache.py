"""A process's memory of check-in links for the live channel: which meeting and point a token
opens, or that it opens nothing, so reconnecting points and floods of the same made-up token
cost no database query.

Entries live `TTL_SECONDS` and at most `MAX_ENTRIES` are kept (the least recently used go
first). A link revoked, re-issued or uninvited is forgotten by this process when its transaction
commits, whatever door the change came through (an ORM listener on `Invitation`); another
process forgets it when its own entry expires, so a revoked link opens no new live socket
anywhere within `TTL_SECONDS`. A token that matches nothing is remembered as such: new links
are fresh random tokens, so such an answer never turns true later.

Tokens the process does not remember are looked up together: those asked while a lookup runs
wait for the next one, a single query for all of them (3,321 phones connect within half a
minute at the start of a national meeting, and all at once after a network failure; one
query each queued on the connection pool and turned most of them away busy).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from confhub.core import tokens
from confhub.core.errors import ConfhubError
from confhub.core.i18n import N_
from confhub.db import DbSession
from confhub.meetings.models import Invitation

TTL_SECONDS = 10.0
MAX_ENTRIES = 20_000
# Lookups of tokens this process does not remember, waiting or running at once: past this a
# flood of made-up tokens is told to come back (LinkLookupsBusyError) instead of growing the
# queue without end. They take one connection whatever their number (one query per
# LOOKUP_CHUNK), so the bound is about memory: a national roll call's every point fits.
MAX_LOOKUPS_IN_FLIGHT = 4000
LOOKUP_CHUNK = 500
# The key of the cache in a session's `info` (put there by the app's database configuration).
SESSION_INFO_KEY = "confhub_link_cache"
_CHANGED_KEY = "confhub_changed_links"


class LinkLookupsBusyError(ConfhubError):
    """Too many links are being looked up in this process right now; try again shortly."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__(N_("Busy; try again in %(seconds)s s"), seconds=1)
        self.headers = {"Retry-After": "1"}


@dataclass(frozen=True)
class Link:
    """What a valid check-in link opens."""

    meeting_id: int
    point_id: int


class LinkCache:
    """Token digest → :class:`Link` or None (opens nothing), bounded and expiring."""

    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self.max_lookups_in_flight = MAX_LOOKUPS_IN_FLIGHT
        self._in_flight = 0
        # Tokens (by digest) waiting for the next lookup, and the lookup under way.
        self._waiting: dict[str, tuple[str, asyncio.Future[Link | None]]] = {}
        self._lookup: asyncio.Task[None] | None = None
        self._entries: OrderedDict[str, tuple[Link | None, float]] = OrderedDict()
        # Bumped by every forget: a lookup that raced a revocation does not store its answer.
        self._generation = 0

    async def find(
        self, open_session: Callable[[], Any], token: str, meeting_id: int
    ) -> Link | None:
        """The link `token` opens in `meeting_id`; None for a malformed, unknown, revoked or
        other meeting's token. The database is asked (through `open_session()`) only when this
        process does not remember the answer; :class:`LinkLookupsBusyError` when too many such
        lookups are under way."""
        if not tokens.well_formed(token):
            return None
        digest = tokens.token_digest(token)
        remembered = self._entries.get(digest)
        if remembered is not None and remembered[1] > self._clock():
            self._entries.move_to_end(digest)
            link = remembered[0]
        else:
            link = await self._looked_up(open_session, token, digest)
        return link if link is not None and link.meeting_id == meeting_id else None

    async def _looked_up(
        self, open_session: Callable[[], Any], token: str, digest: str
    ) -> Link | None:
        """Wait for the next lookup with this token among those asked meanwhile."""
        waiting = self._waiting.get(digest)
        if waiting is not None:  # the same token (SHA-256): the same answer
            return await asyncio.shield(waiting[1])
        if self._in_flight >= self.max_lookups_in_flight:
            raise LinkLookupsBusyError
        answer: asyncio.Future[Link | None] = asyncio.get_running_loop().create_future()
        # Retrieved here, so a lookup that fails after its sockets left is not logged again.
        answer.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._waiting[digest] = (token, answer)
        self._in_flight += 1
        if self._lookup is None:
            self._lookup = asyncio.create_task(self._drain(open_session), name="confhub-links")
        try:
            return await asyncio.shield(answer)
        finally:
            self._in_flight -= 1

    async def _drain(self, open_session: Callable[[], Any]) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                generation = self._generation
                try:
                    async with open_session() as session:
                        found = await _lookup_all(session, batch)
                except Exception as exc:
                    for _, answer in batch.values():
                        answer.set_exception(exc)
                    continue
                for digest, (_, answer) in batch.items():
                    if generation == self._generation:
                        self._remember(digest, found.get(digest))
                    answer.set_result(found.get(digest))
        finally:
            # No await between the last empty check and here: a new token starts a new lookup.
            self._lookup = None

    def forget(self, changed: set[tuple[int, int]]) -> None:
        """Forget the links of these (meeting, point) pairs (committed as changed)."""
        self._generation += 1
        stale = [d for d, (link, _) in self._entries.items() if _pair(link) in changed]
        for digest in stale:
            del self._entries[digest]

    def _remember(self, digest: str, link: Link | None) -> None:
        self._entries[digest] = (link, self._clock() + self.ttl)
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


async def _lookup_all(
    session: DbSession, batch: dict[str, tuple[str, asyncio.Future[Link | None]]]
) -> dict[str, Link]:
    """The links of the tokens of `batch` (by digest) that open one, compared in constant time
    as `meetings.tokens.find_invitation` does; a query per LOOKUP_CHUNK tokens."""
    digests = sorted(batch)
    found: dict[str, Link] = {}
    for start in range(0, len(digests), LOOKUP_CHUNK):
        rows = await session.execute(
            select(
                Invitation.checkin_token_digest,
                Invitation.checkin_token,
                Invitation.meeting_id,
                Invitation.point_id,
            ).where(Invitation.checkin_token_digest.in_(digests[start : start + LOOKUP_CHUNK]))
        )
        for digest, stored, meeting_id, point_id in rows:
            if digest in batch and tokens.same_token(stored, batch[digest][0]):
                found[digest] = Link(meeting_id, point_id)
    return found


def _pair(link: Link | None) -> tuple[int, int] | None:
    return None if link is None else (link.meeting_id, link.point_id)


def _after_flush(session: Session, _context: Any) -> None:
    changed: set[tuple[int, int]] = session.info.setdefault(_CHANGED_KEY, set())
    for item in session.deleted:
        if isinstance(item, Invitation):
            changed.add((item.meeting_id, item.point_id))
    for item in session.dirty:
        if isinstance(item, Invitation) and _token_changed(item):
            changed.add((item.meeting_id, item.point_id))


def _token_changed(invitation: Invitation) -> bool:
    return bool(inspect(invitation).attrs.checkin_token_digest.history.has_changes())


def _after_commit(session: Session) -> None:
    changed: set[tuple[int, int]] = session.info.pop(_CHANGED_KEY, set())
    cache = session.info.get(SESSION_INFO_KEY)
    if changed and isinstance(cache, LinkCache):
        cache.forget(changed)


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED_KEY, None)


_installed = False


def install() -> None:
    """Register the listeners that tell caches about committed link changes (once)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _installed = True
