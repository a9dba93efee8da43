"""A meeting, its agenda and the connection points invited to it (each with its chair)."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from confhub.core import tokens
from confhub.core.messages import Message
from confhub.db.base import BigIntAuditBase, DateTimeUTC
from confhub.meetings.reminders import lead_words, minutes_of
from confhub.points.models import ConnectionPoint
from confhub.units.models import Province

# Points join this long before the start to test the line (Vietnamese practice: 10-30 minutes).
LINE_TEST_BEFORE = timedelta(minutes=30)
# The delegates one point may report present (or expect) unless the meeting says otherwise.
DELEGATES_MIN = 1
DELEGATES_MAX = 500


class MeetingStatus(enum.StrEnum):
    """`draft → scheduled → live → ended`, or `cancelled`."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


class Meeting(BigIntAuditBase):
    """One scheduled online conference (hội nghị / phiên họp) convened by a province."""

    __tablename__ = "meeting"

    province_code: Mapped[int] = mapped_column(ForeignKey("province.code"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    convening_body: Mapped[str] = mapped_column(String(300), default="")
    presiding_official: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default=MeetingStatus.DRAFT.value, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    host_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("connection_point.id", ondelete="SET NULL")
    )
    # Grows on every change a calendar subscriber would see (RFC 5545 SEQUENCE).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    copied_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting.id", ondelete="SET NULL")
    )
    # The attendance event log's counter: the version of the latest roll-call/presence delta.
    attendance_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rehearsal_started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # How points join: the video room's link, or a room ID and PIN for a hardware MCU, and the
    # technician's hotline. They let anyone join: never in an anonymous page or feed.
    conference_url: Mapped[str | None] = mapped_column(String(500))
    conference_room: Mapped[str | None] = mapped_column(String(200))
    technician_phone: Mapped[str | None] = mapped_column(String(20))
    # When points join to test the line; NULL: the default, LINE_TEST_BEFORE the start (so it
    # moves with a reschedule). See `line_test_time`.
    line_test_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Reminders to the points, in minutes before the start; NULL: the default (24 h and 60 min
    # before). See confhub.meetings.reminders.
    reminder_minutes: Mapped[list[int] | None] = mapped_column(JSON)
    # When the roll call opens; NULL: at the line test (see `roll_call_time`). Before it the
    # check-in link offers the answer to the invitation only.
    roll_call_opens_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # The delegates a point may report present (and expect), both included.
    delegates_min: Mapped[int] = mapped_column(
        Integer, default=DELEGATES_MIN, server_default=str(DELEGATES_MIN)
    )
    delegates_max: Mapped[int] = mapped_column(
        Integer, default=DELEGATES_MAX, server_default=str(DELEGATES_MAX)
    )

    province: Mapped[Province] = relationship(lazy="raise")
    host_point: Mapped[ConnectionPoint | None] = relationship(lazy="raise")
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting",
        cascade="all, delete-orphan",
        order_by="AgendaItem.position",
        lazy="raise",
    )
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", lazy="raise"
    )

    @property
    def line_test_time(self) -> datetime:
        """When points join to test the line: as set, or LINE_TEST_BEFORE the start."""
        return self.line_test_at or self.starts_at - LINE_TEST_BEFORE

    @property
    def reminders(self) -> list[int]:
        """The reminders' lead times in minutes, the earliest first (as set, or the default)."""
        return minutes_of(self.reminder_minutes)

    @property
    def reminder_words(self) -> list[Message]:
        """The same as people say them ("24 h", "60 min"), for the pages."""
        return [lead_words(m) for m in self.reminders]

    @property
    def roll_call_time(self) -> datetime:
        """When the roll call opens: as set, or when points join for the line test."""
        return self.roll_call_opens_at or self.line_test_time

    @property
    def has_connection_details(self) -> bool:
        """Whether the meeting says how to join (a link, a room or a hotline)."""
        return bool(self.conference_url or self.conference_room or self.technician_phone)


class AgendaItem(BigIntAuditBase):
    """A timed item of a meeting's agenda, with its presenter."""

    __tablename__ = "agenda_item"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    title: Mapped[str] = mapped_column(String(500))
    presenter: Mapped[str] = mapped_column(String(300), default="")

    meeting: Mapped[Meeting] = relationship(back_populates="agenda_items", lazy="raise")


class Invitation(BigIntAuditBase):
    """A connection point invited to a meeting, with the chair presiding there."""

    __tablename__ = "invitation"
    __table_args__ = (
        # Also the index of a meeting's invitations (its first column): one on meeting_id
        # alone was dropped, as PostgreSQL chose it for one point's invitation on a fresh
        # meeting (migration 0019).
        UniqueConstraint("meeting_id", "point_id"),
        # Lets a unit's calendar feed find its version from the index alone.
        Index("ix_invitation_point_meeting_updated", "point_id", "meeting_id", "updated_at"),
    )

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    point_id: Mapped[int] = mapped_column(ForeignKey("connection_point.id"), index=True)
    chair_name: Mapped[str | None] = mapped_column(String(200))
    chair_title: Mapped[str | None] = mapped_column(String(300))
    chair_phone: Mapped[str | None] = mapped_column(String(40))
    # True when the chair was generated for the demo, so pages can mark it as sample data.
    chair_is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    # True while the chair is the point's directory entry (confhub.points.contacts): it follows
    # the directory until the meeting is held; False once named for this meeting only.
    chair_from_directory: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    # The secret of the chair's check-in link; NULL once revoked, replaced when re-issued.
    checkin_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # SHA-256 of the token, kept in step by `_digest_token`: links are looked up by it
    # (see `confhub.meetings.tokens`), never by comparing the secret in SQL.
    checkin_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    meeting: Mapped[Meeting] = relationship(back_populates="invitations", lazy="raise")
    point: Mapped[ConnectionPoint] = relationship(lazy="raise")

    @validates("checkin_token")
    def _digest_token(self, _key: str, token: str | None) -> str | None:
        self.checkin_token_digest = tokens.digest_or_none(token)
        return token


class AuditEntry(BigIntAuditBase):
    """One change to a meeting: who, when (`created_at`), what (`action` and `details`)."""

    __tablename__ = "meeting_audit"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Kept even when the account is deleted, so the log still says who it was.
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MeetingDocument(BigIntAuditBase):
    """A file attached to a meeting (agenda papers, reports); stored under the media folder."""

    __tablename__ = "meeting_document"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # A random name on disk: the uploaded name never reaches the file system.
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
