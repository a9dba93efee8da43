"""A feed's version: the conditional-GET decision, and the per-process memory of versions that a
commit changing feed data clears at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.calendar import versions
from confhub.calendar.versions import FeedVersion, VersionMemory, parse_http_date
from confhub.meetings.models import Meeting
from confhub.units.models import Unit

pytestmark = pytest.mark.unit

VERSION = FeedVersion('"abc"', datetime(2025, 9, 10, 7, 0, 30, 500_000, tzinfo=UTC))


@pytest.mark.parametrize(
    ("if_none_match", "if_modified_since", "expected"),
    [
        (None, None, False),
        ('"abc"', None, True),
        ('W/"abc"', None, True),
        ('"x", "abc"', None, True),
        ("*", None, True),
        ('"x"', None, False),
        ('"x"', "Wed, 10 Sep 2025 08:00:00 GMT", False),
        (None, "Wed, 10 Sep 2025 07:00:30 GMT", True),
        (None, "Wed, 10 Sep 2025 07:00:29 GMT", False),
        (None, "Wednesday, 10-Sep-25 07:00:30 GMT", True),
        (None, "not a date", False),
        (None, "", False),
    ],
)
def test_not_modified(
    if_none_match: str | None, if_modified_since: str | None, expected: bool
) -> None:
    assert VERSION.not_modified(if_none_match, if_modified_since) is expected


def test_parse_http_date() -> None:
    assert parse_http_date("Wed, 10 Sep 2025 07:00:00 GMT") == datetime(2025, 9, 10, 7, tzinfo=UTC)
    with pytest.raises(ValueError, match="not an HTTP date"):
        parse_http_date("10/09/2025")


def test_memory_keeps_a_value_for_its_ttl_within_one_generation() -> None:
    # A clock of the test's own (patching time.monotonic would stop every clock of the process).
    clock = [100.0]
    memory: VersionMemory[str] = VersionMemory(ttl=1.0, max_entries=2, clock=lambda: clock[0])
    memory.put("a", "x", versions.generation())
    assert memory.get("a") == "x"
    clock[0] += 1.0
    assert memory.get("a") is None, "expired"

    memory.put("a", "x", versions.generation())
    versions.bump()
    assert memory.get("a") is None, "a commit changed feed data"

    stale = versions.generation()
    versions.bump()
    memory.put("a", "x", stale)
    assert memory.get("a") is None, "read before a change: not kept"

    for key in ("a", "b", "c"):
        memory.put(key, key, versions.generation())
    assert [memory.get(k) for k in ("a", "b", "c")] == [None, "b", "c"], "bounded, oldest out"
    assert VersionMemory(ttl=0).get("a") is None


async def test_a_commit_that_changes_feed_data_clears_the_memory(db_session: AsyncSession) -> None:
    before = versions.generation()
    await db_session.scalar(select(Unit.name).where(Unit.code == 15148))
    await db_session.commit()
    assert versions.generation() == before, "reading changes nothing"

    unit = await db_session.get(Unit, 15148)
    assert unit is not None
    unit.name = "Xã Cẩm Tú (mới)"
    await db_session.flush()
    assert versions.generation() == before, "not before the commit"
    await db_session.commit()
    assert versions.generation() == before + 1

    await db_session.execute(update(Meeting).where(Meeting.id == -1).values(title="x"))
    await db_session.commit()
    assert versions.generation() == before + 2, "bulk statements count too"


async def test_body_memory_builds_once_and_stays_within_its_bytes() -> None:
    memory = versions.BodyMemory(max_bytes=10)
    calls: list[str] = []

    async def build(body: bytes) -> bytes:
        calls.append(body.decode())
        await asyncio.sleep(0.01)
        return body

    together = await asyncio.gather(
        *(memory.get_or_build('"a"', lambda: build(b"aaaa")) for _ in range(5))
    )
    assert together == [b"aaaa"] * 5
    assert calls == ["aaaa"], "five clients at once, one build"
    await memory.get_or_build('"b"', lambda: build(b"bbbb"))
    await memory.get_or_build('"c"', lambda: build(b"cccc"))  # 12 bytes > 10: "a" goes
    await memory.get_or_build('"b"', lambda: build(b"bbbb"))
    await memory.get_or_build('"a"', lambda: build(b"aaaa"))
    assert calls == ["aaaa", "bbbb", "cccc", "aaaa"]
    await memory.get_or_build('"big"', lambda: build(b"x" * 11))
    await memory.get_or_build('"big"', lambda: build(b"x" * 11))
    assert calls[-2:] == ["x" * 11] * 2, "a body larger than the memory is not kept"
