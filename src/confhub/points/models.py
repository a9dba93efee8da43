"""A connection point belongs to a unit (or, with no unit, is the province's own point)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
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
