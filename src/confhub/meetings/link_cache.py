"""A process's memory of check-in links for the live channel: which meeting and point a token
opens, or that it opens nothing, so reconnecting points and floods of the same made-up token
cost no database query.

Entries live `TTL_SECONDS` and at most `MAX_ENTRIES` are kept (the least recently used go
first). A link revoked, re-issued or uninvited is forgotten by this process when its transaction
commits, whatever door the change came through (an ORM listener on `Invitation`); another
process forgets it when its own entry expires, so a revoked link opens no new live socket
anywhere within `TTL_SECONDS`. A token that matches nothing is remembered as such: new links
are fresh random tokens, so such an answer never turns true later.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from confhub.core import tokens
from confhub.core.errors import ConfhubError
from confhub.core.i18n import N_
from confhub.db import DbSession
from confhub.meetings.models import Invitation
from confhub.meetings.tokens import find_invitation

TTL_SECONDS = 10.0
MAX_ENTRIES = 20_000
# Lookups of tokens this process does not remember, waiting or running at once: past this a
# flood of made-up tokens is told to come back (LinkLookupsBusyError) instead of queueing on the
# connection pool ahead of every check-in. A restart's reconnecting points retry in a second.
MAX_LOOKUPS_IN_FLIGHT = 100
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
            if self._in_flight >= self.max_lookups_in_flight:
                raise LinkLookupsBusyError
            generation = self._generation
            self._in_flight += 1
            try:
                async with open_session() as session:
                    link = await _lookup(session, token)
            finally:
                self._in_flight -= 1
            if generation == self._generation:
                self._remember(digest, link)
        return link if link is not None and link.meeting_id == meeting_id else None

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


async def _lookup(session: DbSession, token: str) -> Link | None:
    invitation = await find_invitation(session, token)
    return None if invitation is None else Link(invitation.meeting_id, invitation.point_id)


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
