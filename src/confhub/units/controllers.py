"""`/api/v1/units` and `/api/v1/provinces`: the official unit list (public data)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import Parameter

from confhub.core.ids import MAX_CODE
from confhub.core.pagination import Page, PageRequest, provide_page_request
from confhub.units.deps import provide_unit_service
from confhub.units.schemas import ProvinceRead, UnitRead
from confhub.units.services import UnitService


class UnitApiController(Controller):
    """Provinces and units by their official codes."""

    path = "/api/v1"
    tags = ["units"]
    dependencies = {
        "units": Provide(provide_unit_service),
        "page": Provide(provide_page_request, sync_to_thread=False),
    }

    @get("/units", summary="Units (communes, wards, special zones), optionally of one province")
    async def list_units(
        self,
        units: UnitService,
        page: PageRequest,
        province: int | None = Parameter(
            query="province",
            default=None,
            ge=1,
            le=MAX_CODE,
            description="Province code, e.g. 38 (Thanh Hóa)",
        ),
    ) -> Page[UnitRead]:
        """One page of units ordered by code."""
        return await units.list_page(page, province)

    @get("/provinces", summary="The 34 provinces")
    async def list_provinces(self, units: UnitService, page: PageRequest) -> Page[ProvinceRead]:
        """All provinces, in the list envelope."""
        provinces = await units.list_provinces()
        items = provinces[page.offset : page.offset + page.limit]
        return Page(items=items, total=len(provinces), limit=page.limit, offset=page.offset)
