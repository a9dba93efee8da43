"""Publishing the minutes: the province's article, and one draft per invited unit written from
the record — headline, a lead dated the Vietnamese way, the paragraph about the unit's own point,
the shared body and the photos.

Republishing updates the province's article (it then shows "updated") and regenerates only the
unit drafts nobody has touched: a draft its editor changed, and every published unit article, are
kept as they are (they are marked as written from an older revision of the minutes).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from confhub.core.errors import ConflictError
from confhub.core.i18n import N_
from confhub.core.messages import status_word
from confhub.db import DbSession
from confhub.meetings.models import Meeting, MeetingStatus
from confhub.news.markdown import in_render_thread, render_bounded, render_markdown
from confhub.news.minutes import MinutesService, figures_of
from confhub.news.models import Article, ArticleStatus, Minutes
from confhub.news.sites import Site
from confhub.news.slugs import slugify, unique_slug
from confhub.news.wording import MeetingFacts, lead, point_paragraph, presiding_sentence
from confhub.news.wording import province_paragraph as province_summary

PUBLISHABLE = frozenset({MeetingStatus.LIVE.value, MeetingStatus.ENDED.value})


@dataclass(frozen=True)
class PublishOutcome:
    """What publishing did."""

    province_article: Article
    created: int
    regenerated: int
    kept: int

    @property
    def drafts_total(self) -> int:
        """Unit articles of the meeting, whatever happened to them now."""
        return self.created + self.regenerated + self.kept


@dataclass(frozen=True)
class ArticleText:
    """What is generated for one site: its own paragraphs, then the text of the minutes."""

    title: str
    lead: str
    own: str
    shared: str
    html: str = ""  # the body's, once rendered

    @property
    def body(self) -> str:
        """The article's Markdown."""
        return _join(self.own, self.shared)


