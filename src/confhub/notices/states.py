"""Each invited point's notice state, as the points list and the board show it.

The chair's answer wins (`acknowledged`, `declined`); otherwise the best state of the latest
invitation over its channels (`delivered` > `sent` > `queued` > `failed`, so `failed` only when
every channel failed); `none` before any invitation notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from confhub.core.i18n import N_
from confhub.db import DbSession
from confhub.notices.models import (
    Acknowledgement,
    AckStatus,
    DeliveryState,
    Notice,
    NoticeDelivery,
    NoticeKind,
)

RANK = {
    DeliveryState.DELIVERED.value: 3,
    DeliveryState.SENT.value: 2,
    DeliveryState.QUEUED.value: 1,
    DeliveryState.FAILED.value: 0,
}
ACKNOWLEDGED = "acknowledged"
DECLINED = "declined"
NONE = "none"
NOTICE_STATES = (ACKNOWLEDGED, DECLINED, "delivered", "sent", "queued", "failed", NONE)


@dataclass(frozen=True)
class PointNoticeState:
    """One point's state: the contract's two fields, and why the invitation failed."""

    notice_state: str
    acknowledgement: dict[str, Any] | None = None
    failure: str | None = None

    @property
    def answered(self) -> bool:
        """The chair has answered (either way)."""
        return self.acknowledgement is not None


def ack_view(ack: Acknowledgement) -> dict[str, Any]:
    """The contract's `acknowledgement` object."""
    return {
        "status": ack.status,
        "delegates_expected": ack.delegates_expected,
        "reason": ack.reason,
        "at": _iso(ack.answered_at),
    }


def _iso(value: datetime) -> str:
    return value.isoformat()


async def point_states(
    session: DbSession, meeting_id: int, point_ids: Iterable[int] | None = None
) -> dict[int, PointNoticeState]:
    """The state of each point (of `point_ids`, or every point with a notice or an answer)."""
    latest = (
        select(Notice.point_id, func.max(Notice.id).label("notice_id"))
        .where(Notice.meeting_id == meeting_id, Notice.kind == NoticeKind.INVITATION.value)
        .group_by(Notice.point_id)
        .subquery()
    )
    rows = await session.execute(
        select(latest.c.point_id, NoticeDelivery.state, NoticeDelivery.last_error).join(
            NoticeDelivery, NoticeDelivery.notice_id == latest.c.notice_id
        )
    )
    best: dict[int, tuple[str, str | None]] = {}
    for point_id, state, error in rows:
        current = best.get(point_id)
        if current is None or RANK[state] > RANK[current[0]]:
            best[point_id] = (state, error if state == DeliveryState.FAILED.value else None)
    acks = {
        ack.point_id: ack
        for ack in await session.scalars(
            select(Acknowledgement).where(Acknowledgement.meeting_id == meeting_id)
        )
    }
    wanted = set(point_ids) if point_ids is not None else set(best) | set(acks)
    states: dict[int, PointNoticeState] = {}
    for point_id in wanted:
        ack = acks.get(point_id)
        state, failure = best.get(point_id, (NONE, None))
        if ack is not None:
            answered = ACKNOWLEDGED if ack.status == AckStatus.RECEIVED.value else DECLINED
            states[point_id] = PointNoticeState(answered, ack_view(ack))
        else:
            states[point_id] = PointNoticeState(state, None, failure)
    return states


# The words pages show for kinds, delivery states and channels (`_("notice:" ~ kind)` …),
# declared here so the catalog extracts them.
WORDS = (
    N_("notice:invitation"),
    N_("notice:reminder"),
    N_("notice:change"),
    N_("notice:cancellation"),
    N_("notice:link_reissued"),
    N_("notice:draft_review"),
    N_("delivery:queued"),
    N_("delivery:sent"),
    N_("delivery:delivered"),
    N_("delivery:failed"),
    N_("channel:email"),
    N_("channel:webhook"),
)
