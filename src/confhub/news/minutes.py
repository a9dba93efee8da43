"""The minutes of a meeting: revisions (who, when, what — nothing is overwritten), the header
written from the meeting and its roll call, locking once approved, and the photos."""

from __future__ import annotations

from collections.abc import AsyncIterable
from datetime import UTC, datetime

from sqlalchemy import func, select

from confhub.accounts.principal import Principal
from confhub.attendance import views
from confhub.core.errors import ConflictError, InvalidInputError, NotFoundError
from confhub.core.i18n import N_
from confhub.db import DbSession
from confhub.meetings.models import Meeting
from confhub.news import images
from confhub.news.markdown import MAX_MARKDOWN_LENGTH, in_render_thread, render_bounded
from confhub.news.models import Minutes, MinutesRevision, NewsPhoto
from confhub.news.wording import MeetingFacts, minutes_header
from confhub.points.models import ConnectionPoint
from confhub.settings import Settings
from confhub.units.models import Province

MAX_MINUTES_LENGTH = MAX_MARKDOWN_LENGTH
MAX_CAPTION_LENGTH = 500


def clean_caption(caption: str | None) -> str:
    """A caption on one line, within its length."""
    text = " ".join((caption or "").split())
    if len(text) > MAX_CAPTION_LENGTH:
        raise InvalidInputError("caption", N_("at most %(n)s characters"), n=MAX_CAPTION_LENGTH)
    return text


