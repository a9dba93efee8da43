"""The one write path of speaking requests, whatever door they came through (the live channel,
the JSON API, the check-in page's form): each change is stored in a transaction of its own,
in the meeting's one queue of attendance writers (`writer.one_writer`), with the meeting's next
version and a `speaking` delta sent at commit; the meeting's audit log says it in words.

Limits per point (counted in the database under the meeting's version lock, so they hold
across processes): at most `MAX_OPEN_PER_POINT` requests waiting or speaking at once and
`MAX_PER_POINT` in a whole meeting; past them a 429 the point's page puts in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select

from confhub.attendance import events
from confhub.attendance.models import EventType
from confhub.attendance.speaking import queue
from confhub.attendance.speaking.models import OPEN, WAITING, SpeakingRequest, SpeakingState
from confhub.attendance.speaking.schemas import SpeakingChange, SpeakRequestWrite
from confhub.attendance.writer import at_group_end, one_writer, write_grouped
from confhub.core.errors import (
    ConfhubError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from confhub.core.i18n import N_
from confhub.core.messages import status_word
from confhub.db import DbSession
from confhub.meetings import audit
from confhub.meetings.actors import ANSWERING_STATUSES, Actor, may_act_for_point
from confhub.meetings.audit import AuditAction
from confhub.meetings.documents import StoredFile
from confhub.meetings.models import Invitation, Meeting
from confhub.points.models import ConnectionPoint

MAX_OPEN_PER_POINT = 3
MAX_PER_POINT = 20


class SpeakingLimitError(ConfhubError):
    """A point asked to speak more than the limits allow."""

    status_code = 429


@dataclass
class Asked:
    """A stored request, whether this call created it, and the version it took (set when its
    group's `speaking` delta is appended, before the commit)."""

    request: dict[str, Any]
    created: bool
    version: int


class SpeakingDesk:
    """Stores speaking requests and the secretariat's steps on them."""

    def __init__(self, db_config: Any) -> None:
        self.db_config = db_config

    async def ask(self, meeting_id: int, actor: Actor, data: SpeakRequestWrite) -> Asked:
        """Store a point's request once per id (a repeat answers the first); returns once
        committed. Raises what refused it (`ConfhubError`)."""

        async def work(session: DbSession) -> Asked:
            return await ask(session, await _meeting(session, meeting_id), actor, data)

        # Group-committed with the other requests and reports arriving meanwhile.
        return await write_grouped(self.db_config, meeting_id, work)

    async def attach(
        self, meeting_id: int, actor: Actor, request_id: str, stored: StoredFile
    ) -> tuple[dict[str, Any], int, str | None]:
        """Attach a point's document to its request still waiting (replacing one attached
        before); the request, the version, and the storage name of the replaced file (for
        the caller to remove once committed)."""
        async with one_writer(self.db_config, meeting_id), self.db_config.get_session() as session:
            meeting = await _meeting(session, meeting_id)
            done = await attach(session, meeting, actor, request_id, stored)
            await session.commit()
        return done

    async def change(
        self, meeting_id: int, actor: Actor, request_id: str, data: SpeakingChange
    ) -> tuple[dict[str, Any], int]:
        """The secretariat's step on a request; the request as it now is, and the version.
        The caller has checked that `actor` manages the meeting."""
        async with one_writer(self.db_config, meeting_id), self.db_config.get_session() as session:
            meeting = await _meeting(session, meeting_id)
            done = await change(session, meeting, actor, request_id, data)
            await session.commit()
        return done


async def ask(session: DbSession, meeting: Meeting, actor: Actor, data: SpeakRequestWrite) -> Asked:
    """A point asks to speak (see `SpeakingDesk.ask`), in the caller's transaction."""
    version = await events.lock_version(session, meeting.id)
    found = await _find(session, meeting.id, data.request_id)
    point_id = data.point_id or actor.link_point_id
    if found is not None:
        if point_id not in (None, found.point_id) or not _may_see(actor, meeting, found):
            raise ConflictError(N_("This request id is taken; choose another"))
        again = Asked(queue.item(found), created=False, version=found.version)
        told = _added(session, meeting.id)
        if found in told.rows:  # added earlier in this transaction: its version is not taken yet
            told.asked.append((found, again))
        return again
    if point_id is None:
        raise InvalidInputError("point_id", N_("say which point_id the request is for"))
    point = await _invited_point(session, meeting, point_id)
    if not may_act_for_point(actor, meeting, point):
        raise PermissionDeniedError(N_("You may only ask to speak for your own connection point"))
    if meeting.status not in ANSWERING_STATUSES:
        raise ConflictError(N_("The meeting is %(status)s"), status=status_word(meeting.status))
    await _within_limits(session, meeting.id, point_id)
    # The last place (not the queue's rows: a burst of N requests would load N² of them).
    last = await session.scalar(
        select(func.max(SpeakingRequest.position)).where(
            SpeakingRequest.meeting_id == meeting.id, SpeakingRequest.state.in_(WAITING)
        )
    )
    row = SpeakingRequest(
        meeting_id=meeting.id,
        request_id=data.request_id,
        point_id=point_id,
        topic=data.topic,
        minutes=data.minutes,
        speaker=data.speaker,
        state=SpeakingState.REQUESTED.value,
        position=(last or 0) + 1,
        version=version + 1,
    )
    session.add(row)
    await session.flush()
    _audit(session, meeting, actor, row, point, "requested")
    asked = Asked(queue.item(row), created=True, version=version + 1)
    told = _added(session, meeting.id)
    told.rows.append(row)
    told.asked.append((row, asked))
    step = partial(_tell_added, meeting_id=meeting.id)
    if not at_group_end(session, (_ADDED, meeting.id), step):
        await step(session)
    return asked


# The requests a transaction added, told in one `speaking` delta at its end (`_tell_added`).
_ADDED = "confhub_speaking_added"


@dataclass
class _Added:
    rows: list[SpeakingRequest]
    # Each answer to a request of `rows`, to be given the version of the delta telling it.
    asked: list[tuple[SpeakingRequest, Asked]]


def _added(session: DbSession, meeting_id: int) -> _Added:
    """The requests this transaction added to a meeting's queue and not yet told."""
    by_meeting: dict[int, _Added] = session.info.setdefault(_ADDED, {})
    return by_meeting.setdefault(meeting_id, _Added([], []))


async def _tell_added(session: DbSession, meeting_id: int) -> None:
    """One `speaking` delta for the requests this transaction added (at the end of the queue):
    a burst of requests stored together costs each board one copy of the queue, not one each.
    The places of the others are as they were; only the asking points are told."""
    told = session.info.get(_ADDED, {}).pop(meeting_id, None)
    if told is None or not told.rows:
        return
    version = await events.lock_version(session, meeting_id)
    for row in told.rows:
        row.version = version + 1
    for row, asked in told.asked:
        asked.version = row.version
    rows = await queue.open_requests(session, meeting_id)
    changed = told.rows
    await events.append(
        session,
        meeting_id,
        EventType.SPEAKING,
        queue.delta(rows, changed[-1], changed[:-1], others_moved=False, several=changed),
        locked_version=version,
    )


async def change(
    session: DbSession, meeting: Meeting, actor: Actor, request_id: str, data: SpeakingChange
) -> tuple[dict[str, Any], int]:
    """The secretariat's step (see `SpeakingDesk.change`), in the caller's transaction."""
    if meeting.status not in ANSWERING_STATUSES:
        raise ConflictError(N_("The meeting is %(status)s"), status=status_word(meeting.status))
    version = await events.lock_version(session, meeting.id)
    row = await _find(session, meeting.id, request_id)
    if row is None:
        raise NotFoundError(N_("No speaking request %(id)s"), id=request_id[:100])
    rows = await queue.open_requests(session, meeting.id)
    by_id = {r.id: r for r in rows}
    row = by_id.get(row.id, row)
    now = datetime.now(UTC)
    target = data.state or row.state
    step = _step(row.state, target)
    finished = None
    if step == "speaking":
        finished = next((r for r in rows if r.state == SpeakingState.SPEAKING.value), None)
        if finished is not None:
            finished.state, finished.ended_at, finished.position = "done", now, 0
        row.started_at, row.position = now, 0
    elif step == "done":
        row.ended_at = now
    elif step == "refused":
        row.reason, row.position = data.reason, 0
    old_place = row.position
    row.state = target
    waiting = sorted(
        (r for r in rows if r.state in WAITING and r is not row), key=lambda r: (r.position, r.id)
    )
    if row.state in WAITING:
        place = data.position if data.position is not None else old_place
        waiting.insert(min(max(place, 1), len(waiting) + 1) - 1, row)
        if step is None and data.position is not None:
            step = "moved"
    if step is None:
        raise ConflictError(N_("The request is already %(state)s"), state=row.state)
    for index, waiter in enumerate(waiting, start=1):
        waiter.position = index
    await session.flush()
    point = await session.get(ConnectionPoint, row.point_id)
    if finished is not None:
        _audit(session, meeting, actor, finished, None, "done")
    _audit(session, meeting, actor, row, point, step)
    still_open = sorted((r for r in {*rows, row} if r.state in OPEN), key=queue.order)
    also = [finished] if finished is not None else []
    await _append(session, meeting.id, still_open, row, version, also)
    return queue.item(row), version + 1


async def attachable(
    session: DbSession, meeting: Meeting, actor: Actor, request_id: str
) -> tuple[SpeakingRequest, ConnectionPoint]:
    """The request a document may be attached to by `actor`: 404 unknown (or another point's,
    for a link), 403 for someone who may not act for its point, 409 once it no longer waits
    or the meeting is over. Checked before the file is stored, and again when it is attached."""
    if meeting.status not in ANSWERING_STATUSES:
        raise ConflictError(N_("The meeting is %(status)s"), status=status_word(meeting.status))
    row = await _find(session, meeting.id, request_id)
    if row is None or not _may_see(actor, meeting, row):
        raise NotFoundError(N_("No speaking request %(id)s"), id=request_id[:100])
    point = await session.get(ConnectionPoint, row.point_id)
    if point is None or not may_act_for_point(actor, meeting, point):
        raise PermissionDeniedError(N_("You may only ask to speak for your own connection point"))
    if row.state not in WAITING:
        raise ConflictError(
            N_("A document goes with a request still waiting; this one is %(state)s"),
            state=row.state,
        )
    return row, point


async def attach(
    session: DbSession, meeting: Meeting, actor: Actor, request_id: str, stored: StoredFile
) -> tuple[dict[str, Any], int, str | None]:
    """A document for a waiting request (see `SpeakingDesk.attach`), in the caller's
    transaction: by whoever may act for the request's point."""
    version = await events.lock_version(session, meeting.id)
    row, point = await attachable(session, meeting, actor, request_id)
    replaced = row.document_storage
    row.document_storage = stored.storage_name
    row.document_name = stored.filename
    row.document_type = stored.content_type
    row.document_size = stored.size_bytes
    await session.flush()
    _audit(session, meeting, actor, row, point, "document")
    rows = await queue.open_requests(session, meeting.id)
    await _append(session, meeting.id, sorted(rows, key=queue.order), row, version)
    return queue.item(row), version + 1, replaced


# The steps a request can take: from where to where.
_STEPS: dict[tuple[str, str], str] = {
    ("requested", "accepted"): "accepted",
    ("requested", "refused"): "refused",
    ("accepted", "refused"): "refused",
    ("requested", "speaking"): "speaking",
    ("accepted", "speaking"): "speaking",
    ("speaking", "done"): "done",
}


def _step(current: str, target: str) -> str | None:
    """The step from `current` to `target` (None: no change of state, e.g. a move); 409 for
    an impossible one."""
    if current == target:
        if current in WAITING:
            return None
        raise ConflictError(N_("The request is already %(state)s"), state=current)
    step = _STEPS.get((current, target))
    if step is None:
        raise ConflictError(
            N_("A request that is %(current)s cannot become %(target)s"),
            current=current,
            target=target,
        )
    return step


async def _append(
    session: DbSession,
    meeting_id: int,
    rows: list[SpeakingRequest],
    changed: SpeakingRequest,
    version: int,
    also: list[SpeakingRequest] | None = None,
    *,
    others_moved: bool = True,
) -> None:
    await events.append(
        session,
        meeting_id,
        EventType.SPEAKING,
        queue.delta(rows, changed, also or [], others_moved=others_moved),
        locked_version=version,
    )


def _audit(
    session: DbSession,
    meeting: Meeting,
    actor: Actor,
    row: SpeakingRequest,
    point: ConnectionPoint | None,
    step: str,
) -> None:
    """The meeting's log: who did what to which point's request, in words on its pages."""
    details: dict[str, Any] = {
        "step": step,
        "point_id": row.point_id,
        "request_id": row.request_id,
        "topic": row.topic,
        "minutes": row.minutes,
    }
    if step == "refused":
        details["reason"] = row.reason
    if step == "moved":
        details["position"] = row.position
    if step == "document":
        details["filename"] = row.document_name
        details["size_bytes"] = row.document_size
    if step == "done" and row.started_at is not None and row.ended_at is not None:
        details["seconds"] = int((row.ended_at - row.started_at).total_seconds())
    entry = audit.record(session, meeting.id, actor.principal, AuditAction.SPEAKING, **details)
    if actor.principal is None and point is not None:
        entry.actor_label = point.name  # the point's own link: the point is who acted


def _may_see(actor: Actor, meeting: Meeting, row: SpeakingRequest) -> bool:
    if actor.principal is None:
        return actor.link_point_id == row.point_id
    return True


async def _within_limits(session: DbSession, meeting_id: int, point_id: int) -> None:
    counted = await session.execute(
        select(SpeakingRequest.state, func.count())
        .where(SpeakingRequest.meeting_id == meeting_id, SpeakingRequest.point_id == point_id)
        .group_by(SpeakingRequest.state)
    )
    by_state = {state: int(n) for state, n in counted.all()}
    if sum(n for state, n in by_state.items() if state in OPEN) >= MAX_OPEN_PER_POINT:
        raise SpeakingLimitError(
            N_("This point already has %(n)s requests waiting; wait for them first"),
            n=MAX_OPEN_PER_POINT,
        )
    if sum(by_state.values()) >= MAX_PER_POINT:
        raise SpeakingLimitError(
            N_("This point has made %(n)s requests in this meeting, the most allowed"),
            n=MAX_PER_POINT,
        )


async def _find(session: DbSession, meeting_id: int, request_id: str) -> SpeakingRequest | None:
    return await session.scalar(
        select(SpeakingRequest).where(
            SpeakingRequest.meeting_id == meeting_id,
            SpeakingRequest.request_id == request_id.strip(),
        )
    )


async def _invited_point(session: DbSession, meeting: Meeting, point_id: int) -> ConnectionPoint:
    point = await session.scalar(
        select(ConnectionPoint)
        .join(Invitation, Invitation.point_id == ConnectionPoint.id)
        .where(Invitation.meeting_id == meeting.id, ConnectionPoint.id == point_id)
    )
    if point is None:
        raise InvalidInputError(
            "point_id", N_("point %(id)s is not invited to this meeting"), id=point_id
        )
    return point


async def _meeting(session: DbSession, meeting_id: int) -> Meeting:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
    return meeting
