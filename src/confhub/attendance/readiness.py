"""Whether each point's conference link is ready: the technician's signal reports and the
rehearsal (a test run before the meeting that sends every point's signal back to `untested`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from confhub.accounts.principal import Principal
from confhub.attendance import events
from confhub.attendance.models import EventType, PointAttendance, Presence, RollCallStatus, Signal
from confhub.core.errors import ConflictError, InvalidInputError, PermissionDeniedError
from confhub.core.i18n import N_
from confhub.core.messages import status_word
from confhub.db import DbSession
from confhub.meetings import audit
from confhub.meetings.actors import ANSWERING_STATUSES, Actor, may_act_for_point
from confhub.meetings.audit import AuditAction
from confhub.meetings.models import Invitation, Meeting
from confhub.points.models import ConnectionPoint


async def record_signal(
    session: DbSession, meeting: Meeting, actor: Actor, point_id: int, signal: str
) -> dict[str, Any] | None:
    """Store the technician's report of the link; returns the delta (None if unchanged)."""
    try:
        value = Signal(signal)
    except ValueError:
        allowed = ", ".join(s.value for s in Signal)
        raise InvalidInputError(
            "signal", N_("must be one of %(allowed)s"), allowed=allowed
        ) from None
    point = await _invited_point(session, meeting, point_id)
    if not may_act_for_point(actor, meeting, point):
        raise PermissionDeniedError(N_("You may only report for your own connection point"))
    if meeting.status not in ANSWERING_STATUSES:
        raise ConflictError(N_("The meeting is %(status)s"), status=status_word(meeting.status))
    now = datetime.now(UTC)
    version = await events.lock_version(session, meeting.id)
    row = await _row(session, meeting.id, point_id)
    if row.signal == value.value:
        return None
    row.signal, row.signal_at = value.value, now
    await session.flush()
    return await events.append(
        session,
        meeting.id,
        EventType.SIGNAL,
        {"point_id": point_id, "signal": value.value},
        point_id=point_id,
        locked_version=version,
    )


async def set_rehearsal(
    session: DbSession, meeting: Meeting, actor: Principal, running: bool
) -> dict[str, Any]:
    """Start a test run (every point's signal goes back to `untested`) or end it."""
    if meeting.status not in ANSWERING_STATUSES:
        raise ConflictError(
            N_("The meeting is %(status)s; no rehearsal now"), status=status_word(meeting.status)
        )
    version = await events.lock_version(session, meeting.id)
    if running:
        meeting.rehearsal_started_at = datetime.now(UTC)
        rows = await session.scalars(
            select(PointAttendance).where(PointAttendance.meeting_id == meeting.id)
        )
        for row in rows:
            row.signal, row.signal_at = Signal.UNTESTED.value, None
    else:
        meeting.rehearsal_started_at = None
    audit.record(session, meeting.id, actor, AuditAction.REHEARSAL, running=running)
    await session.flush()
    return await events.append(
        session,
        meeting.id,
        EventType.MEETING,
        {"meeting": {"rehearsal": running, "signals_reset": running}},
        locked_version=version,
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


async def _row(session: DbSession, meeting_id: int, point_id: int) -> PointAttendance:
    row = await session.scalar(
        select(PointAttendance).where(
            PointAttendance.meeting_id == meeting_id, PointAttendance.point_id == point_id
        )
    )
    if row is None:
        row = PointAttendance(
            meeting_id=meeting_id,
            point_id=point_id,
            status=RollCallStatus.PENDING.value,
            signal=Signal.UNTESTED.value,
            presence=Presence.OFFLINE.value,
        )
        session.add(row)
    return row
