"""What a live snapshot carries of the desk: incidents (a board: the open ones; a point: its own
latest, resolved ones included) and announcements (a board: the latest with their counts; a
point: those it has not acknowledged)."""

from __future__ import annotations

from typing import Any

from confhub.attendance.desk.announcements import board_announcements, point_announcements
from confhub.attendance.desk.incidents import open_incidents, point_incidents
from confhub.db import DbSession


async def desk_state(
    session: DbSession, meeting_id: int, point_ids: frozenset[int] | None
) -> dict[str, Any]:
    """The snapshot's `incidents` and `announcements`."""
    if point_ids is None:
        incidents = await open_incidents(session, meeting_id)
        announcements = await board_announcements(session, meeting_id)
    else:
        incidents = await point_incidents(session, meeting_id, point_ids)
        announcements = await point_announcements(session, meeting_id, point_ids)
    return {"incidents": incidents, "announcements": announcements}
