"""The notices' tables: what happened to a meeting that a point must hear of (`notice`), each
message carrying it to one recipient on one channel (`notice_delivery`), and the chair's answer
(`acknowledgement`)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from confhub.db.base import BigIntAuditBase, DateTimeUTC


class NoticeKind(enum.StrEnum):
    """What a notice tells a point (the contract's words)."""

    INVITATION = "invitation"
    REMINDER = "reminder"
    CHANGE = "change"
    CANCELLATION = "cancellation"
    LINK_REISSUED = "link_reissued"
    # Not to a point's contacts but to its unit's editors: a draft article of the meeting waits
    # for their review (confhub.news tells them; one notice per draft).
    DRAFT_REVIEW = "draft_review"


class Channel(enum.StrEnum):
    """How a notice travels."""

    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryState(enum.StrEnum):
    """`queued` (waiting for its turn or a retry), `sent` (handed to a worker, answer not yet
    known), `delivered` (the SMTP server accepted it, the gateway answered 2xx), `failed`."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


class AckStatus(enum.StrEnum):
    """The chair's answer to the invitation."""

    RECEIVED = "received"
    DECLINED = "declined"


class Notice(BigIntAuditBase):
    """One thing one invited point must hear of, recorded in the transaction that caused it."""

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_meeting_point_kind", "meeting_id", "point_id", "kind"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    point_id: Mapped[int] = mapped_column(
        ForeignKey("connection_point.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    # What the message says beyond the meeting itself: a change's fields (old → new), a
    # cancellation's reason, a reminder's lead time.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A notice that must exist once only (a reminder for one start time): two processes that
    # both decide it is due record it once.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)


class NoticeDelivery(BigIntAuditBase):
    """One message of a notice to one recipient on one channel, and what became of it."""

    __tablename__ = "notice_delivery"
    __table_args__ = (Index("ix_notice_delivery_due", "state", "next_attempt_at"),)

    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    # An e-mail address or a phone number (national form); empty when the point has none.
    recipient: Mapped[str] = mapped_column(String(254), default="")
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(10), default=DeliveryState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    # A worker that claimed it holds it until then; a worker killed mid-send lets it go again.
    lease_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # The e-mail's Message-ID and the webhook's `id`: the same on every retry, so a receiver
    # that already has it can drop the copy.
    message_id: Mapped[str] = mapped_column(String(120), unique=True)
    # The message as it was first sent (subject, text, .ics), so a retry and the outbox page
    # show exactly those bytes.
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Acknowledgement(BigIntAuditBase):
    """The chair's answer to a meeting's invitation for one point (the latest answer)."""

    __tablename__ = "acknowledgement"
    __table_args__ = (UniqueConstraint("meeting_id", "point_id"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    point_id: Mapped[int] = mapped_column(
        ForeignKey("connection_point.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10))
    delegates_expected: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
