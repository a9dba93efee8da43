"""Publishing the minutes: the province's article, signed by the meeting's convening body, and
one draft per invited unit written from the record — headline, a lead dated the Vietnamese way,
the paragraph about the unit's own point, the shared body and the photos.

The unit drafts follow the roll call, and say only what it shows: a unit whose point was present
gets a draft ready to publish, naming who actually presided there (as its chair confirmed or
corrected it at check-in); a unit whose points were all absent gets no article at all (its
editor is told so, see :mod:`confhub.news.review`); a unit whose point never answered gets a
draft that claims nothing about the point and waits for its editor to say who presided and how
many attended (`needs_confirmation`: it cannot be published until then).

Republishing updates the province's article (it then shows "updated") and regenerates only the
unit drafts nobody has touched (an untouched draft of a unit now absent is removed): a draft its
editor changed, and every published unit article, are kept as they are (they are marked as
written from an older revision of the minutes).

Each new unit draft's editors are told by e-mail, once (confhub.news.editor_notices).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from confhub.core.errors import ConflictError
from confhub.core.i18n import N_
from confhub.core.messages import status_word
from confhub.db import DbSession
from confhub.meetings.models import Meeting, MeetingStatus
from confhub.news.editor_notices import NewDraft, tell_editors
from confhub.news.editor_notices import withdraw as withdraw_notice
from confhub.news.markdown import in_render_thread, render_bounded, render_markdown
from confhub.news.minutes import MinutesService, figures_of
from confhub.news.models import Article, ArticleStatus, Minutes
from confhub.news.review import ready_clause
from confhub.news.sites import Site
from confhub.news.slugs import slugify, unique_slug
from confhub.news.wording import (
    MeetingFacts,
    lead,
    point_paragraph,
    presiding_person,
    presiding_sentence,
)
from confhub.news.wording import province_paragraph as province_summary

PUBLISHABLE = frozenset({MeetingStatus.LIVE.value, MeetingStatus.ENDED.value})


@dataclass(frozen=True)
class PublishOutcome:
    """What publishing did."""

    province_article: Article
    created: int
    regenerated: int
    kept: int
    removed: int = 0  # untouched drafts of units now absent
    waiting: int = 0  # drafts of units whose point never answered (needs confirmation)
    absent: int = 0  # units whose points were all absent: no article

    @property
    def drafts_total(self) -> int:
        """Unit articles of the meeting, whatever happened to them now."""
        return self.created + self.regenerated + self.kept


@dataclass(frozen=True)
class ArticleText:
    """What is generated for one site: the paragraph about its own point (a unit's, when the
    roll call tells something), its other paragraphs, then the text of the minutes."""

    title: str
    lead: str
    own: str
    shared: str
    html: str = ""  # the body's, once rendered
    point: str = ""

    @property
    def body(self) -> str:
        """The article's Markdown."""
        return _join(self.point, self.own, self.shared)


@dataclass(frozen=True)
class UnitRollCall:
    """What a unit's draft may say of its point: its roll call (`present`, `pending` or
    `absent`), and when present who presided and how many attended."""

    status: str
    presiding_name: str | None = None
    presiding_position: str | None = None
    delegates_present: int | None = None
    paragraph: str = ""


