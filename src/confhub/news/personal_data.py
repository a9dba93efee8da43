"""What the news domain stores about a person (confhub.core.people): the minutes revisions they
wrote, the minutes and articles they last locked or edited, and every article, minutes,
revision and photo caption whose text mentions them.

Erasing pseudonymises the authors' and editors' labels. Published articles and minutes are the
province's publications and records: they are reported (an editor decides), never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from confhub.core.people import PLACEHOLDER, Findings, Mention, Person, PersonalData, mentions_in
from confhub.db import DbSession
from confhub.news.models import Article, ArticleStatus, Minutes, MinutesRevision, NewsPhoto
from confhub.news.sites import article_path


@dataclass
class NewsPart:
    """The news rows about the person."""

    minutes_revisions: list[MinutesRevision] = field(default_factory=list)
    labelled: list[Minutes | Article] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


class NewsData(PersonalData[NewsPart]):
    """Minutes revisions, editors' labels, and the texts of the news."""

    async def find(self, session: DbSession, person: Person, found: Findings) -> NewsPart:
        """What the person wrote or last edited, and the texts naming them."""
        part = NewsPart()
        matcher = person.matcher()
        revisions = list(
            await session.scalars(select(MinutesRevision).order_by(MinutesRevision.id))
        )
        part.minutes_revisions = [
            r
            for r in revisions
            if r.author_id in person.account_ids or r.author_label in person.labels
        ]
        minutes = list(await session.scalars(select(Minutes).order_by(Minutes.id)))
        articles = list(await session.scalars(select(Article).order_by(Article.id)))
        part.labelled = [m for m in minutes if m.locked_by_label in person.labels] + [
            a for a in articles if a.edited_by_label in person.labels
        ]
        by_id = {a.id: a for a in articles}
        for mention in mentions_in(matcher, "article", articles, ("title", "lead", "body")):
            article = by_id[mention.id]
            mention.published = article.status == ArticleStatus.PUBLISHED.value
            mention.title = article.title
            mention.url = article_path(article) if mention.published else None
            part.mentions.append(mention)
        part.mentions += mentions_in(matcher, "minutes", minutes, ("markdown", "header_markdown"))
        part.mentions += mentions_in(matcher, "minutes_revision", revisions, ("markdown",))
        photos = await session.scalars(select(NewsPhoto).order_by(NewsPhoto.id))
        part.mentions += mentions_in(matcher, "photo", photos, ("caption",))
        return part

    def export(self, part: NewsPart) -> dict[str, Any]:
        """Minutes revisions and editors' labels."""
        return {
            "minutes_revisions": [
                {
                    "id": r.id,
                    "minutes_id": r.minutes_id,
                    "number": r.number,
                    "author": r.author_label,
                }
                for r in part.minutes_revisions
            ],
            "labels": [
                {"kind": "minutes" if isinstance(x, Minutes) else "article", "id": x.id}
                for x in part.labelled
            ],
        }

    def counts(self, part: NewsPart) -> dict[str, int]:
        """Minutes revisions and editors' labels."""
        return {
            "minutes_revisions_pseudonymised": len(part.minutes_revisions),
            "labels_pseudonymised": len(part.labelled),
        }

    def mentions(self, part: NewsPart) -> list[Mention]:
        """Articles, minutes, revisions and photo captions naming the person."""
        return part.mentions

    async def erase(self, session: DbSession, part: NewsPart, found: Findings) -> None:
        """Authors' and editors' labels replaced by the placeholder."""
        for revision in part.minutes_revisions:
            revision.author_label = PLACEHOLDER
        for row in part.labelled:
            if isinstance(row, Minutes):
                row.locked_by_label = PLACEHOLDER
            else:
                row.edited_by_label = PLACEHOLDER
        account_ids = sorted(found.person.account_ids)
        if account_ids:
            # The foreign keys say SET NULL; done here too so no row keeps pointing at the person.
            for model, column in (
                (MinutesRevision, MinutesRevision.author_id),
                (NewsPhoto, NewsPhoto.uploaded_by_id),
            ):
                await session.execute(
                    update(model).where(column.in_(account_ids)).values({column.key: None})
                )
