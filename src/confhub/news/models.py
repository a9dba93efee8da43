"""The minutes of a meeting with their revisions and photos, the articles published from them,
and the daily visit counts of each news site (aggregates only: nothing that identifies a person).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from confhub.db.base import BigIntAuditBase, CodeKeyedBase, DateTimeUTC


class ArticleStatus(enum.StrEnum):
    """An article is a draft until its site's editor publishes it."""

    DRAFT = "draft"
    PUBLISHED = "published"


class Minutes(BigIntAuditBase):
    """The minutes (biên bản) of one meeting: its latest text; every save is a revision."""

    __tablename__ = "minutes"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), unique=True
    )
    # The number and text of the latest revision (0 and "" before the first save).
    revision: Mapped[int] = mapped_column(Integer, default=0)
    markdown: Mapped[str] = mapped_column(Text, default="")
    # The text's sanitised HTML, rendered when it was saved (pages never render Markdown).
    markdown_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Approved minutes are locked: no new revision, no photo change. The header (meeting facts and
    # roll call) is frozen at that moment; until then it is built from the data each time.
    locked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    locked_by_label: Mapped[str | None] = mapped_column(String(254))
    header_markdown: Mapped[str | None] = mapped_column(Text)
    published_revision: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class MinutesRevision(BigIntAuditBase):
    """One saved text of the minutes: who (`author_label`), when (`created_at`), what."""

    __tablename__ = "minutes_revision"
    __table_args__ = (UniqueConstraint("minutes_id", "number"),)

    minutes_id: Mapped[int] = mapped_column(
        ForeignKey("minutes.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    markdown: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author_label: Mapped[str] = mapped_column(String(254))


class NewsPhoto(BigIntAuditBase):
    """A photo of a meeting, re-encoded on upload; its files are `{storage_key}.jpg` and
    `{storage_key}-thumb.jpg` in the media folder (the uploaded original is never kept)."""

    __tablename__ = "news_photo"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(40), unique=True)
    caption: Mapped[str] = mapped_column(String(500), default="")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Removed from the minutes; the files stay, as published articles may still show them.
    removed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class Article(BigIntAuditBase):
    """A news item (tin bài) of one site: the province's (`unit_code` NULL) or a unit's.

    `figures` holds the photos as they were when the article was written ({key, caption, width,
    height}), so later changes to the minutes never change a published article silently.
    """

    __tablename__ = "article"
    __table_args__ = (UniqueConstraint("site", "slug"),)

    # The Atom entry id (urn:uuid:…), the same for the article's whole life.
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    # "province:38" or "unit:15148": the site whose pages and feed show it.
    site: Mapped[str] = mapped_column(String(24), index=True)
    province_code: Mapped[int] = mapped_column(ForeignKey("province.code"), index=True)
    unit_code: Mapped[int | None] = mapped_column(ForeignKey("unit.code"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default=ArticleStatus.DRAFT.value, index=True)
    title: Mapped[str] = mapped_column(String(500))
    slug: Mapped[str] = mapped_column(String(120))
    lead: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # The body's sanitised HTML, rendered whenever the body is written; what readers are shown.
    body_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    figures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    # The convening body that signs a province article (its byline and source); None: the site's.
    byline: Mapped[str | None] = mapped_column(String(300))
    # A unit article's point in the roll call when it was written (present / pending), and
    # whether it waits for its editor to say who presided and how many attended (a point that
    # never answered): such a draft cannot be published until then.
    roll_call: Mapped[str | None] = mapped_column(String(10))
    needs_confirmation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Who presided at the point and how many attended, as the article states them, and the
    # paragraph written from them (replaced, not added to, when they are corrected).
    presiding_name: Mapped[str | None] = mapped_column(String(200))
    presiding_position: Mapped[str | None] = mapped_column(String(300))
    delegates_present: Mapped[int | None] = mapped_column(Integer)
    point_paragraph: Mapped[str | None] = mapped_column(Text)
    # The minutes revision the text was generated from; `edited_at` once a person changed it.
    minutes_revision: Mapped[int | None] = mapped_column(Integer)
    edited_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    edited_by_label: Mapped[str | None] = mapped_column(String(254))
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), index=True)
    # Set when a published article's content changes ("Cập nhật lúc …" on the page).
    revised_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Any change of what readers see (the Atom `updated`); `updated_at` also moves for other
    # reasons, so it is not used for that.
    content_updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class SiteVisitDay(CodeKeyedBase):
    """Page views and distinct visitors of one news site on one local day (counts only)."""

    __tablename__ = "site_visit_day"

    site: Mapped[str] = mapped_column(String(24), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    visitors: Mapped[int] = mapped_column(Integer, default=0)
