"""Who receives a point's notices: the one place that says it. The e-mail is the point's
contact e-mail in the directory (confhub.points); the name and the phone the webhook's SMS goes
to are the chair the meeting names for that point, else the directory's chair and first phone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from confhub.db import DbSession
from confhub.meetings.models import Invitation
from confhub.points.services import contacts_of


@dataclass(frozen=True)
class Recipient:
    """A point's chair as notices address them: an e-mail, a first phone, or neither."""

    name: str = ""
    email: str | None = None
    phone: str | None = None


async def recipients_of(
    session: DbSession, meeting_id: int, point_ids: Iterable[int]
) -> dict[int, Recipient]:
    """Each point's recipient for this meeting."""
    wanted = set(point_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Invitation.point_id, Invitation.chair_name, Invitation.chair_phone).where(
            Invitation.meeting_id == meeting_id, Invitation.point_id.in_(wanted)
        )
    )
    chairs = {point_id: (name, phone) for point_id, name, phone in rows}
    directory = await contacts_of(session, wanted)
    found = {}
    for point_id in wanted:
        name, phone = chairs.get(point_id, (None, None))
        contacts = directory.get(point_id)
        if contacts is not None:
            name = name or contacts.chair_name
            phone = phone or contacts.phone
        found[point_id] = Recipient(
            name=name or "",
            email=contacts.email if contacts else None,
            phone=(phone or "").strip() or None,
        )
    return found