def _join(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def province_text(facts: MeetingFacts, shared: str) -> ArticleText:
    """The province's article."""
    return ArticleText(facts.title, lead(facts), province_summary(facts), shared)


def unit_roll_call(points: list[dict[str, Any]]) -> UnitRollCall:
    """A unit's roll call from its invited points: present when any was, else pending when any
    never answered, else absent."""
    present = [p for p in points if p["status"] == "present"]
    if present:
        name, position = presiding_person(present[0])
        delegates = [p["delegates_present"] for p in present if p["delegates_present"] is not None]
        return UnitRollCall(
            status="present",
            presiding_name=name or None,
            presiding_position=position or None,
            delegates_present=sum(delegates) if delegates else None,
            paragraph=_join(*(point_paragraph(p) for p in present)),
        )
    if any(p["status"] == "pending" for p in points):
        return UnitRollCall(status="pending")
    return UnitRollCall(status="absent")


def unit_text(facts: MeetingFacts, roll_call: UnitRollCall, shared: str) -> ArticleText:
    """A unit's draft: the same headline and lead, then its own point (only what the roll call
    shows), then the shared body."""
    return ArticleText(
        facts.title, lead(facts), presiding_sentence(facts), shared, point=roll_call.paragraph
    )


def unit_roll_calls(meeting: Meeting, facts: MeetingFacts) -> dict[Site, UnitRollCall]:
    """Every invited unit's roll call (a unit with several invited points gets one article)."""
    by_site: dict[Site, list[dict[str, Any]]] = {}
    for point in facts.unit_points:
        by_site.setdefault(Site(meeting.province_code, point["unit_code"]), []).append(point)
    return {site: unit_roll_call(points) for site, points in by_site.items()}


def site_texts(
    meeting: Meeting, facts: MeetingFacts, roll_calls: dict[Site, UnitRollCall], shared: str
) -> dict[Site, ArticleText]:
    """The text of every site the minutes are published on: the province's first, then one per
    invited unit whose point was not absent."""
    texts = {Site(meeting.province_code): province_text(facts, shared)}
    for site, roll_call in roll_calls.items():
        if roll_call.status != "absent":
            texts[site] = unit_text(facts, roll_call, shared)
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
        own = _join(text.point, text.own)
        rendered[site] = replace(text, html=str(render_markdown(own)) + common)
    return rendered


def _follow(article: Article, roll_call: UnitRollCall) -> None:
    """What a unit's draft states of its point, and whether it waits for confirmation."""
    article.roll_call = roll_call.status
    article.needs_confirmation = roll_call.status == "pending"
    article.presiding_name = roll_call.presiding_name
    article.presiding_position = roll_call.presiding_position
    article.delegates_present = roll_call.delegates_present
    article.point_paragraph = roll_call.paragraph or None


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

        roll_calls = unit_roll_calls(meeting, facts)
        texts = await in_render_thread(
            render_bodies, site_texts(meeting, facts, roll_calls, minutes.markdown)
        )
        province_site = Site(meeting.province_code)
        byline = meeting.convening_body.strip() or None
        province = existing.get(province_site.key)
        if province is None:
            province = new.make(province_site, texts[province_site], ArticleStatus.PUBLISHED)
            province.byline = byline
        elif (
            _apply(province, texts[province_site], figures, minutes.revision)
            or province.status != ArticleStatus.PUBLISHED.value
            or province.byline != byline
        ):
            province.byline = byline
            province.status = ArticleStatus.PUBLISHED.value
            province.published_at = province.published_at or now
            province.revised_at = now
            province.content_updated_at = now

        tally = dict.fromkeys(("created", "regenerated", "kept", "removed", "none"), 0)
        for unit_site, roll_call in roll_calls.items():
            done = await self._unit(existing.get(unit_site.key), unit_site, roll_call, texts, new)
            tally[done] += 1
        self.session.add_all(new.articles)
        minutes.published_revision = minutes.revision
        minutes.published_at = now
        await self.session.flush()
        await tell_editors(self.session, meeting, _new_drafts(new.articles, facts))
        statuses = [roll_call.status for roll_call in roll_calls.values()]
        del tally["none"]  # an absent unit without any article: nothing to count but `absent`
        return PublishOutcome(
            province,
            **tally,
            waiting=statuses.count("pending"),
            absent=statuses.count("absent"),
        )

    async def _unit(
        self,
        draft: Article | None,
        site: Site,
        roll_call: UnitRollCall,
        texts: dict[Site, ArticleText],
        new: _NewArticles,
    ) -> str:
        """Write, rewrite, remove or keep one unit's article; what was done."""
        untouched = (
            draft is not None
            and draft.status == ArticleStatus.DRAFT.value
            and draft.edited_at is None
        )
        if roll_call.status == "absent":
            if draft is not None and untouched:
                await withdraw_notice(self.session, draft.id)
                await self.session.delete(draft)  # never public: nothing to keep
                return "removed"
            if draft is not None and draft.status == ArticleStatus.DRAFT.value:
                draft.roll_call = roll_call.status  # an editor's text: kept, never bulk-published
            return "kept" if draft is not None else "none"
        text = texts[site]
        if draft is None:
            _follow(new.make(site, text, ArticleStatus.DRAFT), roll_call)
            return "created"
        if untouched:
            if _apply(draft, text, new.figures, new.minutes.revision):
                draft.content_updated_at = new.now
            _follow(draft, roll_call)
            return "regenerated"
        return "kept"

    async def publish_drafts(
        self, meeting: Meeting, expected: int | None = None, now: datetime | None = None
    ) -> int:
        """Publish every unit draft of the meeting that is ready (see
        :func:`confhub.news.review.ready_clause`); how many were published. `expected`: the
        number the confirmation promised; a different number now is a 409 and nothing changes.
        """
        now = now or datetime.now(UTC)
        drafts = list(
            await self.session.scalars(
                select(Article).where(Article.meeting_id == meeting.id, ready_clause())
            )
        )
        if expected is not None and expected != len(drafts):
            raise ConflictError(
                N_(
                    "The drafts changed since the confirmation was shown: %(ready)s are ready "
                    "now, not %(expected)s. Check them and publish again"
                ),
                ready=len(drafts),
                expected=expected,
            )
        for draft in drafts:
            draft.status = ArticleStatus.PUBLISHED.value
            draft.published_at = now
            draft.content_updated_at = now
        await self.session.flush()
        return len(drafts)


def _new_drafts(articles: list[Article], facts: MeetingFacts) -> list[NewDraft]:
    """The unit drafts among a publication's new articles, each with its unit's first invited
    point and name (what its editors' notice tells of)."""
    first: dict[int, dict[str, Any]] = {}
    for point in sorted(facts.unit_points, key=lambda p: p["point_id"]):
        first.setdefault(point["unit_code"], point)
    drafts = []
    for article in articles:
        unit_point = first.get(article.unit_code or -1)
        if article.status == ArticleStatus.DRAFT.value and unit_point is not None:
            name = unit_point.get("unit_name") or unit_point["name"]
            drafts.append(NewDraft(article, unit_point["point_id"], name))
    return drafts


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
