"""What the minutes and articles API takes and returns (msgspec structs: validated at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from confhub.attendance.schemas import MAX_DELEGATES, MAX_PRESIDING_NAME, MAX_PRESIDING_POSITION
from confhub.core.bodies import Body
from confhub.core.text import Line, Text
from confhub.news.markdown import MAX_MARKDOWN_LENGTH
from confhub.news.minutes import MAX_CAPTION_LENGTH, MAX_MINUTES_LENGTH

MinutesText = Annotated[str, Meta(max_length=MAX_MINUTES_LENGTH), Text]
Caption = Annotated[str, Meta(max_length=MAX_CAPTION_LENGTH), Line]


class MinutesWrite(Body):
    """The minutes' text (Markdown); each PUT is a new revision."""

    markdown: MinutesText


class PreviewWrite(Body):
    """Markdown to render as the public pages would."""

    markdown: MinutesText


class PreviewRead(msgspec.Struct):
    """The sanitised HTML of the Markdown sent, and the raw HTML tags it held (reduced to
    their text on every page; `!--` for a comment), for the editor's warning."""

    html: str
    raw_html: list[str]


class RevisionRead(msgspec.Struct):
    """One revision of the minutes (its text only when asked for by number)."""

    number: int
    author: str
    created_at: datetime
    length: int
    markdown: str | None = None


class PhotoRead(msgspec.Struct):
    """A photo of the minutes, re-encoded: its URLs, caption and size."""

    id: int
    caption: str
    url: str
    thumbnail_url: str
    width: int
    height: int


class CaptionWrite(Body):
    """A photo's new caption."""

    caption: Caption


class MinutesRead(msgspec.Struct):
    """The minutes of a meeting: header, text, state, revisions and photos."""

    meeting_id: int
    revision: int
    markdown: str
    header_markdown: str
    html: str
    locked: bool
    locked_at: datetime | None
    locked_by: str | None
    published_revision: int | None
    published_at: datetime | None
    revisions: list[RevisionRead]
    photos: list[PhotoRead]


class FigureRead(msgspec.Struct):
    """A photo as an article shows it."""

    url: str
    thumbnail_url: str
    caption: str
    width: int
    height: int


class ArticleRead(msgspec.Struct):
    """An article; `url` is its public page once published."""

    id: int
    site: str
    province_code: int
    unit_code: int | None
    meeting_id: int | None
    status: str
    # draft (ready to publish) | needs_confirmation (its point never answered) | published
    state: str
    title: str
    slug: str
    lead: str
    body: str
    html: str
    figures: list[FigureRead]
    featured: bool
    url: str | None
    published_at: datetime | None
    revised_at: datetime | None
    updated: datetime
    edited_at: datetime | None
    minutes_revision: int | None
    # Who signs it (a province article: the meeting's convening body); None: the site's body.
    byline: str | None = None
    # A unit article: its point's roll call when written, and what it states of the point.
    roll_call: str | None = None
    presiding_name: str | None = None
    presiding_position: str | None = None
    delegates_present: int | None = None


class ArticleUpdate(Body):
    """An edit of an article; fields left out are kept."""

    title: Annotated[str, Meta(min_length=1, max_length=500), Line] | UnsetType = UNSET
    lead: Annotated[str, Meta(max_length=2_000), Text] | UnsetType = UNSET
    body: Annotated[str, Meta(max_length=MAX_MARKDOWN_LENGTH), Text] | UnsetType = UNSET
    featured: bool | UnsetType = UNSET
    # A unit article's point: who presided and how many attended (required together when a
    # draft waits for confirmation); its paragraph about the point is written from them.
    presiding_name: (
        Annotated[str, Meta(min_length=1, max_length=MAX_PRESIDING_NAME), Line] | UnsetType
    ) = UNSET
    presiding_position: (
        Annotated[str, Meta(max_length=MAX_PRESIDING_POSITION), Line] | UnsetType
    ) = UNSET
    delegates_present: Annotated[int, Meta(ge=0, le=MAX_DELEGATES)] | UnsetType = UNSET


class PublishRead(msgspec.Struct):
    """What publishing the minutes did: the province's article and the unit drafts."""

    province_article: ArticleRead
    drafts_created: int
    drafts_regenerated: int
    articles_kept: int
    drafts_total: int
    # Drafts waiting for their editor's confirmation (points that never answered), units
    # without an article (points absent), untouched drafts removed as their point is now absent.
    drafts_waiting: int = 0
    absent_units: int = 0
    drafts_removed: int = 0


class PublishDraftsRead(msgspec.Struct):
    """How many unit drafts were published at once (only those ready), and what stays back."""

    published: int
    waiting: int = 0
    absent_units: int = 0
