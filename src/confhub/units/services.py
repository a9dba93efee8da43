"""Reading provinces and units."""

from __future__ import annotations

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.core.pagination import Page, PageRequest
from confhub.db.services import RepositoryService
from confhub.units.models import Province, Unit
from confhub.units.schemas import ProvinceRead, UnitRead

MAX_CODE = 2**31 - 1  # the largest value of the INTEGER code columns on PostgreSQL


class UnitRepository(SQLAlchemyAsyncRepository[Unit]):
    """Database access for units."""

    model_type = Unit


class UnitService(RepositoryService[Unit, UnitRepository]):
    """Lists units and answers questions about them."""

    repository_type = UnitRepository

    async def list_page(self, page: PageRequest, province_code: int | None) -> Page[UnitRead]:
        """One page of units, optionally of one province, ordered by code."""
        session = self.session
        query = select(Unit)
        count = select(func.count()).select_from(Unit)
        if province_code is not None:
            # Codes are small; a huge number would overflow the database's integer (a 500).
            in_range = 0 < province_code <= MAX_CODE
            if not in_range or await session.get(Province, province_code) is None:
                raise InvalidInputError(
                    "province", N_("There is no province with code %(code)s."), code=province_code
                )
            query = query.where(Unit.province_code == province_code)
            count = count.where(Unit.province_code == province_code)
        total = (await session.execute(count)).scalar_one()
        items: list[UnitRead] = []
        if page.offset < total:  # past the end there is nothing to fetch (and no OFFSET overflow)
            rows = await session.scalars(
                query.order_by(Unit.code).limit(page.limit).offset(page.offset)
            )
            items = [
                UnitRead(
                    code=u.code, name=u.name, type=u.division_type, province_code=u.province_code
                )
                for u in rows
            ]
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    async def list_provinces(self) -> list[ProvinceRead]:
        """All provinces, ordered by code."""
        rows = await self.session.scalars(select(Province).order_by(Province.code))
        return [ProvinceRead(code=p.code, name=p.name, type=p.division_type) for p in rows]
