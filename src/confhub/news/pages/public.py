"""The public news pages, portal-style, without sign-in: `/news` and `/units/{code}/news` (list),
an article page, the Atom feeds and the photos. A site's editors also see its drafts listed."""

from __future__ import annotations

import hashlib
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import File, Template
from litestar.status_codes import HTTP_304_NOT_MODIFIED
from markupsafe import Markup

from confhub.accounts.guards import current_principal
from confhub.core.ids import Code
from confhub.core.pagination import PageRequest
from confhub.news import images
from confhub.news.articles import ArticleService
from confhub.news.atom import MEDIA_TYPE, AtomExporter, FeedInfo
from confhub.news.deps import provide_article_service
from confhub.news.portal import frame, load_portal, province_of, unit_site
from confhub.news.sites import Site, article_path, feed_path, may_edit
from confhub.settings import Settings

PAGE_SIZE = 10
FEED_SIZE = 30
MAX_PAGE = 10_000
PHOTO_CACHE = "public, max-age=31536000, immutable"


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _list_page(
    request: Request[Any, Any, Any], articles: ArticleService, site: Site, page: int
) -> Template:
    portal = await load_portal(articles.session, site)
    found = await articles.published_page(
        site, PageRequest(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    )
    context = await frame(request, articles, portal)
    principal = current_principal(request)
    editor = may_edit(principal, site.province_code, site.unit_code)
    default = _settings(request).default_province
    context.update(
        {
            "articles": found.items,
            "page": page,
            "pages": max(1, -(-found.total // PAGE_SIZE)),
            "total": found.total,
            "drafts": await articles.drafts_of(site) if editor else [],
            # Internal to the unit's editors: meetings its point missed (no article for them).
            "absences": (
                await articles.absences_of(site.unit_code)
                if editor and site.unit_code is not None
                else []
            ),
            "path_of": lambda article: article_path(article, default),
        }
    )
    return Template("news/list.html", context=context)


async def _article_page(
    request: Request[Any, Any, Any], articles: ArticleService, site: Site, slug: str
) -> Template:
    portal = await load_portal(articles.session, site)
    article = await articles.by_slug(site, slug)
    context = await frame(request, articles, portal, exclude=article)
    default = _settings(request).default_province
    context.update(
        {
            "article": article,
            # Rendered and sanitised when the body was written; never rendered on a view.
            "body_html": Markup(article.body_html),  # noqa: S704
            "related": await articles.related(article),
            "may_edit": may_edit(current_principal(request), site.province_code, site.unit_code),
            "path_of": lambda a: article_path(a, default),
            "canonical": _settings(request).base_url + article_path(article, default),
        }
    )
    return Template("news/article.html", context=context)


class NewsPagesController(Controller):
    """The province's and the units' public news pages."""

    include_in_schema = False
    dependencies = {"articles": Provide(provide_article_service)}

    @get("/news", name="news")
    async def province_news(
        self,
        request: Request[Any, Any, Any],
        articles: ArticleService,
        page: int = Parameter(query="page", default=1, ge=1, le=MAX_PAGE),
    ) -> Template:
        """The province's articles (`?province=CODE`, else the configured province)."""
        site = Site(province_of(request, _settings(request)))
        return await _list_page(request, articles, site, page)

    @get("/news/{slug:str}", name="news:article")
    async def province_article(
        self, request: Request[Any, Any, Any], articles: ArticleService, slug: str
    ) -> Template:
        """One of the province's articles."""
        site = Site(province_of(request, _settings(request)))
        return await _article_page(request, articles, site, slug)

    @get("/units/{unit_code:int}/news", name="news:unit")
    async def unit_news(
        self,
        request: Request[Any, Any, Any],
        articles: ArticleService,
        unit_code: Code,
        page: int = Parameter(query="page", default=1, ge=1, le=MAX_PAGE),
    ) -> Template:
        """One unit's news page, portal-style."""
        site = await unit_site(articles.session, unit_code)
        return await _list_page(request, articles, site, page)

    @get("/units/{unit_code:int}/news/{slug:str}", name="news:unit_article")
    async def unit_article(
        self,
        request: Request[Any, Any, Any],
        articles: ArticleService,
        unit_code: Code,
        slug: str,
    ) -> Template:
        """One of a unit's articles."""
        site = await unit_site(articles.session, unit_code)
        return await _article_page(request, articles, site, slug)

    @get("/news/photos/{name:str}", name="news:photo", media_type="image/jpeg")
    async def photo(self, request: Request[Any, Any, Any], name: str) -> File:
        """A re-encoded photo or thumbnail (never the uploaded original)."""
        return File(
            path=images.photo_path(_settings(request), name),
            media_type="image/jpeg",
            content_disposition_type="inline",
            headers={"Cache-Control": PHOTO_CACHE, "X-Content-Type-Options": "nosniff"},
        )


async def _feed(
    request: Request[Any, Any, Any], articles: ArticleService, site: Site
) -> Response[bytes]:
    settings = _settings(request)
    portal = await load_portal(articles.session, site)
    found = await articles.published_page(site, PageRequest(limit=FEED_SIZE, offset=0))
    base = settings.base_url
    info = FeedInfo(
        site_key=site.key,
        title=f"Tin tức – {portal.name}",
        subtitle=f"Tin bài của {portal.governing_body}",
        author=portal.governing_body,
        site_url=base + site.news_path,
        self_url=base + feed_path(site, settings.default_province),
        fallback_updated=portal.updated,
    )
    entries = [(a, base + article_path(a, settings.default_province)) for a in found.items]

    def build() -> bytes:
        return AtomExporter(info, base).build(entries)

    body = await anyio.to_thread.run_sync(build)
    etag = f'"{hash_of(body)}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type=f"{MEDIA_TYPE}; charset=utf-8", headers=headers)


def hash_of(body: bytes) -> str:
    """A short content hash for the ETag."""
    return hashlib.sha256(body).hexdigest()[:32]


class NewsFeedController(Controller):
    """The Atom feeds of the contract. Feed readers keep no cookies: no session, no sign-in."""

    include_in_schema = False
    opt = {"skip_session": True, "exclude_from_auth": True, "exclude_from_csrf": True}
    dependencies = {"articles": Provide(provide_article_service)}

    @get("/news/feed.atom", name="news:feed")
    async def province_feed(
        self, request: Request[Any, Any, Any], articles: ArticleService
    ) -> Response[bytes]:
        """The province's published articles."""
        return await _feed(request, articles, Site(province_of(request, _settings(request))))

    @get("/units/{unit_code:int}/news/feed.atom", name="news:unit_feed")
    async def unit_feed(
        self, request: Request[Any, Any, Any], articles: ArticleService, unit_code: Code
    ) -> Response[bytes]:
        """One unit's published articles."""
        return await _feed(request, articles, await unit_site(articles.session, unit_code))
