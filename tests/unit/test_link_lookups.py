"""Check-in links the process does not remember are looked up together: the tokens asked while
a lookup runs share the next one, each getting its own answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from confhub.core import tokens
from confhub.meetings.link_cache import Link, LinkCache


class Rows:
    """What the lookup's query answers: (digest, token, meeting, point) of known links."""

    def __init__(self, links: dict[str, tuple[int, int]]) -> None:
        self.links = links
        self.queries = 0
        self.started = asyncio.Event()
        self.may_answer = asyncio.Event()

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        yield self

    async def execute(self, statement: Any) -> list[tuple[str, str, int, int]]:
        self.queries += 1
        self.started.set()
        await self.may_answer.wait()
        asked = set(statement.compile().params["checkin_token_digest_1"])
        return [
            (tokens.token_digest(token), token, meeting, point)
            for token, (meeting, point) in self.links.items()
            if tokens.token_digest(token) in asked
        ]


def token(n: int) -> str:
    return f"{n:022d}"


async def test_tokens_asked_during_a_lookup_share_the_next_one() -> None:
    rows = Rows({token(n): (1, 100 + n) for n in range(30)})
    cache = LinkCache()
    first = asyncio.create_task(cache.find(rows.session, token(0), 1))
    await rows.started.wait()
    others = [asyncio.create_task(cache.find(rows.session, token(n), 1)) for n in range(1, 40)]
    await asyncio.sleep(0)
    rows.may_answer.set()

    assert await first == Link(1, 100)
    found = [await task for task in others]
    assert found == [Link(1, 100 + n) for n in range(1, 30)] + [None] * 10  # unknown tokens
    assert rows.queries == 2
    # Remembered now, known or not: no more queries.
    assert await cache.find(rows.session, token(5), 1) == Link(1, 105)
    assert await cache.find(rows.session, token(35), 1) is None
    assert await cache.find(rows.session, token(5), 2) is None  # another meeting's link
    assert rows.queries == 2


async def test_a_failed_lookup_fails_its_sockets_and_the_next_one_asks_again() -> None:
    class Failing(Rows):
        async def execute(self, statement: Any) -> list[tuple[str, str, int, int]]:
            if not self.queries:
                self.queries += 1
                raise ConnectionError("database went away")
            return await super().execute(statement)

    rows = Failing({token(1): (1, 101)})
    rows.may_answer.set()
    cache = LinkCache()
    with pytest.raises(ConnectionError, match="went away"):
        await cache.find(rows.session, token(1), 1)
    assert await cache.find(rows.session, token(1), 1) == Link(1, 101)
