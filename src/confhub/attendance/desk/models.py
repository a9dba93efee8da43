"""Incidents a point reports during a meeting, announcements the secretariat sends, and each
addressed point's receipt of an announcement (seen, acknowledged)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from confhub.db.base import BigIntAuditBase, DateTimeUTC


class IncidentKind(enum.StrEnum):
    """What a point lost: mất hình, mất tiếng, mất kết nối, or something else."""

    NO_VIDEO = "no_video"
    NO_AUDIO = "no_audio"
    DISCONNECTED = "disconnected"
    OTHER = "other"


class IncidentState(enum.StrEnum):
    """Where the technician is with an incident."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Incident(BigIntAuditBase):
    """One report of a point's trouble, from its tap on the phone to the technician's fix."""

    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("meeting_id", "incident_id"),
        Index("ix_incident_point_reported", "point_id", "reported_at"),
        Index("ix_incident_reported_at", "reported_at"),
    )

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    point_id: Mapped[int] = mapped_column(ForeignKey("connection_point.id"))
    # Chosen by the point's client (a UUID), unique within the meeting.
    incident_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default=IncidentState.OPEN.value)
    reported_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    reported_by: Mapped[str] = mapped_column(String(254))
    # The attendance version of the report (a repeated report is acknowledged with it).
    version: Mapped[int] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # The technician's note when resolving (what was wrong, what was done).
    resolution: Mapped[str | None] = mapped_column(Text)
    handled_by: Mapped[str | None] = mapped_column(String(254))


class Audience(enum.StrEnum):
    """Whom an announcement addresses."""

    ALL = "all"
    UNITS = "units"
    NOT_PRESENT = "not_present"


class Announcement(BigIntAuditBase):
    """A short message of the secretariat to the points of a meeting."""

    __tablename__ = "announcement"
    __table_args__ = (UniqueConstraint("meeting_id", "announcement_id"),)

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    announcement_id: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(20))
    unit_codes: Mapped[list[int] | None] = mapped_column(JSON)
    addressed: Mapped[int] = mapped_column(Integer)
    sent_by: Mapped[str] = mapped_column(String(254))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class AnnouncementReceipt(BigIntAuditBase):
    """One addressed point's copy of an announcement: when its phone showed it, and when its
    chair acknowledged it."""

    __tablename__ = "announcement_receipt"
    __table_args__ = (
        UniqueConstraint("announcement_pk", "point_id"),
        Index("ix_announcement_receipt_meeting_point", "meeting_id", "point_id"),
    )

    announcement_pk: Mapped[int] = mapped_column(ForeignKey("announcement.id", ondelete="CASCADE"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    point_id: Mapped[int] = mapped_column(ForeignKey("connection_point.id"))
    seen_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # The versions of the count deltas that told boards (a repeat is acknowledged with them).
    seen_version: Mapped[int | None] = mapped_column(Integer)
    acknowledged_version: Mapped[int | None] = mapped_column(Integer)
