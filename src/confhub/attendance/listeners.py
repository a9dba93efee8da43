"""What the attendance domain does when another domain changes: connected by importing this
module (confhub.app and confhub.cli do; see confhub.core.signals)."""

from __future__ import annotations

from confhub.attendance import events
from confhub.attendance.models import EventType
from confhub.db import DbSession
from confhub.meetings.models import Meeting
from confhub.meetings.signals import status_changed


@status_changed.connect
async def announce_status(session: DbSession, meeting: Meeting) -> None:
    """Live boards and check-in pages learn of a meeting's new status through the attendance log:
    a `meeting` delta with the meeting's next version, sent on the live channel at commit."""
    await events.append(
        session,
        meeting.id,
        EventType.MEETING,
        {"meeting": {"status": meeting.status, "status_reason": meeting.status_reason}},
    )
