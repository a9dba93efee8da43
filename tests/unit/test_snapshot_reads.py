"""Sockets asking for the same snapshot at once share a read that starts after each asked."""

from __future__ import annotations

import asyncio

import pytest

from confhub.attendance.snapshots import SnapshotReads, View


class CountingReads(SnapshotReads):
    """Reads of a meeting whose version moves on while it is read; counts the reads."""

    def __init__(self) -> None:
        super().__init__(db_config=None)
        self.version = 10
        self.reads = 0
        self.may_finish = asyncio.Event()
        self.started = asyncio.Event()

    async def _read(self, view: View) -> tuple[int, str]:
        self.reads += 1
        seen = self.version  # the state the read sees, taken when it starts
        self.started.set()
        await self.may_finish.wait()
        return seen, f'{{"type": "snapshot", "version": {seen}}}'


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


async def test_different_views_are_read_separately() -> None:
    reads = CountingReads()
    reads.may_finish.set()

    await asyncio.gather(
        reads.read(1, None, True), reads.read(1, None, False), reads.read(1, frozenset({7}), False)
    )

    assert reads.reads == 3


async def test_a_failed_read_fails_its_sockets_and_the_next_read_is_fresh() -> None:
    class Failing(CountingReads):
        async def _read(self, view: View) -> tuple[int, str]:
            if self.reads == 0:
                self.reads += 1
                raise RuntimeError("database went away")
            return await super()._read(view)

    reads = Failing()
    reads.may_finish.set()
    with pytest.raises(RuntimeError, match="went away"):
        await reads.read(1, None, True)

    assert (await reads.read(1, None, True))[0] == 10
