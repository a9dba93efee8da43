"""A point's request to speak and what became of it: one row per request, kept after it is
done (the meeting's record of who spoke, when and for how long)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from confhub.db.base import BigIntAuditBase, DateTimeUTC


class SpeakingState(enum.StrEnum):
    """Where a request is: waiting (`requested`, `accepted`), at the microphone (`speaking`),
    or finished (`refused`, `done`)."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    SPEAKING = "speaking"
    REFUSED = "refused"
    DONE = "done"


WAITING = frozenset({SpeakingState.REQUESTED.value, SpeakingState.ACCEPTED.value})
OPEN = WAITING | {SpeakingState.SPEAKING.value}


class SpeakingRequest(BigIntAuditBase):
    """One request to speak, by the id its client chose (unique within the meeting)."""

    __tablename__ = "speaking_request"
    __table_args__ = (UniqueConstraint("meeting_id", "request_id"),)

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[str] = mapped_column(String(100))
    point_id: Mapped[int] = mapped_column(ForeignKey("connection_point.id"))
    topic: Mapped[str] = mapped_column(String(300))
    minutes: Mapped[int] = mapped_column(Integer)
    # Who will speak, when the chair said (else the point's presiding chair).
    speaker: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(12), default=SpeakingState.REQUESTED.value)
    # The place among the waiting requests (1 speaks next); 0 once no longer waiting.
    position: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    # The attendance version its creation took: a repeated id is acknowledged with it again.
    version: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # An optional document (tham luận) the point uploaded with it: its storage name in the
    # media folder, the name shown, its recognised type and size.
    document_storage: Mapped[str | None] = mapped_column(String(64))
    document_name: Mapped[str | None] = mapped_column(String(255))
    document_type: Mapped[str | None] = mapped_column(String(120))
    document_size: Mapped[int | None] = mapped_column(Integer)
