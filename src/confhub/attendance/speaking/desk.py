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
from typing import Any

from sqlalchemy import func, select

from confhub.attendance import events
from confhub.attendance.models import EventType
from confhub.attendance.rows import chunks, invited_points
from confhub.attendance.speaking import queue
from confhub.attendance.speaking.models import OPEN, WAITING, SpeakingRequest, SpeakingState
from confhub.attendance.speaking.schemas import SpeakingChange, SpeakRequestWrite
from confhub.attendance.writer import Priority, one_writer, write_batched
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
from confhub.meetings.models import Meeting
from confhub.points.models import ConnectionPoint

MAX_OPEN_PER_POINT = 3
MAX_PER_POINT = 20
# Points' requests are stored a lot at most every this many seconds: every lot's `speaking`
# delta carries the whole open queue to each board (300 requests in a roll call's minute, one
# lot each, sent boards 2 MiB each and cost the process the CPU its check-ins then waited for).
ASK_INTERVAL = 0.5


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

        async def store(session: DbSession, asks: list[Any]) -> list[Any]:
            return await ask_many(session, await _meeting(session, meeting_id), asks)

        # With the other requests arriving meanwhile, in one call, group-committed with the
        # incident reports; one lot at most every ASK_INTERVAL, since each lot's delta carries
        # the whole queue to every board.
        asked: Asked = await write_batched(
            self.db_config,
            meeting_id,
            "speak_request",
            (actor, data),
            store,
            min_interval=ASK_INTERVAL,
        )
        return asked

    async def attach(
        self, meeting_id: int, actor: Actor, request_id: str, stored: StoredFile
    ) -> tuple[dict[str, Any], int, str | None]:
        """Attach a point's document to its request still waiting (replacing one attached
        before); the request, the version, and the storage name of the replaced file (for
        the caller to remove once committed)."""
        async with (
            one_writer(self.db_config, meeting_id, Priority.DESK),
            self.db_config.get_session() as session,
        ):
            meeting = await _meeting(session, meeting_id)
            done = await attach(session, meeting, actor, request_id, stored)
            await session.commit()
        return done

    async def change(
        self, meeting_id: int, actor: Actor, request_id: str, data: SpeakingChange
    ) -> tuple[dict[str, Any], int]:
        """The secretariat's step on a request; the request as it now is, and the version.
        The caller has checked that `actor` manages the meeting."""
        async with (
            one_writer(self.db_config, meeting_id, Priority.DESK),
            self.db_config.get_session() as session,
        ):
            meeting = await _meeting(session, meeting_id)
            done = await change(session, meeting, actor, request_id, data)
            await session.commit()
        return done


async def ask_many(
    session: DbSession, meeting: Meeting, asks: list[tuple[Actor, SpeakRequestWrite]]
) -> list[Asked | ConfhubError]:
    """Points ask to speak, in the caller's transaction: each ask's request (a repeated id
    answers the first) or what refused it, in order. What it reads, it reads for all of them
    at once; those it adds are told in one `speaking` delta (the whole queue once, not once
    each), at the end of the queue: the places of the others are as they were, and only the
    asking points are told."""
    version = await events.lock_version(session, meeting.id)
    found = {row.request_id: row for row in await _find_many(session, meeting.id, asks)}
    wanted = {data.point_id or actor.link_point_id for actor, data in asks}
    wanted |= {row.point_id for row in found.values()}
    points = await invited_points(session, meeting.id, {p for p in wanted if p is not None})
    counted = await _counts(session, meeting.id, list(points))
    last = await session.scalar(
        select(func.max(SpeakingRequest.position)).where(
            SpeakingRequest.meeting_id == meeting.id, SpeakingRequest.state.in_(WAITING)
        )
    )
    added: list[tuple[SpeakingRequest, ConnectionPoint]] = []
    answers: list[tuple[SpeakingRequest, bool] | ConfhubError] = []
    for actor, data in asks:
        try:
            row, created = _one_ask(meeting, actor, data, found, points, counted)
        except ConfhubError as refusal:
            answers.append(refusal)
            continue
        if created:
            last = (last or 0) + 1
            row.position = last
            found[row.request_id] = row
            added.append((row, points[row.point_id]))
        answers.append((row, created))
    if added:
        for row, point in added:
            row.version = version + 1  # the delta appended below takes the next version
            session.add(row)
            _audit(session, meeting, actor_of(asks, row), row, point, "requested")
        await session.flush()
        rows = await queue.open_requests(session, meeting.id)
        changed = [row for row, _ in added]
        await events.append(
            session,
            meeting.id,
            EventType.SPEAKING,
            queue.delta(rows, changed[-1], changed[:-1], others_moved=False, several=changed),
            locked_version=version,
        )
    return [
        answer
        if isinstance(answer, ConfhubError)
        else Asked(queue.item(answer[0]), created=answer[1], version=answer[0].version)
        for answer in answers
    ]


