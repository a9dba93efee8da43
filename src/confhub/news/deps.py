"""Dependency providers and API views of the news domain."""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.news.articles import ArticleService
from confhub.news.minutes import MinutesService
from confhub.news.models import Article, ArticleStatus, NewsPhoto
from confhub.news.review import article_state
from confhub.news.schemas import ArticleRead, FigureRead, PhotoRead
from confhub.news.sites import article_path
from confhub.news.visits import VisitCounter

VISIT_COUNTER_KEY = "news_visits"


async def provide_minutes_service(
    db_session: AsyncSession, request: Request[Any, Any, Any]
) -> MinutesService:
    """Dependency: the minutes service on the request's session."""
    return MinutesService(db_session, request.app.state.settings)


async def provide_article_service(db_session: AsyncSession) -> ArticleService:
    """Dependency: the article service on the request's session."""
    return ArticleService(db_session)


def visit_counter(request: Request[Any, Any, Any]) -> VisitCounter:
    """The app's one visitor counter (in memory, or Redis when configured)."""
    state = request.app.state
    counter = state.get(VISIT_COUNTER_KEY)
    if counter is None:
        counter = VisitCounter(state.get("redis"))
        state[VISIT_COUNTER_KEY] = counter
    assert isinstance(counter, VisitCounter)
    return counter


def photo_urls(key: str) -> tuple[str, str]:
    """A photo's page URL and its thumbnail's."""
    return f"/news/photos/{key}.jpg", f"/news/photos/{key}-thumb.jpg"


def photo_read(photo: NewsPhoto) -> PhotoRead:
    """The API view of a photo."""
    url, thumbnail = photo_urls(photo.storage_key)
    return PhotoRead(
        id=photo.id,
        caption=photo.caption,
        url=url,
        thumbnail_url=thumbnail,
        width=photo.width,
        height=photo.height,
    )


def article_read(article: Article, default_province: int | None) -> ArticleRead:
    """The API view of an article, with its body's stored HTML (as the public page shows)."""
    figures = []
    for figure in article.figures or []:
        url, thumbnail = photo_urls(str(figure["key"]))
        figures.append(
            FigureRead(
                url=url,
                thumbnail_url=thumbnail,
                caption=str(figure.get("caption") or ""),
                width=int(figure.get("width") or 0),
                height=int(figure.get("height") or 0),
            )
        )
    published = article.status == ArticleStatus.PUBLISHED.value
    return ArticleRead(
        id=article.id,
        site=article.site,
        province_code=article.province_code,
        unit_code=article.unit_code,
        meeting_id=article.meeting_id,
        status=article.status,
        state=article_state(article),
        title=article.title,
        slug=article.slug,
        lead=article.lead,
        body=article.body,
        html=article.body_html,
        figures=figures,
        featured=article.featured,
        url=article_path(article, default_province) if published else None,
        published_at=article.published_at,
        revised_at=article.revised_at,
        updated=article.content_updated_at,
        edited_at=article.edited_at,
        minutes_revision=article.minutes_revision,
        byline=article.byline,
        roll_call=article.roll_call,
        presiding_name=article.presiding_name,
        presiding_position=article.presiding_position,
        delegates_present=article.delegates_present,
    )
