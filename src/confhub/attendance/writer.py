"""The one write path of a meeting's attendance, whatever door a change came through (the
JSON API, the live channel, the check-in page's form): check-ins, signals and rehearsals are
stored here, each meeting's in turn (`one_writer`), in transactions of their own.

Check-ins are group-committed: those that arrive while one transaction is being stored are
stored together in the next. In a national roll call a few hundred answers a second reach one
process, and each meeting takes them one transaction at a time (its version counter is locked
until commit; SQLite has one writer for the whole file). One transaction per answer would queue
them for seconds; one per burst costs a handful of statements and one commit whatever the
burst's size, and each answer is still acknowledged only once it is committed.

The queue serves check-ins first, then the desk's work, then receipts and presence
(`Priority`), each class in its order of arrival and none passed over more than a few times in
a row: in a roll call every write of the meeting passes through it, and a check-in should not
wait behind ten thousand announcement receipts.

Callers hand their request's connection back before they wait here (commit their session), so
however many wait, they hold no pooled connection meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sys
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TypeVar

from confhub.accounts.principal import Principal
from confhub.attendance.readiness import record_signal, set_rehearsal
from confhub.attendance.rollcall import CheckinOutcome, store_checkins
from confhub.attendance.schemas import CheckinWrite
from confhub.core.errors import ConfhubError, NotFoundError
from confhub.core.i18n import N_
from confhub.db import DbSession, is_sqlite
from confhub.meetings.actors import Actor
from confhub.meetings.models import Meeting
from confhub.system import metrics

logger = logging.getLogger("confhub.live")
T = TypeVar("T")
K = TypeVar("K")

# Answers per transaction: a burst larger than this is stored in several, back to back.
MAX_BATCH = 200


class Priority(IntEnum):
    """Who goes first in a meeting's writer queue when several wait (lower first)."""

    # The roll call's answers, whatever door they came through: what the meeting waits for.
    CHECKIN = 0
    # The desk: speaking requests, incidents, announcements, the secretariat's and technicians'
    # steps, link signals and the test run.
    DESK = 1
    # What nobody waits for and many send at once: announcement receipts and presence, each
    # burst stored in one transaction (taken once the queue is theirs, so it grows while they
    # wait).
    BACKGROUND = 2


# How many times in a row a waiting class may be passed over before it is served, whoever else
# waits: check-ins go first, but the desk's work and the receipts still progress in a roll call
# that fills the queue (one desk transaction after at most 3 others, one background transaction
# after at most 5).
PASSED_OVER_AT_MOST = {Priority.DESK: 3, Priority.BACKGROUND: 5}


class WriterQueue:
    """One meeting's writers in this process, one transaction at a time: each class in the order
    it arrived, a higher class before a lower one, within `PASSED_OVER_AT_MOST`.

    When a writer leaves, the next is chosen on the loop's next turn, not at once: a worker
    storing a class's bursts back to back (the check-ins') asks again before that, so it keeps
    its place ahead of the lower classes instead of queueing behind them."""

    def __init__(self) -> None:
        self._held = False
        self._choosing = False
        self._waiting: dict[Priority, deque[asyncio.Future[None]]] = {p: deque() for p in Priority}
        self._passed = dict.fromkeys(Priority, 0)

    def hold(self, priority: Priority) -> _Hold:
        """`async with queue.hold(priority)`: the queue is this writer's inside."""
        return _Hold(self, priority)

    def waiting(self, priority: Priority) -> int:
        """How many writers of `priority` wait for their turn."""
        return sum(not turn.done() for turn in self._waiting[priority])

    async def acquire(self, priority: Priority) -> None:
        """Wait for this writer's turn; the caller must `release` after."""
        if not self._held and not self._choosing and not any(self._waiting.values()):
            self._held = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[priority].append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # given the turn as it was cancelled: the next one's
            elif turn in self._waiting[priority]:
                self._waiting[priority].remove(turn)
            raise

    def release(self) -> None:
        """Leave the queue to the next writer (chosen on the loop's next turn)."""
        self._held = False
        if not self._choosing:
            self._choosing = True
            asyncio.get_running_loop().call_soon(self._choose)

    def _choose(self) -> None:
        self._choosing = False
        if self._held:
            return
        for waiting in self._waiting.values():
            while waiting and waiting[0].done():  # cancelled while waiting
                waiting.popleft()
        classes = [p for p in Priority if self._waiting[p]]
        if not classes:
            return
        starved = [p for p in classes if self._passed[p] >= PASSED_OVER_AT_MOST.get(p, sys.maxsize)]
        chosen = (starved or classes)[0]
        for other in classes:
            self._passed[other] = 0 if other == chosen else self._passed[other] + 1
        self._held = True
        self._waiting[chosen].popleft().set_result(None)


