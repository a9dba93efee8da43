"""Incident reports: a point's one tap (picture, sound or link lost, or something else, with an
optional note) reaches the province's technician, who acknowledges and resolves it with a note;
the point sees each change of its own incidents, boards see every one.

Every change takes the meeting's next attendance version and appends an `incident` delta (with
its `point_id`, so the hub sends it to boards and to that point only), in the transaction that
stores it; the audit log records each step. A point may report only so often
(`MAX_REPORTS_PER_WINDOW`) and hold only so many unresolved incidents (`MAX_OPEN_PER_POINT`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from confhub.attendance import events
from confhub.attendance.desk.models import Incident, IncidentState
from confhub.attendance.desk.schemas import IncidentChange, IncidentReport
from confhub.attendance.models import EventType
from confhub.attendance.rows import chunks, invited_points
from confhub.core.errors import (
    ConfhubError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from confhub.core.i18n import N_
from confhub.core.messages import Word, status_word
from confhub.db import DbSession
from confhub.meetings import audit
from confhub.meetings.actors import ANSWERING_STATUSES, Actor, may_act_for_point
from confhub.meetings.audit import AuditAction
from confhub.meetings.models import Meeting
from confhub.points.models import ConnectionPoint

# A point's reports within the window, and its incidents not yet resolved, at most.
MAX_REPORTS_PER_WINDOW = 6
REPORT_WINDOW = timedelta(minutes=10)
MAX_OPEN_PER_POINT = 3
# A point's snapshot carries its latest incidents, resolved ones included, at most.
MAX_POINT_INCIDENTS = 50
# The next step of each state (resolving an open incident acknowledges it on the way).
NEXT_STATES = {
    IncidentState.OPEN.value: {IncidentState.ACKNOWLEDGED.value, IncidentState.RESOLVED.value},
    IncidentState.ACKNOWLEDGED.value: {IncidentState.RESOLVED.value},
    IncidentState.RESOLVED.value: set(),
}


class TooManyReportsError(ConfhubError):
    """A point reports faster than the desk allows; `Retry-After` says when to try again."""

    status_code = 429

    def __init__(self, message: str, retry_after: int, **values: Any) -> None:
        super().__init__(message, **values)
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True)
class IncidentOutcome:
    """The stored incident, whether this call created or changed it, and its delta."""

    incident: Incident
    changed: bool
    message: dict[str, Any] | None


def incident_view(incident: Incident, point_name: str | None = None) -> dict[str, Any]:
    """An incident as live clients and the API see it."""

    def at(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    view = {
        "incident_id": incident.incident_id,
        "point_id": incident.point_id,
        "kind": incident.kind,
        "note": incident.note,
        "state": incident.state,
        "reported_at": at(incident.reported_at),
        "acknowledged_at": at(incident.acknowledged_at),
        "resolved_at": at(incident.resolved_at),
        "resolution": incident.resolution,
    }
    if point_name is not None:
        view["point_name"] = point_name
    return view


async def find_incident(session: DbSession, meeting_id: int, incident_id: str) -> Incident | None:
    """The incident stored under a client's id, if any."""
    return await session.scalar(
        select(Incident).where(
            Incident.meeting_id == meeting_id, Incident.incident_id == incident_id
        )
    )


