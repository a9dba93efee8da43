"""What frames every public news page of a site: its name, governing body and contact, its
featured articles and its visitor counter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request
from sqlalchemy import select

from confhub.core.errors import NotFoundError
from confhub.core.i18n import N_
from confhub.core.text import is_digits
from confhub.db import DbSession
from confhub.news.articles import ArticleService
from confhub.news.deps import visit_counter
from confhub.news.models import Article
from confhub.news.sites import Site
from confhub.news.visits import local_day
from confhub.news.wording import lower_first
from confhub.points.models import ConnectionPoint
from confhub.settings import Settings
from confhub.units.models import Province, Unit


@dataclass(frozen=True)
class SitePortal:
    """A site as its pages present it."""

    site: Site
    name: str
    province_name: str
    governing_body: str
    address: str
    updated: datetime

    @property
    def is_unit(self) -> bool:
        """A unit's site (else the province's)."""
        return self.site.unit_code is not None

    @property
    def code(self) -> int:
        """The unit's code, or the province's: the code of the site's own calendar feed."""
        return self.site.unit_code if self.site.unit_code is not None else self.site.province_code


def _province_label(province: Province) -> str:
    return f"{province.division_type.capitalize()} {province.name}"


async def load_portal(session: DbSession, site: Site) -> SitePortal:
    """The site's names and contact, or 404 for an unknown province or unit."""
    province = await session.get(Province, site.province_code)
    if province is None:
        raise NotFoundError(N_("No province %(code)s"), code=site.province_code)
    province_label = _province_label(province)
    if site.unit_code is None:
        return SitePortal(
            site=site,
            name=province_label,
            province_name=province_label,
            governing_body=f"Ủy ban nhân dân {lower_first(province_label)}",
            address="",
            updated=province.updated_at,
        )
    unit = await session.get(Unit, site.unit_code)
    if unit is None:
        raise NotFoundError(N_("No unit %(code)s"), code=site.unit_code)
    point = await session.scalar(
        select(ConnectionPoint).where(ConnectionPoint.default_key == f"unit:{unit.code}")
    )
    place = (point.address or point.name) if point else unit.name
    return SitePortal(
        site=site,
        name=unit.name,
        province_name=province_label,
        governing_body=f"Đảng ủy – HĐND – UBND {lower_first(unit.name)}",
        address=f"{place}, {lower_first(province_label)}",
        updated=unit.updated_at,
    )


async def unit_site(session: DbSession, unit_code: int) -> Site:
    """The site of a unit, or 404."""
    unit = await session.get(Unit, unit_code)
    if unit is None:
        raise NotFoundError(N_("No unit %(code)s"), code=unit_code)
    return Site(unit.province_code, unit.code)


def province_of(request: Request[Any, Any, Any], settings: Settings) -> int:
    """`?province=CODE`, else the configured default province (404 without either)."""
    raw = request.query_params.get("province", "")
    if is_digits(raw.strip()) and len(raw.strip()) < 6:
        return int(raw.strip())
    if settings.default_province is None:
        raise NotFoundError(N_("Choose a province: /news?province=CODE"))
    return settings.default_province


async def frame(
    request: Request[Any, Any, Any],
    articles: ArticleService,
    portal: SitePortal,
    *,
    exclude: Article | None = None,
    count_visit: bool = True,
) -> dict[str, Any]:
    """The context every portal page shares: featured list and visitor counter (this page view
    counted first)."""
    settings: Settings = request.app.state.settings
    session = articles.session
    counter = visit_counter(request)
    day = local_day(datetime.now(UTC), settings.timezone)
    if count_visit:
        address = request.client.host if request.client else ""
        await counter.hit(
            session, portal.site.key, day, address, request.headers.get("user-agent", "")
        )
    featured = await articles.featured(portal.site, exclude=exclude.id if exclude else None)
    if not featured and exclude is not None:  # the site's only article: show it rather than none
        featured = await articles.featured(portal.site)
    return {
        "portal": portal,
        "featured": featured,
        "visits": await counter.stats(session, portal.site.key, day),
    }