@dataclass
class _Hold:
    queue: WriterQueue
    priority: Priority
    turn_at: float = 0.0

    async def __aenter__(self) -> None:
        asked_at = time.perf_counter()
        await self.queue.acquire(self.priority)
        self.turn_at = time.perf_counter()
        _WAITED[self.priority].observe(self.turn_at - asked_at)

    async def __aexit__(self, *exc: object) -> None:
        self.queue.release()
        _HELD[self.priority].observe(time.perf_counter() - self.turn_at)


_WAITED = {p: metrics.WRITER_WAIT.labels(priority=p.name.lower()) for p in Priority}
_HELD = {p: metrics.WRITER_HELD.labels(priority=p.name.lower()) for p in Priority}


# A meeting's versions are taken one transaction at a time: its row stays locked until commit
# on PostgreSQL, and SQLite has one writer for the whole database. This process's attendance
# writers queue here, by `Priority`, instead of each holding a pooled connection while it waits:
# in a burst of check-ins those take every connection (the hub then cannot fill gaps, its reader
# dies and boards stop hearing anything), and on SQLite they poll the lock with busy_timeout's
# backoff (up to 100 ms between tries), starving some for seconds.
_writers: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakValueDictionary[int, WriterQueue]
] = weakref.WeakKeyDictionary()


def writer_queue(db_config: Any, meeting_id: int) -> WriterQueue:
    """A meeting's writer queue in this process (on SQLite, the whole database's)."""
    key = 0 if is_sqlite(db_config.get_engine()) else meeting_id
    queues = _writers.setdefault(asyncio.get_running_loop(), weakref.WeakValueDictionary())
    queue = queues.get(key)
    if queue is None:
        queue = queues[key] = WriterQueue()
    return queue


def one_writer(db_config: Any, meeting_id: int, priority: Priority) -> _Hold:
    """Hold around a whole write transaction on a meeting's attendance: that meeting's queue
    in this process (on SQLite, the whole database's), in `priority`'s turn."""
    return writer_queue(db_config, meeting_id).hold(priority)


def take(waiting: dict[K, list[T]], key: K, limit: int) -> list[T]:
    """The first `limit` of what waits under `key` (the key gone once nothing is left)."""
    items = waiting[key]
    taken, rest = items[:limit], items[limit:]
    if rest:
        waiting[key] = rest
    else:
        del waiting[key]
    return taken


@dataclass
class _Answer:
    actor: Actor
    data: CheckinWrite
    done: asyncio.Future[CheckinOutcome]