async def report_incidents(
    session: DbSession, meeting: Meeting, reports: list[tuple[Actor, IncidentReport]]
) -> list[IncidentOutcome | ConfhubError]:
    """Points' reports, in the caller's transaction: each one's incident (a repeated id
    answers the first) or what refused it, in order. What it reads, it reads for all of them
    at once, and it appends their deltas (one each) together."""
    version = await events.lock_version(session, meeting.id)
    ids = sorted({data.incident_id for _, data in reports})
    earlier: dict[str, Incident] = {}
    for chunk in chunks(ids):
        earlier |= {
            incident.incident_id: incident
            for incident in await session.scalars(
                select(Incident).where(
                    Incident.meeting_id == meeting.id, Incident.incident_id.in_(chunk)
                )
            )
        }
    wanted = {data.point_id for _, data in reports} | {i.point_id for i in earlier.values()}
    points = await invited_points(session, meeting.id, {p for p in wanted if p is not None})
    now = datetime.now(UTC)
    counted = await _report_counts(session, meeting.id, sorted(points), now)
    added: list[tuple[Incident, ConnectionPoint]] = []
    answers: list[tuple[Incident, bool] | ConfhubError] = []
    for actor, data in reports:
        try:
            incident, created = _one_report(meeting, actor, data, earlier, points, counted, now)
        except ConfhubError as refusal:
            answers.append(refusal)
            continue
        if created:
            earlier[incident.incident_id] = incident
            point = points[incident.point_id]
            added.append((incident, point))
            audit.record_for(
                session,
                meeting.id,
                actor.principal,
                actor.label,
                AuditAction.INCIDENT_REPORTED,
                point_id=point.id,
                kind=data.kind,
                note=data.note,
            )
        answers.append((incident, created))
    messages: dict[int, dict[str, Any]] = {}
    if added:
        for offset, (incident, _point) in enumerate(added):
            incident.version = version + 1 + offset  # the delta appended below takes it
            session.add(incident)
        await session.flush()
        deltas = [
            events.Delta(EventType.INCIDENT, incident_view(incident, point.name), incident.point_id)
            for incident, point in added
        ]
        appended = await events.append_many(session, meeting.id, deltas, locked_version=version)
        messages = {
            id(incident): message
            for (incident, _point), message in zip(added, appended, strict=True)
        }
    outcomes: list[IncidentOutcome | ConfhubError] = []
    for answer in answers:
        if isinstance(answer, ConfhubError):
            outcomes.append(answer)
            continue
        incident, created = answer
        message = messages.get(id(incident)) if created else None
        outcomes.append(IncidentOutcome(incident, changed=created, message=message))
    return outcomes


def _one_report(
    meeting: Meeting,
    actor: Actor,
    data: IncidentReport,
    earlier: dict[str, Incident],
    points: dict[int, ConnectionPoint],
    counted: dict[int, list[int]],
    now: datetime,
) -> tuple[Incident, bool]:
    """One report checked against what `report_incidents` read (and what it added before this
    one): the incident stored or to store, and whether it is new; raises what refuses it."""
    first = earlier.get(data.incident_id)
    point_id = first.point_id if first else data.point_id
    if point_id is None:
        raise InvalidInputError("point_id", N_("say which point_id the message is for"))
    point = points.get(point_id)
    if point is None:
        raise InvalidInputError(
            "point_id", N_("point %(id)s is not invited to this meeting"), id=point_id
        )
    if not may_act_for_point(actor, meeting, point):
        raise PermissionDeniedError(N_("You may only report for your own connection point"))
    if first is not None:
        return first, False
    if meeting.status not in ANSWERING_STATUSES:
        raise ConflictError(N_("The meeting is %(status)s"), status=status_word(meeting.status))
    recent_and_unresolved = counted.setdefault(point.id, [0, 0])
    _check_rate(*recent_and_unresolved)
    recent_and_unresolved[0] += 1
    recent_and_unresolved[1] += 1
    incident = Incident(
        meeting_id=meeting.id,
        point_id=point.id,
        incident_id=data.incident_id,
        kind=data.kind,
        note=data.note,
        state=IncidentState.OPEN.value,
        reported_at=now,
        reported_by=actor.label,
        version=0,
    )
    return incident, True


async def change_incident(
    session: DbSession, meeting: Meeting, actor: Actor, incident_id: str, data: IncidentChange
) -> IncidentOutcome:
    """The technician acknowledges or resolves (with a note); the same step again is answered
    unchanged, a step back is a 409. The caller has checked that `actor` manages the meeting."""
    version = await events.lock_version(session, meeting.id)
    incident = await find_incident(session, meeting.id, incident_id)
    if incident is None:
        raise NotFoundError(N_("No incident %(id)s in this meeting"), id=incident_id)
    if incident.state == data.state:
        return IncidentOutcome(incident, changed=False, message=None)
    if data.state not in NEXT_STATES[incident.state]:
        raise ConflictError(
            N_("The incident is %(state)s already"), state=incident_state_word(incident.state)
        )
    now = datetime.now(UTC)
    incident.state = data.state
    incident.handled_by = actor.label
    if incident.acknowledged_at is None:
        incident.acknowledged_at = now
    if data.state == IncidentState.RESOLVED.value:
        incident.resolved_at = now
        incident.resolution = data.note
    action = (
        AuditAction.INCIDENT_RESOLVED
        if data.state == IncidentState.RESOLVED.value
        else AuditAction.INCIDENT_ACKNOWLEDGED
    )
    point = await session.get(ConnectionPoint, incident.point_id)
    audit.record_for(
        session,
        meeting.id,
        actor.principal,
        actor.label,
        action,
        point_id=incident.point_id,
        kind=incident.kind,
        note=data.note,
    )
    await session.flush()
    message = await _append(session, meeting.id, incident, point.name if point else None, version)
    return IncidentOutcome(incident, changed=True, message=message)


