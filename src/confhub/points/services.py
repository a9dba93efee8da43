"""Connection points: each unit's default point and each province's main point."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.db import DbSession
from confhub.points.models import ConnectionPoint
from confhub.units.models import Province, Unit


def unit_point_name(unit: Unit) -> str:
    """ "Xã Cẩm Tú" → "Hội trường UBND xã Cẩm Tú" (seed data in Vietnamese, as it is on site)."""
    return f"Hội trường UBND {unit.name[:1].lower()}{unit.name[1:]}"


def province_point_name(province: Province) -> str:
    """The province's own point, where the presiding official sits."""
    return f"Điểm cầu chính {province.name}"


async def ensure_default_points(session: DbSession, province_codes: Iterable[int]) -> int:
    """Create the missing default points of these provinces and units (renaming those whose unit
    was renamed); return how many were created."""
    codes = set(province_codes)
    existing = {
        point.default_key: point
        for point in await session.scalars(
            select(ConnectionPoint).where(ConnectionPoint.default_key.is_not(None))
        )
    }
    wanted: list[tuple[str, int, int | None, str]] = [
        (f"province:{p.code}", p.code, None, province_point_name(p))
        for p in await session.scalars(select(Province).where(Province.code.in_(codes)))
    ]
    wanted += [
        (f"unit:{u.code}", u.province_code, u.code, unit_point_name(u))
        for u in await session.scalars(select(Unit).where(Unit.province_code.in_(codes)))
    ]
    created = 0
    for key, province_code, unit_code, name in wanted:
        point = existing.get(key)
        if point is None:
            session.add(
                ConnectionPoint(
                    province_code=province_code, unit_code=unit_code, name=name, default_key=key
                )
            )
            created += 1
        elif point.name != name:
            # The unit was renamed by a newer data release; its default point follows.
            point.name = name
    await session.flush()
    return created


async def default_point(session: AsyncSession, *, unit_code: int) -> ConnectionPoint | None:
    """The default point of a unit."""
    return await session.scalar(
        select(ConnectionPoint).where(ConnectionPoint.default_key == f"unit:{unit_code}")
    )


async def province_point(session: AsyncSession, province_code: int) -> ConnectionPoint | None:
    """The province's main point."""
    return await session.scalar(
        select(ConnectionPoint).where(ConnectionPoint.default_key == f"province:{province_code}")
    )