class AttendanceWriter:
    """Stores this process's attendance changes, per meeting: check-ins a burst per
    transaction, signals and rehearsals one by one, all in the meeting's one queue."""

    def __init__(self, db_config: Any) -> None:
        self.db_config = db_config
        self._waiting: dict[int, list[_Answer]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}

    async def submit(self, meeting_id: int, actor: Actor, data: CheckinWrite) -> CheckinOutcome:
        """Store one answer (or find the one stored under its key); returns once committed.

        Raises what refused it (`ConfhubError`: bad input, another point, roll call closed).
        """
        done: asyncio.Future[CheckinOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(meeting_id, []).append(_Answer(actor, data, done))
        if meeting_id not in self._workers:
            self._workers[meeting_id] = asyncio.create_task(
                self._drain(meeting_id), name=f"confhub-checkins-{meeting_id}"
            )
        # The worker stores the answer even if this caller goes away (a socket closing): the
        # client sends it again with the same key and is told it is stored.
        return await asyncio.shield(done)

    async def signal(
        self, meeting_id: int, actor: Actor, point_id: int, signal: str
    ) -> dict[str, Any] | None:
        """Store a technician's report of a point's link; returns its delta (None when the
        point already reported it). Raises what refused it (`ConfhubError`)."""
        async with (
            one_writer(self.db_config, meeting_id, Priority.DESK),
            self.db_config.get_session() as session,
        ):
            meeting = await _meeting(session, meeting_id)
            delta = await record_signal(session, meeting, actor, point_id, signal)
            await session.commit()
        return delta

    async def rehearsal(self, meeting_id: int, actor: Principal, running: bool) -> dict[str, Any]:
        """Start the test run (every point's signal back to `untested`) or end it; returns its
        delta. The caller has checked that `actor` manages the meeting."""
        async with (
            one_writer(self.db_config, meeting_id, Priority.DESK),
            self.db_config.get_session() as session,
        ):
            meeting = await _meeting(session, meeting_id)
            delta = await set_rehearsal(session, meeting, actor, running)
            await session.commit()
        return delta

    async def _drain(self, meeting_id: int) -> None:
        try:
            while self._waiting.get(meeting_id):
                async with one_writer(self.db_config, meeting_id, Priority.CHECKIN):
                    # Taken once the queue is ours: what arrived while it waited is stored too.
                    answers = take(self._waiting, meeting_id, MAX_BATCH)
                    try:
                        results = await self._store(meeting_id, answers)
                    except Exception as exc:
                        failed: Exception | None = exc
                    else:
                        failed = None
                if failed is None:
                    for answer, result in zip(answers, results, strict=True):
                        _settle(answer, result)
                else:
                    await self._one_by_one(meeting_id, answers, failed)
        finally:
            # No await between the last empty look and here: a new answer starts a new worker.
            del self._workers[meeting_id]

    async def _one_by_one(self, meeting_id: int, answers: list[_Answer], exc: Exception) -> None:
        if len(answers) == 1:
            _settle(answers[0], exc)
            return
        # Something in the burst broke the transaction: store each on its own, so one answer's
        # failure is not everybody's.
        logger.warning("%d check-ins failed together (%r); one by one now", len(answers), exc)
        for answer in answers:
            try:
                async with one_writer(self.db_config, meeting_id, Priority.CHECKIN):
                    (result,) = await self._store(meeting_id, [answer])
            except Exception as failure:
                _settle(answer, failure)
            else:
                _settle(answer, result)

    async def _store(
        self, meeting_id: int, answers: list[_Answer]
    ) -> list[CheckinOutcome | ConfhubError]:
        """Store a burst in one transaction (the caller holds the queue); each answer's outcome
        or what refused it."""
        async with self.db_config.get_session() as session:
            meeting = await session.get(Meeting, meeting_id)
            if meeting is None:
                return [NotFoundError(N_("No meeting %(id)s"), id=meeting_id) for _ in answers]
            results = await store_checkins(
                session, meeting, [(answer.actor, answer.data) for answer in answers]
            )
            await session.commit()  # stored before it is acknowledged or broadcast
        return results


async def _meeting(session: DbSession, meeting_id: int) -> Meeting:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
    return meeting


def _settle(answer: _Answer, result: CheckinOutcome | BaseException) -> None:
    if answer.done.done():
        return
    if isinstance(result, BaseException):
        answer.done.set_exception(result)
    else:
        answer.done.set_result(result)


# The desk's writes from the points (speaking requests, incident reports): a few hundred may
# arrive in a roll call's minute, each its own small transaction in the meeting's one queue, where
# the roll call's check-ins wait behind them. Group-committed like check-ins instead: those that
# arrive while the queue is busy are stored together once it is theirs (`Priority.DESK`).
MAX_GROUP = 100


@dataclass
class _Work:
    work: Callable[[DbSession], Awaitable[Any]]
    done: asyncio.Future[Any]


@dataclass
class _Group:
    waiting: list[_Work]
    task: asyncio.Task[None] | None = None


_groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[int, int], _Group]] = (
    weakref.WeakKeyDictionary()
)


async def write_grouped(
    db_config: Any, meeting_id: int, work: Callable[[DbSession], Awaitable[T]]
) -> T:
    """Run `work` in a transaction of the meeting's writer queue, with whatever other grouped
    work arrived meanwhile; returns (or raises) its own outcome once committed.

    `work` raises a `ConfhubError` (a refusal) only before it writes anything: that work alone
    is refused and the others are stored. Any other failure fails the transaction, whose works
    are then tried one by one."""
    loop = asyncio.get_running_loop()
    groups = _groups.setdefault(loop, {})
    group = groups.setdefault((id(db_config), meeting_id), _Group([]))
    done: asyncio.Future[T] = loop.create_future()
    group.waiting.append(_Work(work, done))
    if group.task is None or group.task.done():
        group.task = asyncio.create_task(
            _drain_group(db_config, meeting_id, group), name=f"confhub-desk-{meeting_id}"
        )
    return await asyncio.shield(done)


async def _drain_group(db_config: Any, meeting_id: int, group: _Group) -> None:
    while group.waiting:
        await _store_group(db_config, meeting_id, group)