def _join(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def province_text(facts: MeetingFacts, shared: str) -> ArticleText:
    """The province's article."""
    return ArticleText(facts.title, lead(facts), province_summary(facts), shared)


def unit_text(facts: MeetingFacts, point: dict[str, Any], shared: str) -> ArticleText:
    """A unit's draft: the same headline and lead, then its own point, then the shared body."""
    own = _join(point_paragraph(point), presiding_sentence(facts))
    return ArticleText(facts.title, lead(facts), own, shared)


def site_texts(meeting: Meeting, facts: MeetingFacts, shared: str) -> dict[Site, ArticleText]:
    """The text of every site the minutes are published on: the province's first, then one per
    invited unit (a unit with several invited points gets one article)."""
    texts = {Site(meeting.province_code): province_text(facts, shared)}
    for point in facts.unit_points:
        site = Site(meeting.province_code, point["unit_code"])
        if site not in texts:
            texts[site] = unit_text(facts, point, shared)
    return texts


def render_bodies(texts: dict[Site, ArticleText]) -> dict[Site, ArticleText]:
    """Every text with its body's HTML. The minutes' text, the same in every article, is
    rendered once (within the bounds of a save); blocks never reach across the blank line that
    separates it from a site's own paragraphs, so the halves render as the whole body does."""
    shared: dict[str, str] = {}
    rendered = {}
    for site, text in texts.items():
        common = shared.get(text.shared)
        if common is None:
            common = shared[text.shared] = str(render_bounded(text.shared.strip(), "markdown"))
        rendered[site] = replace(text, html=str(render_markdown(text.own.strip())) + common)
    return rendered


def _apply(article: Article, text: ArticleText, figures: list[Any], revision: int) -> bool:
    """Write generated text into an article; whether what readers see changed."""
    changed = (article.title, article.lead, article.body, article.figures) != (
        text.title,
        text.lead,
        text.body,
        figures,
    )
    article.title, article.lead, article.body = text.title, text.lead, text.body
    article.body_html = text.html
    article.figures = figures
    article.minutes_revision = revision
    return changed


async def _taken_slugs(session: DbSession, base: str) -> dict[str, set[str]]:
    rows = await session.execute(
        select(Article.site, Article.slug).where(Article.slug.like(f"{base}%"))
    )
    taken: dict[str, set[str]] = {}
    for site, slug in rows:
        taken.setdefault(site, set()).add(slug)
    return taken


class Publisher:
    """Turns a meeting's minutes into articles."""

    def __init__(self, minutes_service: MinutesService) -> None:
        self.minutes = minutes_service
        self.session = minutes_service.session

    async def publish(self, meeting: Meeting, now: datetime | None = None) -> PublishOutcome:
        """Publish (or republish) the minutes of `meeting`."""
        now = now or datetime.now(UTC)
        if meeting.status not in PUBLISHABLE:
            raise ConflictError(
                N_("The meeting is %(status)s; publish its minutes once held"),
                status=status_word(meeting.status),
            )
        minutes = await self.minutes.find(meeting.id)
        if minutes is None or minutes.revision == 0:
            raise ConflictError(N_("Write the minutes before publishing them"))
        facts = await self.minutes.facts(meeting)
        figures = figures_of(await self.minutes.photos(meeting.id))
        existing = {
            article.site: article
            for article in await self.session.scalars(
                select(Article).where(Article.meeting_id == meeting.id)
            )
        }
        taken = await _taken_slugs(self.session, slugify(facts.title))
        new = _NewArticles(meeting, minutes, figures, taken, now)

        texts = await in_render_thread(render_bodies, site_texts(meeting, facts, minutes.markdown))
        province_site, *unit_sites = texts
        province = existing.get(province_site.key)
        if province is None:
            province = new.make(province_site, texts[province_site], ArticleStatus.PUBLISHED)
        elif _apply(province, texts[province_site], figures, minutes.revision) or (
            province.status != ArticleStatus.PUBLISHED.value
        ):
            province.status = ArticleStatus.PUBLISHED.value
            province.published_at = province.published_at or now
            province.revised_at = now
            province.content_updated_at = now

        created = regenerated = kept = 0
        for unit_site in unit_sites:
            draft, text = existing.get(unit_site.key), texts[unit_site]
            if draft is None:
                new.make(unit_site, text, ArticleStatus.DRAFT)
                created += 1
            elif draft.status == ArticleStatus.DRAFT.value and draft.edited_at is None:
                if _apply(draft, text, figures, minutes.revision):
                    draft.content_updated_at = now
                regenerated += 1
            else:
                kept += 1
        self.session.add_all(new.articles)
        minutes.published_revision = minutes.revision
        minutes.published_at = now
        await self.session.flush()
        return PublishOutcome(province, created, regenerated, kept)

    async def publish_drafts(self, meeting: Meeting, now: datetime | None = None) -> int:
        """Publish every unit draft of the meeting at once; how many were published."""
        now = now or datetime.now(UTC)
        result = await self.session.execute(
            update(Article)
            .where(
                Article.meeting_id == meeting.id,
                Article.status == ArticleStatus.DRAFT.value,
                Article.unit_code.is_not(None),
            )
            .values(
                status=ArticleStatus.PUBLISHED.value,
                published_at=now,
                content_updated_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session="fetch")
        )
        await self.session.flush()
        return int(getattr(result, "rowcount", 0) or 0)


class _NewArticles:
    """Builds the articles created by one publication (slugs unique per site)."""

    def __init__(
        self,
        meeting: Meeting,
        minutes: Minutes,
        figures: list[Any],
        taken: dict[str, set[str]],
        now: datetime,
    ) -> None:
        self.meeting, self.minutes, self.figures = meeting, minutes, figures
        self.taken, self.now = taken, now
        self.articles: list[Article] = []

    def make(self, site: Site, text: ArticleText, status: ArticleStatus) -> Article:
        slugs = self.taken.setdefault(site.key, set())
        slug = unique_slug(slugify(text.title), slugs)
        slugs.add(slug)
        published = status is ArticleStatus.PUBLISHED
        article = Article(
            uuid=str(uuid.uuid4()),
            site=site.key,
            province_code=site.province_code,
            unit_code=site.unit_code,
            meeting_id=self.meeting.id,
            status=status.value,
            title=text.title,
            slug=slug,
            lead=text.lead,
            body=text.body,
            body_html=text.html,
            figures=list(self.figures),
            featured=False,
            minutes_revision=self.minutes.revision,
            published_at=self.now if published else None,
            content_updated_at=self.now,
        )
        self.articles.append(article)
        return article
