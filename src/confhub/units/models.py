"""Provinces and units, keyed by official codes (never by name: names change between releases)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from confhub.db.base import CodeKeyedBase, DateTimeUTC


class Province(CodeKeyedBase):
    """A province or centrally-governed city (tỉnh / thành phố trung ương)."""

    __tablename__ = "province"

    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(120))
    division_type: Mapped[str] = mapped_column(String(40))
    codename: Mapped[str] = mapped_column(String(120))

    units: Mapped[list[Unit]] = relationship(back_populates="province", lazy="raise")


class Unit(CodeKeyedBase):
    """A commune, ward or special zone (xã / phường / đặc khu)."""

    __tablename__ = "unit"

    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    province_code: Mapped[int] = mapped_column(ForeignKey("province.code"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    division_type: Mapped[str] = mapped_column(String(40))
    codename: Mapped[str] = mapped_column(String(120))

    province: Mapped[Province] = relationship(back_populates="units", lazy="raise")


class UnitDataset(CodeKeyedBase):
    """Which release of the unit data was loaded last, so operators can tell what they run."""

    __tablename__ = "unit_dataset"

    source: Mapped[str] = mapped_column(String(60), primary_key=True)
    package_version: Mapped[str] = mapped_column(String(40))
    data_version: Mapped[str] = mapped_column(String(40))
    province_count: Mapped[int] = mapped_column(Integer)
    unit_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
