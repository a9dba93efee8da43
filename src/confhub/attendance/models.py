"""Roll-call state, its history, and the attendance event log of a meeting.

The current state of each invited point lives in `point_attendance` (one row per invitation,
read in one query for a snapshot). Every change also appends one `attendance_event` with the
meeting's next version number, in the same transaction, so all processes agree on the order
and a client that missed something is answered from the database.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from confhub.db.base import BigIntAuditBase, DateTimeUTC


class RollCallStatus(enum.StrEnum):
    """A point's answer to the roll call."""

    PENDING = "pending"
    PRESENT = "present"
    ABSENT = "absent"


class Signal(enum.StrEnum):
    """What the point's technician reports of the conference link."""

    UNTESTED = "untested"
    TEST_OK = "test_ok"
    CONNECTED = "connected"
    NO_VIDEO = "no_video"
    NO_AUDIO = "no_audio"
    DISCONNECTED = "disconnected"


class Presence(enum.StrEnum):
    """Whether the point's live client is connected now, derived from heartbeats."""

    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"


class EventType(enum.StrEnum):
    """Kinds of attendance deltas (the `type` of a live message)."""

    CHECKIN = "checkin"
    PRESENCE = "presence"
    SIGNAL = "signal"
    MEETING = "meeting"
    # A point's notice state or the chair's answer to the invitation (confhub.notices).
    NOTICE = "notice"
    # The speaking queue changed (confhub.attendance.speaking).
    SPEAKING = "speaking"
    # A point's incident report and the technician's handling of it (confhub.attendance.desk).
    INCIDENT = "incident"
    # The secretariat's announcement to points, and its seen/acknowledged counts.
    ANNOUNCEMENT = "announcement"


class PointAttendance(BigIntAuditBase):
    """The current roll-call, signal and presence state of one invited point."""

    __tablename__ = "point_attendance"
    # Also the index of a meeting's rows (its first column): one on meeting_id alone was
    # dropped, as PostgreSQL chose it for one point's row on a fresh meeting (migration 0019).
    __table_args__ = (UniqueConstraint("meeting_id", "point_id"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    point_id: Mapped[int] = mapped_column(ForeignKey("connection_point.id"))
    status: Mapped[str] = mapped_column(String(10), default=RollCallStatus.PENDING.value)
    delegates_present: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Who actually presided at the point, as its chair confirmed or corrected at check-in
    # (None: the invited chair, or not present).
    presiding_name: Mapped[str | None] = mapped_column(String(200))
    presiding_position: Mapped[str | None] = mapped_column(String(300))
    signal: Mapped[str] = mapped_column(String(20), default=Signal.UNTESTED.value)
    signal_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    presence: Mapped[str] = mapped_column(String(10), default=Presence.OFFLINE.value)
    rtt_ms: Mapped[int | None] = mapped_column(Integer)
    # Refreshed while a client heartbeats; a stale one reads as offline (its process may be gone).
    seen_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class CheckinRecord(BigIntAuditBase):
    """One roll-call answer as given (corrections add rows; nothing is overwritten)."""

    __tablename__ = "checkin_record"
    __table_args__ = (UniqueConstraint("meeting_id", "idempotency_key"),)

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    point_id: Mapped[int] = mapped_column(ForeignKey("connection_point.id"))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))
    delegates_present: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    presiding_name: Mapped[str | None] = mapped_column(String(200))
    presiding_position: Mapped[str | None] = mapped_column(String(300))
    # Who answered: a check-in link, a signed-in chair, or the secretariat taking a phone call.
    source: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254))
    version: Mapped[int] = mapped_column(Integer)


class AttendanceEvent(BigIntAuditBase):
    """One delta of a meeting's attendance, numbered by the meeting's version counter."""

    __tablename__ = "attendance_event"
    __table_args__ = (UniqueConstraint("meeting_id", "version"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20))
    point_id: Mapped[int | None] = mapped_column(ForeignKey("connection_point.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