class MinutesService:
    """Reads and writes the minutes of meetings (the caller checks who may)."""

    def __init__(self, session: DbSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    async def find(self, meeting_id: int) -> Minutes | None:
        """The meeting's minutes, or None before the first save."""
        return await self.session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))

    async def get_or_new(self, meeting: Meeting) -> Minutes:
        """The meeting's minutes, created empty (revision 0) when there are none."""
        minutes = await self.find(meeting.id)
        if minutes is None:
            minutes = Minutes(meeting_id=meeting.id, revision=0, markdown="", markdown_html="")
            self.session.add(minutes)
            await self.session.flush()
        return minutes

    async def save(self, meeting: Meeting, actor: Principal, markdown: str) -> Minutes:
        """Store `markdown` as a new revision with its HTML; 409 once the minutes are locked,
        400 when the text is too long or has too much formatting to render."""
        minutes = await self.get_or_new(meeting)
        if minutes.locked_at is not None:
            raise ConflictError(N_("The minutes are locked (approved); they can no longer change"))
        html = await in_render_thread(render_bounded, markdown, "markdown")
        minutes.revision += 1
        minutes.markdown = markdown
        minutes.markdown_html = str(html)
        self.session.add(
            MinutesRevision(
                minutes_id=minutes.id,
                number=minutes.revision,
                markdown=markdown,
                author_id=actor.id,
                author_label=actor.full_name or actor.email,
            )
        )
        await self.session.flush()
        return minutes

    async def lock(self, meeting: Meeting, actor: Principal) -> Minutes:
        """Approve the minutes: no more revisions or photo changes; the header is frozen."""
        minutes = await self.get_or_new(meeting)
        if minutes.locked_at is not None:
            return minutes
        if minutes.revision == 0:
            raise ConflictError(N_("Write the minutes before locking them"))
        minutes.header_markdown = await self.header(meeting, None)
        minutes.locked_at = datetime.now(UTC)
        minutes.locked_by_label = actor.full_name or actor.email
        await self.session.flush()
        return minutes

    async def revisions(self, minutes: Minutes) -> list[MinutesRevision]:
        """Every revision, newest first."""
        rows = await self.session.scalars(
            select(MinutesRevision)
            .where(MinutesRevision.minutes_id == minutes.id)
            .order_by(MinutesRevision.number.desc())
        )
        return list(rows)

    async def revision(self, minutes: Minutes, number: int) -> MinutesRevision:
        """One revision; 404 when there is none with that number."""
        row = await self.session.scalar(
            select(MinutesRevision).where(
                MinutesRevision.minutes_id == minutes.id, MinutesRevision.number == number
            )
        )
        if row is None:
            raise NotFoundError(N_("No revision %(n)s of these minutes"), n=number)
        return row

    async def facts(self, meeting: Meeting) -> MeetingFacts:
        """The meeting, its place and its roll call, as the generated text needs them."""
        points = await views.points(self.session, meeting.id)
        province = await self.session.get(Province, meeting.province_code)
        host = (
            await self.session.get(ConnectionPoint, meeting.host_point_id)
            if meeting.host_point_id
            else None
        )
        return MeetingFacts(
            title=meeting.title,
            convening_body=meeting.convening_body,
            presiding_official=meeting.presiding_official,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            timezone=self.settings.timezone,
            province_name=province.name if province else str(meeting.province_code),
            host_point_name=host.name if host else None,
            points=points,
            totals=views.totals(points),
        )

    async def header(self, meeting: Meeting, minutes: Minutes | None) -> str:
        """The header: frozen when the minutes are locked, else written from the data now."""
        if minutes is not None and minutes.header_markdown is not None:
            return minutes.header_markdown
        return minutes_header(await self.facts(meeting))

    # --- photos -----------------------------------------------------------------------------

    async def photos(self, meeting_id: int) -> list[NewsPhoto]:
        """The meeting's photos in their order (removed ones left out)."""
        rows = await self.session.scalars(
            select(NewsPhoto)
            .where(NewsPhoto.meeting_id == meeting_id, NewsPhoto.removed_at.is_(None))
            .order_by(NewsPhoto.position, NewsPhoto.id)
        )
        return list(rows)

    async def _unlocked(self, meeting: Meeting) -> None:
        minutes = await self.find(meeting.id)
        if minutes is not None and minutes.locked_at is not None:
            raise ConflictError(
                N_("The minutes are locked (approved); their photos can no longer change")
            )

    async def add_photo(
        self,
        meeting: Meeting,
        actor: Principal,
        caption: str | None,
        chunks: AsyncIterable[bytes],
    ) -> NewsPhoto:
        """Receive, check and re-encode a photo, and attach it with its caption."""
        await self._unlocked(meeting)
        text = clean_caption(caption)
        stored = await images.store_image(self.settings, chunks)
        last = await self.session.scalar(
            select(func.max(NewsPhoto.position)).where(NewsPhoto.meeting_id == meeting.id)
        )
        photo = NewsPhoto(
            meeting_id=meeting.id,
            storage_key=stored.key,
            caption=text,
            width=stored.width,
            height=stored.height,
            size_bytes=stored.size_bytes,
            position=(last or 0) + 1,
            uploaded_by_id=actor.id,
        )
        self.session.add(photo)
        await self.session.flush()
        return photo

    async def photo(self, meeting: Meeting, photo_id: int) -> NewsPhoto:
        """One photo of the meeting; 404 when missing, removed or another meeting's."""
        photo = await self.session.scalar(
            select(NewsPhoto).where(
                NewsPhoto.id == photo_id,
                NewsPhoto.meeting_id == meeting.id,
                NewsPhoto.removed_at.is_(None),
            )
        )
        if photo is None:
            raise NotFoundError(
                N_("No photo %(photo)s in meeting %(meeting)s"), photo=photo_id, meeting=meeting.id
            )
        return photo

    async def set_caption(self, meeting: Meeting, photo_id: int, caption: str) -> NewsPhoto:
        """Change a photo's caption (published articles keep the caption they were given)."""
        await self._unlocked(meeting)
        photo = await self.photo(meeting, photo_id)
        photo.caption = clean_caption(caption)
        await self.session.flush()
        return photo

    async def remove_photo(self, meeting: Meeting, photo_id: int) -> None:
        """Take a photo out of the minutes; articles that show it keep showing it."""
        await self._unlocked(meeting)
        photo = await self.photo(meeting, photo_id)
        photo.removed_at = datetime.now(UTC)
        await self.session.flush()


def figures_of(photos: list[NewsPhoto]) -> list[dict[str, object]]:
    """The photos as an article keeps them: key, caption and size, fixed from now on."""
    return [
        {"key": p.storage_key, "caption": p.caption, "width": p.width, "height": p.height}
        for p in photos
    ]
