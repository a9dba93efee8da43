"""The official unit list: what `load_units` puts in the database, and `/api/v1/units`.

The contract fixes the numbers: 34 provinces and 3,321 units of the 2025 two-tier system,
Thanh Hóa = province 38 (166 units), Xã Cẩm Tú = unit 15148.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import vietnam_provinces
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.core.errors import InvalidInputError
from confhub.db import migrate
from confhub.db.engine import create_engine, session_maker
from confhub.points.models import ConnectionPoint
from confhub.units.loader import SOURCE, load_units
from confhub.units.models import Province, Unit, UnitDataset

pytestmark = pytest.mark.integration

PROVINCES = 34
UNITS = 3321
THANH_HOA = 38
THANH_HOA_UNITS = 166
CAM_TU = 15148
SNAPSHOT_TABLES = ("province", "unit", "connection_point", "unit_dataset")


@pytest.fixture
def empty_db(tmp_path: Path) -> str:
    """A migrated SQLite database with no rows at all."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
async def empty_session(empty_db: str) -> AsyncIterator[AsyncSession]:
    """A session on the empty migrated database."""
    engine = create_engine(empty_db)
    try:
        async with session_maker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return (
        await session.execute(select(func.count()).select_from(model).where(*where))
    ).scalar_one()


async def _snapshot(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the unit tables, every column included (updated_at too)."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    for table in SNAPSHOT_TABLES:
        result = await session.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
        snapshot[table] = [tuple(row) for row in result]
    return snapshot


# --- the loaded data ---------------------------------------------------------------------


async def test_all_provinces_and_units_are_loaded(db_session: AsyncSession) -> None:
    assert await _count(db_session, Province) == PROVINCES
    assert await _count(db_session, Unit) == UNITS


async def test_thanh_hoa_has_166_units(db_session: AsyncSession) -> None:
    province = await db_session.get(Province, THANH_HOA)
    assert province is not None
    assert province.name == "Thanh Hóa"
    assert await _count(db_session, Unit, Unit.province_code == THANH_HOA) == THANH_HOA_UNITS


async def test_cam_tu_is_a_commune_of_thanh_hoa(db_session: AsyncSession) -> None:
    unit = await db_session.get(Unit, CAM_TU)
    assert unit is not None
    assert unit.name == "Xã Cẩm Tú"
    assert unit.province_code == THANH_HOA
    assert unit.division_type == "xã"


async def test_every_unit_and_province_has_exactly_one_default_point(
    db_session: AsyncSession,
) -> None:
    points = (
        await db_session.scalars(
            select(ConnectionPoint).where(ConnectionPoint.default_key.is_not(None))
        )
    ).all()
    keys = [p.default_key for p in points]
    assert len(keys) == len(set(keys))

    unit_codes = set(await db_session.scalars(select(Unit.code)))
    province_codes = set(await db_session.scalars(select(Province.code)))
    expected = {f"unit:{code}" for code in unit_codes} | {
        f"province:{code}" for code in province_codes
    }
    assert set(keys) == expected
    assert len(keys) == UNITS + PROVINCES

    for point in points:
        if point.default_key and point.default_key.startswith("unit:"):
            assert point.unit_code == int(point.default_key.removeprefix("unit:"))
        else:
            assert point.unit_code is None
            assert point.default_key == f"province:{point.province_code}"


async def test_cam_tu_default_point_is_the_commune_hall(db_session: AsyncSession) -> None:
    point = await db_session.scalar(
        select(ConnectionPoint).where(ConnectionPoint.default_key == f"unit:{CAM_TU}")
    )
    assert point is not None
    assert point.name == "Hội trường UBND xã Cẩm Tú"
    assert point.unit_code == CAM_TU
    assert point.province_code == THANH_HOA
    assert point.is_active


async def test_dataset_records_package_version_and_counts(db_session: AsyncSession) -> None:
    dataset = await db_session.get(UnitDataset, SOURCE)
    assert dataset is not None
    assert dataset.package_version == vietnam_provinces.__version__
    assert dataset.province_count == PROVINCES
    assert dataset.unit_count == UNITS
    assert dataset.loaded_at is not None
    assert dataset.loaded_at.tzinfo is not None


# --- loading again -------------------------------------------------------------------------


async def test_second_load_changes_nothing(db_session: AsyncSession) -> None:
    before = await _snapshot(db_session)
    assert all(before[table] for table in SNAPSHOT_TABLES)

    report = await load_units(db_session)
    await db_session.commit()

    assert report.created == 0
    assert report.updated == 0
    assert report.points_created == 0
    assert report.provinces == PROVINCES
    assert report.units == UNITS
    assert report.package_version == vietnam_provinces.__version__
    db_session.expunge_all()
    assert await _snapshot(db_session) == before


async def test_reload_restores_a_renamed_unit(db_session: AsyncSession) -> None:
    # An older release called the unit something else; names are not keys, codes are.
    await db_session.execute(update(Unit).where(Unit.code == CAM_TU).values(name="Xã Cẩm Tú (cũ)"))
    await db_session.commit()
    db_session.expunge_all()

    report = await load_units(db_session)
    await db_session.commit()

    assert report.created == 0
    assert report.updated == 1
    assert report.points_created == 0
    db_session.expunge_all()
    unit = await db_session.get(Unit, CAM_TU)
    assert unit is not None
    assert unit.name == "Xã Cẩm Tú"
    assert await _count(db_session, Unit) == UNITS


async def test_load_one_province_into_an_empty_database(empty_session: AsyncSession) -> None:
    assert await _count(empty_session, Province) == 0

    report = await load_units(empty_session, province_code=THANH_HOA)
    await empty_session.commit()

    assert report.provinces == 1
    assert report.units == THANH_HOA_UNITS
    assert report.created == 1 + THANH_HOA_UNITS
    assert report.updated == 0
    assert report.points_created == 1 + THANH_HOA_UNITS
    assert list(await empty_session.scalars(select(Province.code))) == [THANH_HOA]
    assert await _count(empty_session, Unit) == THANH_HOA_UNITS
    assert await _count(empty_session, Unit, Unit.province_code != THANH_HOA) == 0
    assert await _count(empty_session, ConnectionPoint) == 1 + THANH_HOA_UNITS
    dataset = await empty_session.get(UnitDataset, SOURCE)
    assert dataset is not None
    assert (dataset.province_count, dataset.unit_count) == (1, THANH_HOA_UNITS)


async def test_unknown_province_code_is_invalid_input(empty_session: AsyncSession) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await load_units(empty_session, province_code=99)
    assert caught.value.field == "province"
    assert await _count(empty_session, Province) == 0


# --- the HTTP API ----------------------------------------------------------------------


def test_api_lists_the_units_of_a_province(client: TestClient[Litestar]) -> None:
    response = client.get("/api/v1/units", params={"province": THANH_HOA})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert body["total"] == THANH_HOA_UNITS
    assert body["offset"] == 0
    assert len(body["items"]) == min(body["limit"], THANH_HOA_UNITS)
    for item in body["items"]:
        assert set(item) == {"code", "name", "type", "province_code"}
        assert item["province_code"] == THANH_HOA
    codes = [item["code"] for item in body["items"]]
    assert codes == sorted(codes)


def test_api_shows_cam_tu(client: TestClient[Litestar]) -> None:
    response = client.get(
        "/api/v1/units", params={"province": THANH_HOA, "limit": 500, "offset": 0}
    )
    assert response.status_code == 200, response.text
    items = {item["code"]: item for item in response.json()["items"]}
    assert len(items) == THANH_HOA_UNITS
    assert items[CAM_TU] == {
        "code": CAM_TU,
        "name": "Xã Cẩm Tú",
        "type": "xã",
        "province_code": THANH_HOA,
    }


def test_api_paginates(client: TestClient[Litestar]) -> None:
    first = client.get("/api/v1/units", params={"province": THANH_HOA, "limit": 10})
    assert first.status_code == 200, first.text
    assert first.json()["limit"] == 10
    assert len(first.json()["items"]) == 10

    last = client.get("/api/v1/units", params={"province": THANH_HOA, "limit": 10, "offset": 160})
    assert last.status_code == 200, last.text
    body = last.json()
    assert (body["total"], body["limit"], body["offset"]) == (THANH_HOA_UNITS, 10, 160)
    assert len(body["items"]) == 6

    everything = client.get("/api/v1/units", params={"province": THANH_HOA, "limit": 500}).json()[
        "items"
    ]
    assert [i["code"] for i in body["items"]] == [i["code"] for i in everything[160:]]
    assert not {i["code"] for i in first.json()["items"]} & {i["code"] for i in body["items"]}


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "100000"},
        {"offset": "-1"},
        {"limit": "ten"},
        {"province": "abc"},
    ],
    ids=["limit-0", "limit-huge", "offset-negative", "limit-not-a-number", "province-not-a-number"],
)
def test_api_rejects_bad_paging_as_json_4xx(
    client: TestClient[Litestar], params: dict[str, str]
) -> None:
    response = client.get("/api/v1/units", params={"province": str(THANH_HOA), **params})
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert body["status_code"] == response.status_code
    assert isinstance(body["detail"], str)
    assert body["detail"]


@pytest.mark.parametrize("province", ["99", "0", "-1", "99999999999999999999"])
def test_api_unknown_province_is_400_naming_province(
    client: TestClient[Litestar], province: str
) -> None:
    response = client.get("/api/v1/units", params={"province": province})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status_code"] == 400
    assert "province" in body["detail"]


@pytest.mark.parametrize("offset", ["166", "1000", "10000000"])
def test_api_offset_past_the_end_is_an_empty_page(
    client: TestClient[Litestar], offset: str
) -> None:
    response = client.get("/api/v1/units", params={"province": THANH_HOA, "offset": offset})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["items"] == []
    assert body["total"] == THANH_HOA_UNITS
    assert body["offset"] == int(offset)


@pytest.mark.parametrize("offset", ["10000001", "9223372036854775807", "99999999999999999999"])
def test_api_offset_beyond_any_list_is_refused(client: TestClient[Litestar], offset: str) -> None:
    response = client.get("/api/v1/units", params={"province": THANH_HOA, "offset": offset})
    assert response.status_code == 400, response.text
    assert response.json()["status_code"] == 400