async def _store_group(
    db_config: Any, meeting_id: int, group: _Group, alone: _Work | None = None
) -> None:
    """Store the first `MAX_GROUP` works waiting, taken once the queue is ours (what arrived
    while it waited is stored too), or `alone`."""
    batch = [alone] if alone is not None else []
    results: list[Any] = []
    try:
        async with one_writer(db_config, meeting_id, Priority.DESK):
            if alone is None:
                batch, group.waiting = group.waiting[:MAX_GROUP], group.waiting[MAX_GROUP:]
            async with db_config.get_session() as session:
                for item in batch:
                    try:
                        results.append(await item.work(session))
                    except ConfhubError as exc:
                        results.append(exc)
                await session.commit()
    except Exception as exc:
        if len(batch) <= 1:
            results = [exc] * len(batch)
        else:
            logger.warning("%d desk writes failed together (%r); one by one now", len(batch), exc)
            for one in batch:
                await _store_group(db_config, meeting_id, group, one)
            return
    for item, result in zip(batch, results, strict=True):
        if item.done.done():
            continue
        if isinstance(result, BaseException):
            item.done.set_exception(result)
        else:
            item.done.set_result(result)


# Work of one kind gathered into one call (`write_batched`): a burst of speaking requests or
# incident reports costs the writer's transaction a handful of statements for the lot, not a
# handful each (each one is a round trip to the database while the meeting's queue waits: the
# roll call's check-ins waited seconds behind 500 of them, docs/performance.md).
@dataclass
class _Batch:
    items: list[Any]
    done: list[asyncio.Future[Any]]
    task: asyncio.Task[None] | None = None


_batches: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[int, int, str], _Batch]
] = weakref.WeakKeyDictionary()
# When each kind's last lot was begun (the loop's clock), for `write_batched`'s `min_interval`.
_begun: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[int, int, str], float]] = (
    weakref.WeakKeyDictionary()
)

StoreMany = Callable[[DbSession, list[Any]], Awaitable[list[Any]]]


async def write_batched(
    db_config: Any,
    meeting_id: int,
    kind: str,
    item: Any,
    store_many: StoreMany,
    *,
    min_interval: float = 0.0,
) -> Any:
    """Store `item` with the others of its `kind` arriving until their transaction begins, by
    one call of `store_many(session, items)` (which answers each item's outcome, or the
    `ConfhubError` refusing it, in order) in `write_grouped`'s transaction; returns (or raises)
    this item's outcome once committed. When the lot fails otherwise, each item is tried alone.

    `min_interval`: a lot of this kind begins at least this many seconds after the one before
    it, gathering what arrives meanwhile (an item after a quiet spell is not held back).
    """
    loop = asyncio.get_running_loop()
    batches = _batches.setdefault(loop, {})
    begun = _begun.setdefault(loop, {})
    key = (id(db_config), meeting_id, kind)
    done: asyncio.Future[Any] = loop.create_future()
    batch = batches.get(key)
    if batch is not None:  # not yet begun: join it
        batch.items.append(item)
        batch.done.append(done)
        return await asyncio.shield(done)
    batch = batches[key] = _Batch([item], [done])
    hold_back = begun.get(key, -math.inf) + min_interval - loop.time()

    async def work(session: DbSession) -> list[Any]:
        if batches.get(key) is batch:
            del batches[key]  # what arrives from now on waits for the next transaction
            begun[key] = loop.time()
        return await store_many(session, batch.items)

    batch.task = loop.create_task(
        _store_batch(db_config, meeting_id, batch, work, store_many, hold_back)
    )
    return await asyncio.shield(done)


async def _store_batch(
    db_config: Any,
    meeting_id: int,
    batch: _Batch,
    work: Callable[[DbSession], Awaitable[list[Any]]],
    store_many: StoreMany,
    hold_back: float = 0.0,
) -> None:
    if hold_back > 0:
        await asyncio.sleep(hold_back)  # the lot gathers meanwhile
    try:
        results = await write_grouped(db_config, meeting_id, work)
    except Exception as exc:
        if len(batch.items) == 1:
            _settle_batched(batch.done[0], exc)
            return
        logger.warning(
            "%d batched writes failed together (%r); one by one now", len(batch.items), exc
        )
        for item, done in zip(batch.items, batch.done, strict=True):

            async def alone(session: DbSession, item: Any = item) -> list[Any]:
                return await store_many(session, [item])

            try:
                result = (await write_grouped(db_config, meeting_id, alone))[0]
            except Exception as failure:
                result = failure
            _settle_batched(done, result)
        return
    for done, result in zip(batch.done, results, strict=True):
        _settle_batched(done, result)


def _settle_batched(done: asyncio.Future[Any], result: Any) -> None:
    if done.done():
        return
    if isinstance(result, BaseException):
        done.set_exception(result)
    else:
        done.set_result(result)
