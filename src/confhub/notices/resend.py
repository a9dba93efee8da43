"""The secretariat's resend of an invitation or a reminder to chosen points (or every one)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from confhub.core.bodies import Body
from confhub.core.errors import ConflictError, InvalidInputError
from confhub.core.i18n import N_
from confhub.core.ids import IdField
from confhub.core.messages import status_word
from confhub.db import DbSession
from confhub.meetings.models import Meeting
from confhub.notices import recording
from confhub.notices.models import NoticeKind

MAX_POINTS = 10_000


class ResendRequest(Body):
    """`{"kind": "invitation" | "reminder", "point_ids"?}`: all invited points when absent."""

    kind: Literal["invitation", "reminder"]
    point_ids: list[IdField] | None = None


class ResendResult(msgspec.Struct):
    """How many notices were queued."""

    queued: int


async def resend(
    session: DbSession, meeting: Meeting, kind: str, point_ids: Sequence[int] | None
) -> int:
    """Queue the notice again for the chosen invited points; how many were queued."""
    if meeting.status not in recording.TOLD_STATUSES or recording.is_over(
        meeting, datetime.now(UTC)
    ):
        raise ConflictError(
            N_("The meeting is “%(status)s”; no notice can be sent for it."),
            status=status_word(meeting.status),
        )
    invited = set(await recording.invited_point_ids(session, meeting.id))
    if point_ids is None:
        chosen = invited
    else:
        if len(point_ids) > MAX_POINTS:
            raise InvalidInputError("point_ids", N_("At most %(n)s points."), n=MAX_POINTS)
        chosen = set(point_ids)
        missing = sorted(chosen - invited)
        if missing:
            raise InvalidInputError(
                "point_ids", N_("point(s) not invited: %(points)s"), points=missing
            )
    payload: dict[str, Any] = {"resent": True}
    if kind == NoticeKind.REMINDER.value:
        payload["starts_at"] = meeting.starts_at.isoformat()
    return await recording.record(session, meeting, chosen, NoticeKind(kind), payload)
