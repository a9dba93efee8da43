"""What the notices domain does when a meeting changes: each receiver records the notices the
change causes, in the change's own transaction (confhub.core.signals). Connected by importing
this module (confhub.app and confhub.cli do)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from confhub.db import DbSession
from confhub.meetings.models import Meeting, MeetingStatus
from confhub.meetings.signals import (
    LinkReissued,
    MeetingChanged,
    PointsInvited,
    PointsListed,
    link_reissued,
    meeting_changed,
    points_invited,
    points_listed,
    status_changed,
)
from confhub.notices import recording
from confhub.notices.models import NoticeKind
from confhub.notices.states import point_states


def _told(meeting: Meeting) -> bool:
    return meeting.status in recording.TOLD_STATUSES and not recording.is_over(
        meeting, datetime.now(UTC)
    )


@points_invited.connect
async def invite(session: DbSession, event: PointsInvited) -> None:
    """Points invited to a scheduled (or live) meeting get its invitation."""
    if _told(event.meeting):
        await recording.record(session, event.meeting, event.point_ids, NoticeKind.INVITATION)


@status_changed.connect
async def announce(session: DbSession, meeting: Meeting) -> None:
    """A draft scheduled: every invited point not yet invited by notice gets its invitation. A
    meeting cancelled: every point that was invited by notice hears of it (a cancelled draft
    was nobody's news)."""
    if meeting.status == MeetingStatus.SCHEDULED.value and _told(meeting):
        told = await recording.told_point_ids(session, meeting.id)
        points = [
            p for p in await recording.invited_point_ids(session, meeting.id) if p not in told
        ]
        await recording.record(session, meeting, points, NoticeKind.INVITATION)
    elif meeting.status == MeetingStatus.CANCELLED.value:
        if recording.is_over(meeting, datetime.now(UTC)):
            return
        told = await recording.told_point_ids(session, meeting.id)
        invited = set(await recording.invited_point_ids(session, meeting.id))
        await recording.record(
            session,
            meeting,
            told & invited,
            NoticeKind.CANCELLATION,
            {"reason": meeting.status_reason or ""},
        )


@meeting_changed.connect
async def tell_change(session: DbSession, event: MeetingChanged) -> None:
    """A change of time, place or connection details reaches every invited point: what changed,
    old → new."""
    changes = {k: v for k, v in event.changes.items() if k in recording.NOTIFIED_FIELDS}
    if not changes or not _told(event.meeting):
        return
    points = await recording.invited_point_ids(session, event.meeting.id)
    payload: dict[str, Any] = {"changes": changes}
    await recording.record(session, event.meeting, points, NoticeKind.CHANGE, payload)


@link_reissued.connect
async def tell_new_link(session: DbSession, event: LinkReissued) -> None:
    """The point's new check-in link reaches its chair (the old one no longer opens)."""
    if _told(event.meeting):
        await recording.record(session, event.meeting, [event.point_id], NoticeKind.LINK_REISSUED)


@points_listed.connect
async def describe(session: DbSession, event: PointsListed) -> dict[int, dict[str, Any]]:
    """Each listed point's `notice_state` and `acknowledgement` (the contract's fields), and
    why its invitation failed (`notice_failure`, for the secretariat's points page)."""
    states = await point_states(session, event.meeting_id, event.point_ids)
    return {
        point_id: {
            "notice_state": state.notice_state,
            "acknowledgement": state.acknowledgement,
            "notice_failure": state.failure,
        }
        for point_id, state in states.items()
    }
