"""Check-in links the process does not remember are looked up together: a meeting's first
unknown link reads all of that meeting's links, the tokens asked while a lookup runs share the
next one, each getting its own answer, and a link changed or expired is asked for again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from confhub.core import tokens
from confhub.meetings.link_cache import Link, LinkCache


class Rows:
    """What the lookup's queries answer: (digest, token, meeting, point) of the known links of
    a meeting, or of the digests asked."""

    def __init__(self, links: dict[str, tuple[int, int]]) -> None:
        self.links = links
        self.queries: list[str] = []  # "meeting" or "digests", in order
        self.sessions = 0
        self.started = asyncio.Event()
        self.may_answer = asyncio.Event()

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        self.sessions += 1
        yield self

    async def execute(self, statement: Any) -> list[tuple[str, str, int, int]]:
        params = statement.compile().params
        self.queries.append("meeting" if "meeting_id_1" in params else "digests")
        self.started.set()
        await self.may_answer.wait()
        rows = [
            (tokens.token_digest(token), token, meeting, point)
            for token, (meeting, point) in self.links.items()
        ]
        if "meeting_id_1" in params:
            return [row for row in rows if row[2] == params["meeting_id_1"]]
        asked = set(params["checkin_token_digest_1"])
        return [row for row in rows if row[0] in asked]


def token(n: int) -> str:
    return f"{n:022d}"


async def test_a_meetings_links_are_read_together_on_its_first_unknown_link() -> None:
    rows = Rows({token(n): (1, 100 + n) for n in range(30)} | {token(40): (2, 140)})
    rows.may_answer.set()
    cache = LinkCache()
    assert await cache.find(rows.session, token(0), 1) == Link(1, 100)
    assert rows.queries == ["meeting"]
    # Every other link of meeting 1 was read with it.
    for n in range(1, 30):
        assert await cache.find(rows.session, token(n), 1) == Link(1, 100 + n)
    assert rows.queries == ["meeting"]
    # A token not among them is still looked up: another meeting's link, or none.
    assert await cache.find(rows.session, token(40), 1) is None
    assert await cache.find(rows.session, token(35), 1) is None
    assert rows.queries == ["meeting", "digests", "digests"]
    assert await cache.find(rows.session, token(40), 2) == Link(2, 140)  # remembered
    assert await cache.find(rows.session, token(35), 1) is None
    assert rows.queries == ["meeting", "digests", "digests"]


async def test_tokens_asked_during_a_lookup_share_the_next_one() -> None:
    links = {token(n): (1, 100 + n) for n in range(30)}
    rows = Rows(links | {token(n): (2, 100 + n) for n in range(50, 55)})
    cache = LinkCache()
    first = asyncio.create_task(cache.find(rows.session, token(0), 1))
    await rows.started.wait()
    ones = [asyncio.create_task(cache.find(rows.session, token(n), 1)) for n in range(1, 40)]
    twos = [asyncio.create_task(cache.find(rows.session, token(n), 2)) for n in range(50, 55)]
    await asyncio.sleep(0)
    rows.may_answer.set()

    assert await first == Link(1, 100)
    found = [await task for task in ones]
    assert found == [Link(1, 100 + n) for n in range(1, 30)] + [None] * 10  # unknown tokens
    assert [await task for task in twos] == [Link(2, 100 + n) for n in range(50, 55)]
    # Meeting 1's links read; then meeting 2's and the unknown tokens in one transaction.
    assert (rows.queries, rows.sessions) == (["meeting", "meeting", "digests"], 2)
    # Remembered now, known or not: no more queries.
    assert await cache.find(rows.session, token(5), 1) == Link(1, 105)
    assert await cache.find(rows.session, token(35), 1) is None
    assert await cache.find(rows.session, token(5), 2) is None  # another meeting's link
    assert len(rows.queries) == 3


async def test_a_token_not_among_links_just_read_opens_nothing_there_without_a_lookup() -> None:
    rows = Rows({token(1): (1, 101), token(2): (2, 102)})
    rows.may_answer.set()
    cache = LinkCache()
    # Meeting 1's links read in this very lookup: a token not among them opens nothing there.
    assert await cache.find(rows.session, token(2), 1) is None
    assert rows.queries == ["meeting"]
    assert await cache.find(rows.session, token(2), 1) is None  # remembered, for meeting 1
    assert rows.queries == ["meeting"]
    # Remembered as opening nothing in meeting 1 only: it opens meeting 2.
    assert await cache.find(rows.session, token(2), 2) == Link(2, 102)
    assert rows.queries == ["meeting", "meeting"]


async def test_changed_and_expired_links_are_asked_for_again() -> None:
    now = [0.0]
    rows = Rows({token(n): (1, 100 + n) for n in range(10)})
    rows.may_answer.set()
    cache = LinkCache(ttl=10.0, clock=lambda: now[0])
    assert await cache.find(rows.session, token(0), 1) == Link(1, 100)
    # Revoked here (committed: forgotten at once) after its meeting's links were read.
    del rows.links[token(5)]
    cache.forget({(1, 105)})
    assert await cache.find(rows.session, token(5), 1) is None
    assert rows.queries == ["meeting", "digests"]
    # Revoked in another process: remembered until the links expire, then read afresh.
    del rows.links[token(6)]
    assert await cache.find(rows.session, token(6), 1) == Link(1, 106)
    now[0] = 10.5
    assert await cache.find(rows.session, token(6), 1) is None
    assert await cache.find(rows.session, token(7), 1) == Link(1, 107)
    assert rows.queries == ["meeting", "digests", "meeting"]


async def test_a_failed_lookup_fails_its_sockets_and_the_next_one_asks_again() -> None:
    class Failing(Rows):
        async def execute(self, statement: Any) -> list[tuple[str, str, int, int]]:
            if not self.queries:
                self.queries.append("failed")
                raise ConnectionError("database went away")
            return await super().execute(statement)

    rows = Failing({token(1): (1, 101)})
    rows.may_answer.set()
    cache = LinkCache()
    with pytest.raises(ConnectionError, match="went away"):
        await cache.find(rows.session, token(1), 1)
    assert await cache.find(rows.session, token(1), 1) == Link(1, 101)
