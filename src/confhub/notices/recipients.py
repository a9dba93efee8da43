"""Who receives a point's notices: the one place that says it, so the directory of contacts
(confhub.points) can take over from the meeting's own chair fields without touching the rest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from confhub.db import DbSession
from confhub.meetings.models import Invitation


@dataclass(frozen=True)
class Recipient:
    """A point's chair as notices address them: an e-mail, a first phone, or neither."""

    name: str = ""
    email: str | None = None
    phone: str | None = None


async def recipients_of(
    session: DbSession, meeting_id: int, point_ids: Iterable[int]
) -> dict[int, Recipient]:
    """Each point's recipient for this meeting: the chair the meeting names."""
    wanted = set(point_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Invitation.point_id, Invitation.chair_name, Invitation.chair_phone).where(
            Invitation.meeting_id == meeting_id, Invitation.point_id.in_(wanted)
        )
    )
    found = {
        point_id: Recipient(name=name or "", phone=(phone or "").strip() or None)
        for point_id, name, phone in rows
    }
    return {point_id: found.get(point_id, Recipient()) for point_id in wanted}
