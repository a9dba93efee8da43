"""The one write path of the desk, whatever door a change came through (the live channel, the
JSON API): incident reports and the technician's steps, announcements and their receipts, each
in a transaction of its own, in the meeting's one writer queue (`one_writer`, as check-ins), so
their versions interleave with the roll call's in one order.

Receipts are group-committed as check-ins are: when an announcement reaches 3,321 phones, each
shows it and says so at once; those arriving while the queue is busy are stored together once it
is theirs, with one count delta per announcement for the boards. They come last in the queue
(`Priority.BACKGROUND`): the roll call's check-ins and the desk's work go before them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from confhub.accounts.principal import Principal
from confhub.attendance.desk.announcements import (
    Receipt,
    SentAnnouncement,
    send_announcement,
    store_receipts,
)
from confhub.attendance.desk.incidents import IncidentOutcome, change_incident, report_incidents
from confhub.attendance.desk.schemas import AnnouncementWrite, IncidentChange, IncidentReport
from confhub.attendance.writer import Priority, one_writer, take, write_batched
from confhub.core.errors import ConfhubError, NotFoundError
from confhub.core.i18n import N_
from confhub.db import DbSession
from confhub.meetings.actors import Actor
from confhub.meetings.models import Meeting

logger = logging.getLogger("confhub.live")

MAX_BATCH = 500
ANSWERS_PER_TURN = 32


@dataclass
class _Waiting:
    receipt: Receipt
    done: asyncio.Future[int | None]


class DeskWriter:
    """Stores this process's incidents and announcements, per meeting, in its writer queue."""

    def __init__(self, db_config: Any) -> None:
        self.db_config = db_config
        self._waiting: dict[int, list[_Waiting]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}

    async def report(self, meeting_id: int, actor: Actor, data: IncidentReport) -> IncidentOutcome:
        """Store a point's incident (or find the one under its id); returns once committed."""

        async def store(session: DbSession, reports: list[Any]) -> list[Any]:
            return await report_incidents(session, await _meeting(session, meeting_id), reports)

        # With the other reports arriving meanwhile, in one call, group-committed with the
        # speaking requests.
        outcome: IncidentOutcome = await write_batched(
            self.db_config, meeting_id, "incident", (actor, data), store
        )
        return outcome

    async def change(
        self, meeting_id: int, actor: Actor, incident_id: str, data: IncidentChange
    ) -> IncidentOutcome:
        """The technician's step on an incident; the caller checked that `actor` manages it."""
        async with (
            one_writer(self.db_config, meeting_id, Priority.DESK),
            self.db_config.get_session() as session,
        ):
            meeting = await _meeting(session, meeting_id)
            outcome = await change_incident(session, meeting, actor, incident_id, data)
            await session.commit()
        return outcome

    async def announce(
        self, meeting_id: int, principal: Principal, data: AnnouncementWrite
    ) -> SentAnnouncement:
        """Send an announcement; the caller checked that `principal` manages the meeting."""
        async with (
            one_writer(self.db_config, meeting_id, Priority.DESK),
            self.db_config.get_session() as session,
        ):
            meeting = await _meeting(session, meeting_id)
            sent = await send_announcement(session, meeting, principal, data)
            await session.commit()
        return sent

    async def receipt(self, meeting_id: int, receipt: Receipt) -> int | None:
        """Store that a point saw or acknowledged an announcement; returns its version once
        committed (stored with whatever else arrived meanwhile)."""
        return await asyncio.shield(self.queue_receipt(meeting_id, receipt))

    def queue_receipt(self, meeting_id: int, receipt: Receipt) -> asyncio.Future[int | None]:
        """Queue a receipt at once, behind those before it; the future is its version once
        committed (or what refused it). It is stored even if nobody waits for it."""
        done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(meeting_id, []).append(_Waiting(receipt, done))
        if meeting_id not in self._workers:
            self._workers[meeting_id] = asyncio.create_task(
                self._drain(meeting_id), name=f"confhub-receipts-{meeting_id}"
            )
        return done

    async def _drain(self, meeting_id: int) -> None:
        try:
            while self._waiting.get(meeting_id):
                async with one_writer(self.db_config, meeting_id, Priority.BACKGROUND):
                    # Taken once the queue is ours: the receipts that arrived while they waited
                    # behind the check-ins and the desk are stored in the same transaction.
                    waiting = take(self._waiting, meeting_id, MAX_BATCH)
                    try:
                        results = await self._store(meeting_id, waiting)
                    except Exception as exc:
                        failed: Exception | None = exc
                    else:
                        failed = None
                if failed is None:
                    for settled, (one, result) in enumerate(zip(waiting, results, strict=True)):
                        _settle(one, result)
                        if settled % ANSWERS_PER_TURN == ANSWERS_PER_TURN - 1:
                            # Each settled receipt wakes its ack's send: a few dozen at a
                            # time, the loop turning between (check-ins go on meanwhile).
                            await asyncio.sleep(0)
                else:
                    await self._one_by_one(meeting_id, waiting, failed)
        finally:
            # No await between the last empty look and here: a new receipt starts a new worker.
            del self._workers[meeting_id]

    async def _one_by_one(self, meeting_id: int, waiting: list[_Waiting], exc: Exception) -> None:
        if len(waiting) == 1:
            _settle(waiting[0], exc)
            return
        logger.warning("%d receipts failed together (%r); one by one now", len(waiting), exc)
        for one in waiting:
            try:
                async with one_writer(self.db_config, meeting_id, Priority.BACKGROUND):
                    (result,) = await self._store(meeting_id, [one])
            except Exception as failure:
                _settle(one, failure)
            else:
                _settle(one, result)

    async def _store(
        self, meeting_id: int, waiting: list[_Waiting]
    ) -> list[int | ConfhubError | None]:
        """Store receipts in one transaction (the caller holds the queue)."""
        async with self.db_config.get_session() as session:
            meeting = await _meeting(session, meeting_id)
            results = await store_receipts(session, meeting, [w.receipt for w in waiting])
            await session.commit()
        return results


async def _meeting(session: DbSession, meeting_id: int) -> Meeting:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
    return meeting


def _settle(waiting: _Waiting, result: int | BaseException | None) -> None:
    if waiting.done.done():
        return
    if isinstance(result, BaseException):
        waiting.done.set_exception(result)
    else:
        waiting.done.set_result(result)
