"""What the attendance domain does when another domain changes: connected by importing this
module (confhub.app and confhub.cli do; see confhub.core.signals)."""

from __future__ import annotations

from confhub.attendance import events
from confhub.attendance.models import EventType
from confhub.db import DbSession
from confhub.meetings.models import Meeting
from confhub.meetings.signals import status_changed
from confhub.notices.signals import NoticeStateChanged, notice_state_changed
from confhub.notices.states import point_states


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


@notice_state_changed.connect
async def announce_notice_states(session: DbSession, change: NoticeStateChanged) -> None:
    """Boards learn of each point's new notice state (delivered, failed, acknowledged…): a
    `notice` delta per point, sent on the live channel at commit."""
    states = await point_states(session, change.meeting_id, change.point_ids)
    await events.append_many(
        session,
        change.meeting_id,
        [
            events.Delta(
                EventType.NOTICE,
                {
                    "point_id": point_id,
                    "notice_state": state.notice_state,
                    "acknowledgement": state.acknowledgement,
                    "notice_failure": state.failure,
                },
                point_id,
            )
            for point_id, state in sorted(states.items())
        ],
    )
