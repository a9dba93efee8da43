"""Who may watch a meeting's live channel, and as whom: a check-in link acts for its point, the
province's staff watch the board, a chair its unit's points (`confhub.attendance.live` asks,
after the gate of `confhub.attendance.handshake`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import WebSocket
from sqlalchemy import select

from confhub.accounts.guards import current_principal
from confhub.meetings.actors import Actor
from confhub.meetings.models import Invitation, Meeting
from confhub.points.models import ConnectionPoint


@dataclass(frozen=True)
class Access:
    """What one socket may see and do."""

    actor: Actor
    point_ids: frozenset[int] | None
    with_phones: bool


async def resolve_access(socket: WebSocket[Any, Any, Any], meeting_id: int) -> Access | None:
    """A check-in link acts for its point; the province's staff watch the board; a chair its
    unit's points. Anyone else gets None. A link is looked up in the process's link cache (no
    query for one seen lately); a signed-in user's meeting and points are read afresh."""
    state = socket.app.state
    token = socket.query_params.get("token")
    if token:
        link = await state.checkin_links.find(state.db_config.get_session, token, meeting_id)
        if link is None:
            return None
        return Access(Actor.of_link(link.point_id), frozenset({link.point_id}), with_phones=False)
    principal = current_principal(socket)
    if principal is None:
        return None  # before any query: the session named nobody
    async with state.db_config.get_session() as session:
        meeting = await session.get(Meeting, meeting_id)
        if meeting is None:
            return None
        actor = Actor.of_user(principal)
        if principal.reads_province(meeting.province_code):
            with_phones = principal.manages_province(meeting.province_code)
            return Access(actor, None, with_phones=with_phones)
        if principal.unit_code is None or meeting.status == "draft":
            return None
        own = await session.scalars(
            select(Invitation.point_id)
            .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
            .where(
                Invitation.meeting_id == meeting.id,
                ConnectionPoint.unit_code == principal.unit_code,
            )
        )
        point_ids = frozenset(own)
    return Access(actor, point_ids, with_phones=False) if point_ids else None