def actor_of(asks: list[tuple[Actor, SpeakRequestWrite]], row: SpeakingRequest) -> Actor:
    """Who asked for the request `row` (the first ask under its id)."""
    return next(actor for actor, data in asks if data.request_id == row.request_id)


def _one_ask(
    meeting: Meeting,
    actor: Actor,
    data: SpeakRequestWrite,
    found: dict[str, SpeakingRequest],
    points: dict[int, ConnectionPoint],
    counted: dict[int, dict[str, int]],
) -> tuple[SpeakingRequest, bool]:
    """One ask checked against what `ask_many` read (and what it added before this one): the
    request stored or to store, and whether it is new; raises what refuses it."""
    point_id = data.point_id or actor.link_point_id
    earlier = found.get(data.request_id)
    if earlier is not None:
        if point_id not in (None, earlier.point_id) or not _may_see(actor, meeting, earlier):
            raise ConflictError(N_("This request id is taken; choose another"))
        # A repeat is answered only to whoever may ask for its point, as a first ask is.
        point = points.get(earlier.point_id)
        if point is None or not may_act_for_point(actor, meeting, point):
            raise PermissionDeniedError(
                N_("You may only ask to speak for your own connection point")
            )
        return earlier, False
    if point_id is None:
        raise InvalidInputError("point_id", N_("say which point_id the request is for"))
    point = points.get(point_id)
    if point is None:
        raise InvalidInputError(
            "point_id", N_("point %(id)s is not invited to this meeting"), id=point_id
        )
    if not may_act_for_point(actor, meeting, point):
        raise PermissionDeniedError(N_("You may only ask to speak for your own connection point"))
    if meeting.status not in ANSWERING_STATUSES:
        raise ConflictError(N_("The meeting is %(status)s"), status=status_word(meeting.status))
    by_state = counted.setdefault(point_id, {})
    _within_limits(by_state)
    state = SpeakingState.REQUESTED.value
    by_state[state] = by_state.get(state, 0) + 1
    row = SpeakingRequest(
        meeting_id=meeting.id,
        request_id=data.request_id,
        point_id=point_id,
        topic=data.topic,
        minutes=data.minutes,
        speaker=data.speaker,
        state=state,
        position=0,
        version=0,
    )
    return row, True


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


def _within_limits(by_state: dict[str, int]) -> None:
    """Refuse a point's ask past its limits (`by_state`: its requests in the meeting by state,
    counted under the meeting's version lock, so the limits hold across processes)."""
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


async def _counts(
    session: DbSession, meeting_id: int, point_ids: list[int]
) -> dict[int, dict[str, int]]:
    """Each point's requests in the meeting, by state."""
    counted: dict[int, dict[str, int]] = {}
    for chunk in chunks(point_ids):
        rows = await session.execute(
            select(SpeakingRequest.point_id, SpeakingRequest.state, func.count())
            .where(SpeakingRequest.meeting_id == meeting_id, SpeakingRequest.point_id.in_(chunk))
            .group_by(SpeakingRequest.point_id, SpeakingRequest.state)
        )
        for point_id, state, n in rows.all():
            counted.setdefault(point_id, {})[state] = int(n)
    return counted


async def _find_many(
    session: DbSession, meeting_id: int, asks: list[tuple[Actor, SpeakRequestWrite]]
) -> list[SpeakingRequest]:
    ids = sorted({data.request_id for _, data in asks})
    found: list[SpeakingRequest] = []
    for chunk in chunks(ids):
        found += await session.scalars(
            select(SpeakingRequest).where(
                SpeakingRequest.meeting_id == meeting_id, SpeakingRequest.request_id.in_(chunk)
            )
        )
    return found


async def _find(session: DbSession, meeting_id: int, request_id: str) -> SpeakingRequest | None:
    return await session.scalar(
        select(SpeakingRequest).where(
            SpeakingRequest.meeting_id == meeting_id,
            SpeakingRequest.request_id == request_id.strip(),
        )
    )


async def _meeting(session: DbSession, meeting_id: int) -> Meeting:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
    return meeting
