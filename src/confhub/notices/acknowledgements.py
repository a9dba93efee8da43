"""The chair's answer to the invitation, before the meeting: `received` with the delegates
expected, or `declined` with a reason. One write path for the API and the check-in page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from msgspec import Meta
from sqlalchemy import select

from confhub.core.bodies import Body
from confhub.core.errors import ConflictError, InvalidInputError, NotFoundError
from confhub.core.i18n import N_
from confhub.core.ids import IdField
from confhub.core.messages import status_word
from confhub.core.text import Text, is_text
from confhub.db import DbSession
from confhub.meetings.models import Invitation, Meeting, MeetingStatus
from confhub.meetings.roll_call_limits import check_delegates
from confhub.notices.models import Acknowledgement, AckStatus
from confhub.notices.signals import NoticeStateChanged, notice_state_changed

MAX_DELEGATES = 100_000
MAX_REASON = 2000
# Once a meeting has ended (or was cancelled) there is nothing left to answer.
CLOSED = frozenset({MeetingStatus.ENDED.value, MeetingStatus.CANCELLED.value})


class AcknowledgementWrite(Body):
    """`received` (with `delegates_expected`) or `declined` (with a `reason`) for one point."""

    point_id: IdField
    status: Literal["received", "declined"]
    delegates_expected: Annotated[int, Meta(ge=0, le=MAX_DELEGATES)] | None = None
    reason: Annotated[str, Meta(max_length=MAX_REASON), Text] | None = None

    def __post_init__(self) -> None:
        """A refusal says why; an acceptance has no reason and says how many will come."""
        self.reason = (self.reason or "").strip() or None
        if self.status == AckStatus.DECLINED.value:
            if self.reason is None:
                raise InvalidInputError("reason", N_("Say why the point cannot attend."))
            self.delegates_expected = None
        else:
            if self.delegates_expected is None:
                raise InvalidInputError(
                    "delegates_expected", N_("Enter the number of delegates expected.")
                )
            self.reason = None


def decode_acknowledgement(point_id: int, fields: dict[str, str]) -> AcknowledgementWrite:
    """A form's answer (text fields) as the API's; `InvalidInputError` names what is wrong."""
    status = fields.get("status", "")
    if status not in (AckStatus.RECEIVED.value, AckStatus.DECLINED.value):
        raise InvalidInputError("status", N_("must be received or declined"))
    expected: int | None = None
    if status == AckStatus.RECEIVED.value:
        raw = fields.get("delegates_expected", "")
        if not raw.isdigit() or int(raw) > MAX_DELEGATES:
            raise InvalidInputError(
                "delegates_expected", N_("Enter the number of delegates expected.")
            )
        expected = int(raw)
    reason = fields.get("reason") or None
    if reason is not None and not is_text(reason):
        raise InvalidInputError("reason", N_("must be plain text"))
    return AcknowledgementWrite(
        point_id=point_id,
        status=status,  # type: ignore[arg-type]
        delegates_expected=expected,
        reason=reason if status == AckStatus.DECLINED.value else None,
    )


@dataclass(frozen=True)
class AckOutcome:
    """The stored answer and whether it is new or changed (201) or as before (200)."""

    acknowledgement: Acknowledgement
    changed: bool


async def acknowledge(
    session: DbSession, meeting: Meeting, answer: AcknowledgementWrite, now: datetime | None = None
) -> AckOutcome:
    """Store the point's answer (its latest replaces the one before); 409 once the meeting is
    over; the board hears of it at commit."""
    if meeting.status in CLOSED or meeting.ends_at <= (now or datetime.now(UTC)):
        raise ConflictError(
            N_("The meeting is “%(status)s”; invitations can no longer be answered."),
            status=status_word(meeting.status),
        )
    if answer.status == AckStatus.RECEIVED.value:
        check_delegates(meeting, "delegates_expected", answer.delegates_expected)
    invited = await session.scalar(
        select(Invitation.id).where(
            Invitation.meeting_id == meeting.id, Invitation.point_id == answer.point_id
        )
    )
    if invited is None:
        raise NotFoundError(
            N_("Point %(point)s is not invited to meeting %(meeting)s"),
            point=answer.point_id,
            meeting=meeting.id,
        )
    stored = await session.scalar(
        select(Acknowledgement).where(
            Acknowledgement.meeting_id == meeting.id, Acknowledgement.point_id == answer.point_id
        )
    )
    values = (answer.status, answer.delegates_expected, answer.reason)
    if stored is not None and (stored.status, stored.delegates_expected, stored.reason) == values:
        return AckOutcome(stored, changed=False)
    if stored is None:
        stored = Acknowledgement(meeting_id=meeting.id, point_id=answer.point_id)
        session.add(stored)
    stored.status, stored.delegates_expected, stored.reason = values
    stored.answered_at = now or datetime.now(UTC)
    await session.flush()
    await notice_state_changed.send(session, NoticeStateChanged(meeting.id, (answer.point_id,)))
    return AckOutcome(stored, changed=True)


async def answer_of(session: DbSession, meeting_id: int, point_id: int) -> Acknowledgement | None:
    """The point's current answer, if any."""
    return await session.scalar(
        select(Acknowledgement).where(
            Acknowledgement.meeting_id == meeting_id, Acknowledgement.point_id == point_id
        )
    )
