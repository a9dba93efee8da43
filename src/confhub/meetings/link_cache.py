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
query each queued on the connection pool and turned most of them away busy). At the rush's
pace a lookup still served one or two phones, so the first unknown link of a meeting reads
all of that meeting's links (one query for 3,321) and the process remembers them like any
link it looked up: for `TTL_SECONDS`, forgotten on a committed change, each token still
compared with the stored secret in constant time. A token not among them (issued since, or
another meeting's) is looked up by its digest as before, unless the meeting's links were read
in that very transaction: then it opens nothing in that meeting.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

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
# A lookup reads whole the links of at most this many meetings (those most asked for), each up
# to MEETING_LINKS_MAX links (a larger meeting is read in part, the rest looked up by digest);
# the meetings read are remembered for TTL_SECONDS, at most MAX_MEETINGS of them.
MEETINGS_PER_LOOKUP = 2
MEETING_LINKS_MAX = 10_000
MAX_MEETINGS = 1_000
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


# What one stored link says: its secret (compared with the token presented) and what it opens.
Stored = tuple[str | None, Link]
# A token asked for (by digest) in a meeting.
Asked = tuple[str, int]
Waiting = dict[Asked, tuple[str, "asyncio.Future[Link | None]"]]


class _Entry(NamedTuple):
    """What the process remembers of one token, until `until`."""

    secret: str | None  # the stored secret; None: the token opens nothing
    link: Link | None
    until: float
    # Set: the token opens nothing in this meeting (it was not among its links, read whole),
    # and nothing is known of the others.
    only_meeting: int | None = None

    def answer(self, token: str, meeting_id: int, now: float) -> tuple[bool, Link | None]:
        """Whether this entry says what `token` opens in `meeting_id`, and what (None: none)."""
        if self.until <= now or self.only_meeting not in (None, meeting_id):
            return False, None
        if self.link is not None and tokens.same_token(self.secret, token):
            return True, self.link
        return True, None  # a digest matched with another secret: as a lookup would answer


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
        # Tokens waiting for the next lookup, and the lookup under way.
        self._waiting: Waiting = {}
        self._lookup: asyncio.Task[None] | None = None
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # Meetings whose links were read together, until when.
        self._meetings: OrderedDict[int, float] = OrderedDict()
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
        known, link = self._remembered(digest, token, meeting_id)
        if not known:
            link = await self._looked_up(open_session, token, (digest, meeting_id))
        return link if link is not None and link.meeting_id == meeting_id else None

    def _remembered(self, digest: str, token: str, meeting_id: int) -> tuple[bool, Link | None]:
        """Whether this process remembers what `token` opens in `meeting_id`, and what."""
        entry = self._entries.get(digest)
        if entry is None:
            return False, None
        known, link = entry.answer(token, meeting_id, self._clock())
        if known:
            self._entries.move_to_end(digest)
        return known, link

    async def _looked_up(
        self, open_session: Callable[[], Any], token: str, asked: Asked
    ) -> Link | None:
        """Wait for the next lookup with this token among those asked meanwhile."""
        waiting = self._waiting.get(asked)
        if waiting is not None:  # the same token (SHA-256): the same answer
            return await asyncio.shield(waiting[1])
        if self._in_flight >= self.max_lookups_in_flight:
            raise LinkLookupsBusyError
        answer: asyncio.Future[Link | None] = asyncio.get_running_loop().create_future()
        # Retrieved here, so a lookup that fails after its sockets left is not logged again.
        answer.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._waiting[asked] = (token, answer)
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
                # Tokens asked while their meeting's links were being read are known now.
                batch = self._answered_from_memory(batch)
                if not batch:
                    continue
                generation = self._generation
                to_read = self._meetings_to_read(meeting for _, meeting in batch)
                try:
                    async with open_session() as session:
                        found, whole = await _read_links(session, to_read, batch)
                except Exception as exc:
                    for _, answer in batch.values():
                        answer.set_exception(exc)
                    continue
                if generation == self._generation:
                    self._remember(found, to_read, batch, whole)
                for (digest, _), (token, answer) in batch.items():
                    stored = found.get(digest)
                    known = stored is not None and tokens.same_token(stored[0], token)
                    answer.set_result(stored[1] if stored is not None and known else None)
        finally:
            # No await between the last empty check and here: a new token starts a new lookup.
            self._lookup = None

    def _answered_from_memory(self, batch: Waiting) -> Waiting:
        """Answer the tokens of `batch` this process remembers now; the others."""
        rest: Waiting = {}
        for (digest, meeting_id), (token, answer) in batch.items():
            known, link = self._remembered(digest, token, meeting_id)
            if known:
                answer.set_result(link)
            else:
                rest[digest, meeting_id] = (token, answer)
        return rest

    def _meetings_to_read(self, asked: Iterable[int]) -> list[int]:
        """The meetings (most asked first) whose links a lookup reads whole: those not read
        lately, at most MEETINGS_PER_LOOKUP."""
        now = self._clock()
        lately = self._meetings
        fresh = [m for m, _ in Counter(asked).most_common() if lately.get(m, 0.0) <= now]
        return fresh[:MEETINGS_PER_LOOKUP]

    def forget(self, changed: set[tuple[int, int]]) -> None:
        """Forget the links of these (meeting, point) pairs (committed as changed)."""
        self._generation += 1
        stale = [d for d, entry in self._entries.items() if _pair(entry.link) in changed]
        for digest in stale:
            del self._entries[digest]

    def _remember(
        self, found: dict[str, Stored], meetings: list[int], batch: Waiting, whole: set[int]
    ) -> None:
        """Remember the links read, the tokens of `batch` that open none (in their meeting
        only, when it was read whole: they may open another), and the meetings read."""
        until = self._clock() + self.ttl
        for digest, meeting_id in batch:
            if digest not in found:
                only = meeting_id if meeting_id in whole else None
                self._entries[digest] = _Entry(None, None, until, only)
        for digest, (stored, link) in found.items():
            self._entries[digest] = _Entry(stored, link, until)
            self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        for meeting_id in meetings:
            self._meetings[meeting_id] = until
            self._meetings.move_to_end(meeting_id)
        while len(self._meetings) > MAX_MEETINGS:
            self._meetings.popitem(last=False)


async def _read_links(
    session: DbSession, meetings: list[int], batch: dict[Asked, Any]
) -> tuple[dict[str, Stored], set[int]]:
    """Every link of `meetings` and those of the other tokens of `batch`, by digest; and the
    meetings read whole (a token of theirs not found opens nothing in them)."""
    found: dict[str, Stored] = {}
    whole: set[int] = set()
    for meeting_id in meetings:
        rows = list(
            await session.execute(
                _links()
                .where(
                    Invitation.meeting_id == meeting_id,
                    Invitation.checkin_token_digest.is_not(None),
                )
                .limit(MEETING_LINKS_MAX + 1)
            )
        )
        if len(rows) <= MEETING_LINKS_MAX:
            whole.add(meeting_id)
        found.update(_stored(rows[:MEETING_LINKS_MAX]))
    rest = sorted({d for d, meeting in batch if d not in found and meeting not in whole})
    for start in range(0, len(rest), LOOKUP_CHUNK):
        chunk = rest[start : start + LOOKUP_CHUNK]
        rows = list(
            await session.execute(_links().where(Invitation.checkin_token_digest.in_(chunk)))
        )
        found.update(_stored(rows))
    return found, whole


def _links() -> Any:
    return select(
        Invitation.checkin_token_digest,
        Invitation.checkin_token,
        Invitation.meeting_id,
        Invitation.point_id,
    )


def _stored(rows: Iterable[Any]) -> dict[str, Stored]:
    """(digest, secret, meeting, point) rows, by digest."""
    return {
        digest: (stored, Link(meeting_id, point_id))
        for digest, stored, meeting_id, point_id in rows
    }


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
