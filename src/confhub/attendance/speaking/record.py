"""The meeting's record of speaking requests: every request with what became of it, and who
spoke, when and for how long, in the order they spoke (the minutes editor inserts it; the
official minutes list the speakers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from confhub.attendance.models import PointAttendance
from confhub.attendance.speaking.models import SpeakingRequest, SpeakingState
from confhub.attendance.speaking.queue import item
from confhub.db import DbSession
from confhub.meetings.models import Invitation
from confhub.points.models import ConnectionPoint


@dataclass(frozen=True)
class Spoken:
    """One turn at the microphone: who, from which point, about what, when, how long."""

    speaker: str
    point_name: str
    topic: str
    started_at: datetime
    ended_at: datetime | None

    @property
    def seconds(self) -> int | None:
        """How long the turn lasted (None while it goes on)."""
        if self.ended_at is None:
            return None
        return max(0, int((self.ended_at - self.started_at).total_seconds()))


async def requests(
    session: DbSession, meeting_id: int, point_ids: frozenset[int] | None = None
) -> list[dict[str, Any]]:
    """Every request of the meeting (or of `point_ids`), oldest first, as clients see them."""
    query = select(SpeakingRequest).where(SpeakingRequest.meeting_id == meeting_id)
    if point_ids is not None:
        query = query.where(SpeakingRequest.point_id.in_(point_ids))
    rows = await session.scalars(query.order_by(SpeakingRequest.id))
    return [item(row) for row in rows]


async def spoken(session: DbSession, meeting_id: int) -> list[Spoken]:
    """Who spoke, in the order they took the floor. The speaker is the name the point gave,
    else whoever presided at the point (as its chair confirmed), else the invited chair, else
    the point's name."""
    found = await session.execute(
        select(
            SpeakingRequest,
            ConnectionPoint.name,
            PointAttendance.presiding_name,
            Invitation.chair_name,
        )
        .join(ConnectionPoint, ConnectionPoint.id == SpeakingRequest.point_id)
        .outerjoin(
            Invitation,
            (Invitation.meeting_id == SpeakingRequest.meeting_id)
            & (Invitation.point_id == SpeakingRequest.point_id),
        )
        .outerjoin(
            PointAttendance,
            (PointAttendance.meeting_id == SpeakingRequest.meeting_id)
            & (PointAttendance.point_id == SpeakingRequest.point_id),
        )
        .where(
            SpeakingRequest.meeting_id == meeting_id,
            SpeakingRequest.started_at.is_not(None),
            SpeakingRequest.state.in_((SpeakingState.SPEAKING.value, SpeakingState.DONE.value)),
        )
        .order_by(SpeakingRequest.started_at, SpeakingRequest.id)
    )
    turns = []
    for row, point_name, presiding, chair in found:
        assert row.started_at is not None
        turns.append(
            Spoken(
                speaker=row.speaker or presiding or chair or point_name,
                point_name=point_name,
                topic=row.topic,
                started_at=row.started_at,
                ended_at=row.ended_at,
            )
        )
    return turns