def incident_state_word(state: str) -> Word:
    """An incident's state as a value: `open` in the API, its word on a page."""
    return Word(f"incident:{state}", state)


async def open_incidents(
    session: DbSession, meeting_id: int, point_ids: frozenset[int] | None = None
) -> list[dict[str, Any]]:
    """The meeting's incidents not yet resolved (a point's own only), oldest first."""
    query = (
        select(Incident, ConnectionPoint.name)
        .join(ConnectionPoint, ConnectionPoint.id == Incident.point_id)
        .where(Incident.meeting_id == meeting_id, Incident.state != IncidentState.RESOLVED.value)
        .order_by(Incident.reported_at, Incident.id)
    )
    if point_ids is not None:
        query = query.where(Incident.point_id.in_(point_ids))
    rows = await session.execute(query)
    return [incident_view(incident, name) for incident, name in rows]


async def point_incidents(
    session: DbSession, meeting_id: int, point_ids: frozenset[int]
) -> list[dict[str, Any]]:
    """The points' latest incidents in the meeting, resolved ones included, oldest first: a
    phone that was away learns from its snapshot that one was resolved meanwhile (a snapshot
    replaces the deltas it missed)."""
    query = (
        select(Incident, ConnectionPoint.name)
        .join(ConnectionPoint, ConnectionPoint.id == Incident.point_id)
        .where(Incident.meeting_id == meeting_id, Incident.point_id.in_(point_ids))
        .order_by(Incident.reported_at.desc(), Incident.id.desc())
        .limit(MAX_POINT_INCIDENTS)
    )
    rows = list(await session.execute(query))
    return [incident_view(incident, name) for incident, name in reversed(rows)]


async def _append(
    session: DbSession, meeting_id: int, incident: Incident, point_name: str | None, version: int
) -> dict[str, Any]:
    return await events.append(
        session,
        meeting_id,
        EventType.INCIDENT,
        incident_view(incident, point_name),
        point_id=incident.point_id,
        locked_version=version,
    )


async def _report_counts(
    session: DbSession, meeting_id: int, point_ids: list[int], now: datetime
) -> dict[int, list[int]]:
    """Each point's reports within the window and those not yet resolved (counted in the
    database under the meeting's version lock: every process)."""
    since = now - REPORT_WINDOW
    counted: dict[int, list[int]] = {}
    for chunk in chunks(point_ids):
        rows = await session.execute(
            select(
                Incident.point_id,
                func.count().filter(Incident.reported_at >= since),
                func.count().filter(Incident.state != IncidentState.RESOLVED.value),
            )
            .where(Incident.meeting_id == meeting_id, Incident.point_id.in_(chunk))
            .group_by(Incident.point_id)
        )
        for point_id, recent, unresolved in rows.all():
            counted[point_id] = [int(recent or 0), int(unresolved or 0)]
    return counted


def _check_rate(recent: int, unresolved: int) -> None:
    """Refuse a point's report past its allowance."""
    if unresolved >= MAX_OPEN_PER_POINT:
        raise TooManyReportsError(
            N_("This point has %(n)s incidents not yet resolved; the technician is on them"),
            60,
            n=MAX_OPEN_PER_POINT,
        )
    if recent >= MAX_REPORTS_PER_WINDOW:
        raise TooManyReportsError(
            N_("Too many reports from this point; try again in a few minutes"),
            int(REPORT_WINDOW.total_seconds() // 2),
        )
