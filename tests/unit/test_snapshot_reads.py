"""Sockets asking for the same snapshot at once share a read that starts after each asked;
point clients of one meeting asking at once share one read of all their points."""

from __future__ import annotations

import asyncio

import pytest

from confhub.attendance.snapshots import Batch, Encoded, SnapshotReads, View


class CountingReads(SnapshotReads):
    """Reads of a meeting whose version moves on while it is read; counts the reads."""

    def __init__(self) -> None:
        super().__init__(db_config=None)
        self.version = 10
        self.reads = 0
        self.read_views: list[frozenset[View]] = []
        self.may_finish = asyncio.Event()
        self.started = asyncio.Event()

    async def _read(self, batch: Batch, views: frozenset[View]) -> dict[View, Encoded]:
        self.reads += 1
        self.read_views.append(views)
        seen = self.version  # the state the read sees, taken when it starts
        self.started.set()
        await self.may_finish.wait()
        return {view: (seen, f'{{"version": {seen}, "points": "{view}"}}') for view in views}


async def test_boards_opening_together_share_one_read() -> None:
    reads = CountingReads()
    reads.may_finish.set()

    results = await asyncio.gather(*(reads.read(1, None, True) for _ in range(50)))

    assert reads.reads == 1
    assert {version for version, _ in results} == {10}


async def test_a_socket_asking_during_a_read_gets_the_next_newer_one() -> None:
    reads = CountingReads()
    first = asyncio.create_task(reads.read(1, None, True))
    await reads.started.wait()  # the first read has seen version 10
    reads.version = 11  # a check-in lands while it is being read
    late = [asyncio.create_task(reads.read(1, None, True)) for _ in range(5)]
    await asyncio.sleep(0)
    reads.may_finish.set()

    assert (await first)[0] == 10
    assert {(await task)[0] for task in late} == {11}  # not the read that began before them
    assert reads.reads == 2


async def test_boards_and_points_are_read_separately() -> None:
    reads = CountingReads()
    reads.may_finish.set()

    await asyncio.gather(
        reads.read(1, None, True),
        reads.read(1, None, False),
        reads.read(1, frozenset({7}), False),
        reads.read(2, frozenset({7}), False),
    )

    assert reads.reads == 4


async def test_points_connecting_together_share_one_read_each_with_its_own_frame() -> None:
    reads = CountingReads()
    first = asyncio.create_task(reads.read(1, frozenset({1}), False))
    await reads.started.wait()
    others = [asyncio.create_task(reads.read(1, frozenset({p}), False)) for p in range(2, 40)]
    await asyncio.sleep(0)
    reads.may_finish.set()

    assert (await first)[1] == '{"version": 10, "points": "frozenset({1})"}'
    frames = [await task for task in others]
    assert reads.reads == 2  # the first point's read, then one for the 38 that came meanwhile
    assert reads.read_views[1] == frozenset(frozenset({p}) for p in range(2, 40))
    assert [frame for _, frame in frames] == [
        f'{{"version": 10, "points": "frozenset({{{p}}})"}}' for p in range(2, 40)
    ]


async def test_a_failed_read_fails_its_sockets_and_the_next_read_is_fresh() -> None:
    class Failing(CountingReads):
        async def _read(self, batch: Batch, views: frozenset[View]) -> dict[View, Encoded]:
            if self.reads == 0:
                self.reads += 1
                raise RuntimeError("database went away")
            return await super()._read(batch, views)

    reads = Failing()
    reads.may_finish.set()
    with pytest.raises(RuntimeError, match="went away"):
        await reads.read(1, None, True)

    assert (await reads.read(1, None, True))[0] == 10
