"""Articles: listing what a caller may read, editing and publishing (by the site's editors),
and what the public pages show beside an article (featured and related ones)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select

from confhub.accounts.principal import Principal
from confhub.attendance.schemas import MAX_PRESIDING_NAME, MAX_PRESIDING_POSITION
from confhub.core.errors import (
    AuthenticationRequiredError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from confhub.core.i18n import N_
from confhub.core.pagination import Page, PageRequest
from confhub.core.text import is_line
from confhub.db import DbSession
from confhub.news.markdown import MAX_MARKDOWN_LENGTH, in_render_thread, render_bounded
from confhub.news.models import Article, ArticleStatus
from confhub.news.review import AbsenceNote, absence_notes
from confhub.news.sites import Site, may_edit_article, visible_clause
from confhub.news.wording import point_paragraph
from confhub.units.models import Province, Unit

MAX_TITLE = 500
MAX_LEAD = 2_000
MAX_BODY = MAX_MARKDOWN_LENGTH


@dataclass(frozen=True)
class ArticleFilters:
    """What an article list may be narrowed by."""

    province_code: int | None = None
    unit_code: int | None = None
    meeting_id: int | None = None
    status: ArticleStatus | None = None
    province_only: bool = False

    def apply(self, query: Select[Any]) -> Select[Any]:
        """Add these filters to an article query."""
        if self.province_code is not None:
            query = query.where(Article.province_code == self.province_code)
        if self.unit_code is not None:
            query = query.where(Article.unit_code == self.unit_code)
        elif self.province_only:
            query = query.where(Article.unit_code.is_(None))
        if self.meeting_id is not None:
            query = query.where(Article.meeting_id == self.meeting_id)
        if self.status is not None:
            query = query.where(Article.status == self.status.value)
        return query


@dataclass(frozen=True)
class ArticleChanges:
    """An edit of an article: None leaves a field as it is."""

    title: str | None = None
    lead: str | None = None
    body: str | None = None
    featured: bool | None = None


@dataclass(frozen=True)
class PointStatement:
    """What a unit's article states of its point, as its editor gives it: who presided and how
    many delegates attended (required together; the position may stay empty)."""

    presiding_name: str | None = None
    presiding_position: str | None = None
    delegates_present: int | None = None

    @property
    def given(self) -> bool:
        """Whether any of it was given."""
        return any(
            value not in (None, "")
            for value in (self.presiding_name, self.presiding_position, self.delegates_present)
        )


def _text(field: str, value: str, limit: int, *, one_line: bool = False) -> str:
    text = " ".join(value.split()) if one_line else value.replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise InvalidInputError(field, N_("at most %(n)s characters"), n=limit)
    return text


def newest_first(query: Select[Any]) -> Select[Any]:
    """Published ones by publication time, newest first; drafts after them."""
    return query.order_by(
        Article.published_at.is_(None),
        Article.published_at.desc(),
        Article.id.desc(),
    )


class ArticleService:
    """Reads, edits and publishes articles."""

    def __init__(self, session: DbSession) -> None:
        self.session = session

    async def list_page(
        self, principal: Principal | None, filters: ArticleFilters, page: PageRequest
    ) -> Page[Article]:
        """Published articles, and the drafts the caller may edit, newest first."""
        query = filters.apply(select(Article).where(visible_clause(principal)))
        total = (
            await self.session.execute(select(func.count()).select_from(query.subquery()))
        ).scalar_one()
        rows = await self.session.scalars(newest_first(query).limit(page.limit).offset(page.offset))
        return Page(items=list(rows), total=total, limit=page.limit, offset=page.offset)

    async def get(self, article_id: int) -> Article:
        """One article, or 404."""
        article = await self.session.get(Article, article_id)
        if article is None:
            raise NotFoundError(N_("No article %(id)s"), id=article_id)
        return article

    async def get_visible(self, principal: Principal | None, article_id: int) -> Article:
        """A published article, or a draft its editors ask for (401/403 for the others)."""
        article = await self.get(article_id)
        if article.status != ArticleStatus.PUBLISHED.value:
            self._check_editor(principal, article)
        return article

    async def get_editable(self, principal: Principal | None, article_id: int) -> Article:
        """An article the caller edits: its site's editor or its province's secretariat."""
        article = await self.get(article_id)
        self._check_editor(principal, article)
        return article

    @staticmethod
    def _check_editor(principal: Principal | None, article: Article) -> None:
        if principal is None:
            raise AuthenticationRequiredError(N_("Sign in first"))
        if not may_edit_article(principal, article):
            raise PermissionDeniedError(N_("Only this site's editors may do this"))

    async def update(self, article: Article, actor: Principal, changes: ArticleChanges) -> Article:
        """Edit the text (a new body is rendered and its HTML stored); a published article
        shows it was updated, and when."""
        before = (article.title, article.lead, article.body)
        if changes.title is not None:
            title = _text("title", changes.title, MAX_TITLE, one_line=True)
            if not title:
                raise InvalidInputError("title", N_("must not be empty"))
            article.title = title
        if changes.lead is not None:
            article.lead = _text("lead", changes.lead, MAX_LEAD, one_line=True)
        if changes.body is not None:
            body = _text("body", changes.body, MAX_BODY)
            if body != article.body:
                html = await in_render_thread(render_bounded, body, "body")
                article.body, article.body_html = body, str(html)
        if changes.featured is not None:
            article.featured = changes.featured
        if (article.title, article.lead, article.body) != before:
            now = datetime.now(UTC)
            article.edited_at = now
            article.edited_by_label = actor.full_name or actor.email
            article.content_updated_at = now
            if article.status == ArticleStatus.PUBLISHED.value:
                article.revised_at = now
        await self.session.flush()
        return article

    async def state_point(
        self, article: Article, actor: Principal, statement: PointStatement
    ) -> Article:
        """Write into a unit's article who presided at its point and how many attended: its
        paragraph about the point is written from them (replacing the one written before, or
        put first), and a draft waiting for this confirmation may then be published."""
        if article.unit_code is None:
            raise InvalidInputError(
                "presiding_name", N_("only a unit's article names who presided at its point")
            )
        name = " ".join((statement.presiding_name or "").split())
        position = " ".join((statement.presiding_position or "").split())
        if not name:
            raise InvalidInputError("presiding_name", N_("say who presided at the point"))
        if len(name) > MAX_PRESIDING_NAME or len(position) > MAX_PRESIDING_POSITION:
            field = "presiding_name" if len(name) > MAX_PRESIDING_NAME else "presiding_position"
            raise InvalidInputError(field, N_("too long"))
        if statement.delegates_present is None:
            raise InvalidInputError("delegates_present", N_("say how many delegates attended"))
        unit = await self.session.get(Unit, article.unit_code)
        paragraph = point_paragraph(
            {
                "status": "present",
                "unit_name": unit.name if unit else str(article.unit_code),
                "name": "",
                "presiding_name": name,
                "presiding_position": position,
                "delegates_present": statement.delegates_present,
            }
        )
        body = article.body
        if article.point_paragraph and body.startswith(article.point_paragraph):
            body = body[len(article.point_paragraph) :]
        await self.update(article, actor, ArticleChanges(body=f"{paragraph}\n\n{body.lstrip()}"))
        article.presiding_name, article.presiding_position = name, position or None
        article.delegates_present = statement.delegates_present
        article.point_paragraph = paragraph
        article.needs_confirmation = False
        await self.session.flush()
        return article

    async def publish(self, article: Article, now: datetime | None = None) -> Article:
        """Publish a draft (publishing a published article changes nothing); 409 while it
        waits for its editor to say who presided at its point and how many attended."""
        if article.status == ArticleStatus.PUBLISHED.value:
            return article
        if article.needs_confirmation:
            raise ConflictError(
                N_(
                    "This draft waits for confirmation: its point never answered the roll "
                    "call. Say who presided there and how many delegates attended, then publish it"
                )
            )
        now = now or datetime.now(UTC)
        article.status = ArticleStatus.PUBLISHED.value
        if article.published_at is None:
            article.published_at = now
        else:
            article.revised_at = now
        article.content_updated_at = now
        await self.session.flush()
        return article

    # --- what the public pages show ---------------------------------------------------------

    async def published_page(self, site: Site, page: PageRequest) -> Page[Article]:
        """A site's published articles, newest first."""
        filters = ArticleFilters(
            province_code=site.province_code,
            unit_code=site.unit_code,
            province_only=site.unit_code is None,
            status=ArticleStatus.PUBLISHED,
        )
        return await self.list_page(None, filters, page)

    async def by_slug(self, site: Site, slug: str) -> Article:
        """A site's published article by its slug, or 404."""
        if not is_line(slug):  # no slug holds a control character, and PostgreSQL refuses NUL
            raise NotFoundError(N_("No such article"))
        article = await self.session.scalar(
            select(Article).where(
                Article.site == site.key,
                Article.slug == slug,
                Article.status == ArticleStatus.PUBLISHED.value,
            )
        )
        if article is None:
            raise NotFoundError(N_("No article %(id)s"), id=slug)
        return article

    async def featured(
        self, site: Site, limit: int = 5, exclude: int | None = None
    ) -> list[Article]:
        """ "Tin nổi bật": the site's featured articles first, then its latest."""
        query = select(Article).where(
            Article.site == site.key, Article.status == ArticleStatus.PUBLISHED.value
        )
        if exclude is not None:
            query = query.where(Article.id != exclude)
        rows = await self.session.scalars(
            query.order_by(
                Article.featured.desc(), Article.published_at.desc(), Article.id.desc()
            ).limit(limit)
        )
        return list(rows)

    async def related(self, article: Article, limit: int = 4) -> list[tuple[Article, str]]:
        """Other published articles about the same meeting, each with its site's name: the
        province's first."""
        if article.meeting_id is None:
            return []
        rows = await self.session.execute(
            select(Article, Unit.name, Province.division_type, Province.name)
            .join(Province, Province.code == Article.province_code)
            .outerjoin(Unit, Unit.code == Article.unit_code)
            .where(
                Article.meeting_id == article.meeting_id,
                Article.id != article.id,
                Article.status == ArticleStatus.PUBLISHED.value,
            )
            .order_by(Article.unit_code.is_not(None), Article.published_at.desc())
            .limit(limit)
        )
        return [
            (item, unit_name or f"{kind.capitalize()} {province_name}")
            for item, unit_name, kind, province_name in rows
        ]

    async def absences_of(self, unit_code: int) -> list[AbsenceNote]:
        """The meetings a unit's point missed whose minutes are published (it has no article
        about them): an internal note for its editors."""
        return await absence_notes(self.session, unit_code)

    async def drafts_of(self, site: Site) -> list[Article]:
        """A site's drafts (for its editors), newest first."""
        rows = await self.session.scalars(
            select(Article)
            .where(Article.site == site.key, Article.status == ArticleStatus.DRAFT.value)
            .order_by(Article.id.desc())
            .limit(50)
        )
        return list(rows)
