"""Loads the official unit list from the `vietnam-provinces` package, idempotently.

Rows are matched by code; names and types are refreshed from the package (its releases renamed
units), and `units_loaded` is sent in the same transaction (the points domain gives each unit and
province its default connection point). The loaded release is recorded in `unit_dataset`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import vietnam_provinces
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from vietnam_provinces import Province as SourceProvince
from vietnam_provinces import Ward as SourceWard

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.units.models import Province, Unit, UnitDataset
from confhub.units.signals import units_loaded

SOURCE = "vietnam-provinces"


@dataclass(frozen=True)
class LoadReport:
    """What a load did, for the CLI to print."""

    provinces: int
    units: int
    created: int
    updated: int
    # What the receivers of `units_loaded` created: the default connection points.
    points_created: int
    package_version: str


def _division_type(value: object) -> str:
    return str(getattr(value, "value", value))


async def load_units(session: AsyncSession, province_code: int | None = None) -> LoadReport:
    """Insert or refresh provinces and units (all, or one province's); the receivers of
    `units_loaded` add what belongs to them (their default points)."""
    source_provinces = list(SourceProvince.iter_all())
    if province_code is not None:
        source_provinces = [p for p in source_provinces if int(p.code) == province_code]
        if not source_provinces:
            raise InvalidInputError(
                "province", N_("There is no province with code %(code)s."), code=province_code
            )
    wanted = {int(p.code) for p in source_provinces}
    source_units = [w for w in SourceWard.iter_all() if int(w.province_code) in wanted]

    created = updated = 0
    existing_provinces = {p.code: p for p in await session.scalars(select(Province))}
    for sp in source_provinces:
        province_values: dict[str, object] = {
            "name": sp.name,
            "division_type": _division_type(sp.division_type),
            "codename": sp.codename,
        }
        created, updated = _upsert(
            session,
            existing_provinces.get(int(sp.code)),
            Province,
            int(sp.code),
            province_values,
            created,
            updated,
        )
    await session.flush()

    existing_units = {u.code: u for u in await session.scalars(select(Unit))}
    for su in source_units:
        values: dict[str, object] = {
            "name": su.name,
            "division_type": _division_type(su.division_type),
            "codename": su.codename,
            "province_code": int(su.province_code),
        }
        created, updated = _upsert(
            session, existing_units.get(int(su.code)), Unit, int(su.code), values, created, updated
        )
    await session.flush()

    points_created = sum(await units_loaded.send(session, frozenset(wanted)))
    await _record_dataset(session)
    return LoadReport(
        provinces=len(source_provinces),
        units=len(source_units),
        created=created,
        updated=updated,
        points_created=points_created,
        package_version=vietnam_provinces.__version__,
    )


def _upsert(
    session: AsyncSession,
    row: Province | Unit | None,
    model: type[Province] | type[Unit],
    code: int,
    values: Mapping[str, object],
    created: int,
    updated: int,
) -> tuple[int, int]:
    if row is None:
        session.add(model(code=code, **values))
        return created + 1, updated
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return created, updated + (1 if changed else 0)


async def _record_dataset(session: AsyncSession) -> None:
    province_count = len((await session.scalars(select(Province.code))).all())
    unit_count = len((await session.scalars(select(Unit.code))).all())
    dataset = await session.get(UnitDataset, SOURCE)
    if dataset is None:
        dataset = UnitDataset(source=SOURCE)
        session.add(dataset)
    package_version = vietnam_provinces.__version__
    data_version = str(getattr(vietnam_provinces, "__data_version__", ""))
    counts_changed = (dataset.province_count, dataset.unit_count) != (province_count, unit_count)
    if dataset.package_version != package_version or counts_changed:
        dataset.loaded_at = datetime.now(UTC)
    dataset.package_version = package_version
    dataset.data_version = data_version
    dataset.province_count = province_count
    dataset.unit_count = unit_count
    await session.flush()
