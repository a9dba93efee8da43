"""A connection point belongs to a unit (or, with no unit, is the province's own point)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from confhub.db.base import BigIntAuditBase
from confhub.units.models import Province, Unit


class ConnectionPoint(BigIntAuditBase):
    """A place that joins meetings, e.g. "Hội trường UBND xã Cẩm Tú"."""

    __tablename__ = "connection_point"

    province_code: Mapped[int] = mapped_column(ForeignKey("province.code"), index=True)
    unit_code: Mapped[int | None] = mapped_column(ForeignKey("unit.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    # "unit:15148" or "province:38" for the point the loader creates; NULL for points added by hand.
    default_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    province: Mapped[Province] = relationship(lazy="raise")
    unit: Mapped[Unit | None] = relationship(lazy="raise")


class PointContacts(BigIntAuditBase):
    """A point's standing directory entry: who chairs there and how to reach them, reused by
    every meeting the point is invited to unless a meeting names another chair."""

    __tablename__ = "point_contacts"

    point_id: Mapped[int] = mapped_column(
        ForeignKey("connection_point.id", ondelete="CASCADE"), unique=True
    )
    chair_name: Mapped[str | None] = mapped_column(String(200))
    chair_position: Mapped[str | None] = mapped_column(String(300))
    # National forms `0XXXXXXXXX`, the one to call first first.
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    email: Mapped[str | None] = mapped_column(String(254))
    technician_phone: Mapped[str | None] = mapped_column(String(20))


class ContactsAuditEntry(BigIntAuditBase):
    """One change to a point's contacts: who, when (`created_at`), what (`action`, and in
    `details` the fields that changed, old and new)."""

    __tablename__ = "point_contacts_audit"

    point_id: Mapped[int] = mapped_column(
        ForeignKey("connection_point.id", ondelete="CASCADE"), index=True
    )
    # The account table belongs to a domain above this one: named, not imported.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Kept even when the account is deleted, so the log still says who it was.
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
