"""`/api/v1/meetings/{id}/minutes…` (the secretariat's) and `/api/v1/articles` (published ones
for everyone, drafts for their editors); the preview is in :mod:`confhub.news.preview`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET

from confhub.accounts.guards import (
    provide_principal,
    provide_required_principal,
    requires_login,
)
from confhub.accounts.principal import Principal
from confhub.core.ids import MAX_CODE, MAX_ID, Id, Number
from confhub.core.pagination import Page, PageRequest, provide_page_request
from confhub.meetings.controllers.documents import upload_chunks
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.models import Meeting
from confhub.meetings.services import MeetingService
from confhub.news.articles import (
    ArticleChanges,
    ArticleFilters,
    ArticleService,
    PointStatement,
)
from confhub.news.deps import (
    article_read,
    photo_read,
    provide_article_service,
    provide_minutes_service,
)
from confhub.news.documents import minutes_file
from confhub.news.markdown import in_render_thread, render_or_plain
from confhub.news.minutes import MinutesService
from confhub.news.models import ArticleStatus
from confhub.news.publishing import Publisher
from confhub.news.review import review_queue
from confhub.news.schemas import (
    ArticleRead,
    ArticleUpdate,
    Caption,
    CaptionWrite,
    MinutesRead,
    MinutesWrite,
    PhotoRead,
    PublishDraftsRead,
    PublishRead,
    RevisionRead,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"


@dataclass
class PhotoUpload:
    """A photo and its caption, as a multipart form."""

    data: UploadFile
    caption: Caption = ""


def _default_province(request: Request[Any, Any, Any]) -> int | None:
    value: int | None = request.app.state.settings.default_province
    return value


async def minutes_read(minutes_service: MinutesService, meeting: Meeting) -> MinutesRead:
    """The minutes as the API shows them: the header (written from the meeting until the minutes
    are locked) rendered now, off the event loop; the text's HTML as it was stored."""
    minutes = await minutes_service.get_or_new(meeting)
    header = await minutes_service.header(meeting, minutes)
    header_html = await in_render_thread(render_or_plain, header)
    revisions = await minutes_service.revisions(minutes)
    photos = await minutes_service.photos(meeting.id)
    return MinutesRead(
        meeting_id=meeting.id,
        revision=minutes.revision,
        markdown=minutes.markdown,
        header_markdown=header,
        html=str(header_html) + minutes.markdown_html,
        locked=minutes.locked_at is not None,
        locked_at=minutes.locked_at,
        locked_by=minutes.locked_by_label,
        published_revision=minutes.published_revision,
        published_at=minutes.published_at,
        revisions=[
            RevisionRead(
                number=r.number,
                author=r.author_label,
                created_at=r.created_at,
                length=len(r.markdown),
            )
            for r in revisions
        ],
        photos=[photo_read(p) for p in photos],
    )


class MinutesApiController(Controller):
    """The minutes of a meeting: the province's secretariat writes, locks and publishes them."""

    path = "/api/v1/meetings/{meeting_id:int}"
    tags = ["minutes"]
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "minutes_service": Provide(provide_minutes_service),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    @get("/minutes", summary="The minutes with their revisions and photos")
    async def get_minutes(
        self,
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
    ) -> MinutesRead:
        """The header is written from the meeting and its roll call until the minutes are locked."""
        meeting = await meetings.get_managed(principal, meeting_id)
        return await minutes_read(minutes_service, meeting)

    @put("/minutes", status_code=HTTP_200_OK, summary="Save the minutes (a new revision)")
    async def put_minutes(
        self,
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
        data: MinutesWrite,
    ) -> MinutesRead:
        """Every save is kept as a revision (author, time, text); 409 once locked."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await minutes_service.save(meeting, principal, data.markdown)
        return await minutes_read(minutes_service, meeting)

    # One path per format: Litestar's path parameters are whole segments.
    @get("/minutes.docx", summary="The minutes as an official document (DOCX)", media_type=DOCX)
    async def minutes_docx(
        self,
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
    ) -> Response[bytes]:
        """The biên bản in the form of Decree 30/2020/NĐ-CP, for Word; 404 while the meeting has
        no minutes; 503 with `Retry-After` while the process renders too many documents."""
        meeting = await meetings.get_managed(principal, meeting_id)
        return await minutes_file(minutes_service, meeting, "docx")

    @get("/minutes.pdf", summary="The minutes as an official document (PDF)", media_type=PDF)
    async def minutes_pdf(
        self,
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
    ) -> Response[bytes]:
        """The same document as a PDF with its fonts embedded."""
        meeting = await meetings.get_managed(principal, meeting_id)
        return await minutes_file(minutes_service, meeting, "pdf")

    @get("/minutes/revisions/{number:int}", summary="One revision of the minutes")
    async def get_revision(
        self,
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
        number: Number,
    ) -> RevisionRead:
        """The text of one revision, with its author and time."""
        meeting = await meetings.get_managed(principal, meeting_id)
        revision = await minutes_service.revision(await minutes_service.get_or_new(meeting), number)
        return RevisionRead(
            number=revision.number,
            author=revision.author_label,
            created_at=revision.created_at,
            length=len(revision.markdown),
            markdown=revision.markdown,
        )

    @post("/minutes/lock", status_code=HTTP_200_OK, summary="Lock the approved minutes")
    async def lock_minutes(
        self,
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
    ) -> MinutesRead:
        """No new revision or photo change after this; the header is frozen."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await minutes_service.lock(meeting, principal)
        return await minutes_read(minutes_service, meeting)

    @post("/minutes/publish", status_code=HTTP_200_OK, summary="Publish the minutes as articles")
    async def publish_minutes(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
    ) -> PublishRead:
        """The province's article (updated on republishing) and one draft per invited unit;
        republishing regenerates only drafts nobody has edited, never a published unit article."""
        meeting = await meetings.get_managed(principal, meeting_id)
        outcome = await Publisher(minutes_service).publish(meeting)
        return PublishRead(
            province_article=article_read(outcome.province_article, _default_province(request)),
            drafts_created=outcome.created,
            drafts_regenerated=outcome.regenerated,
            articles_kept=outcome.kept,
            drafts_total=outcome.drafts_total,
            drafts_waiting=outcome.waiting,
            absent_units=outcome.absent,
            drafts_removed=outcome.removed,
        )

    @post(
        "/articles/publish-drafts",
        status_code=HTTP_200_OK,
        summary="Publish every ready unit draft of the meeting",
    )
    async def publish_drafts(
        self,
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
        expected: int | None = Parameter(
            query="expected",
            default=None,
            ge=0,
            le=MAX_ID,
            description="The number of ready drafts the caller was shown; another number now "
            "is a 409 and nothing is published",
        ),
    ) -> PublishDraftsRead:
        """For the secretariat: every ready unit draft goes out at once; drafts waiting for
        confirmation stay, and absent points have none. Answers how many of each."""
        meeting = await meetings.get_managed(principal, meeting_id)
        published = await Publisher(minutes_service).publish_drafts(meeting, expected)
        queue = await review_queue(minutes_service.session, meeting)
        return PublishDraftsRead(
            published=published, waiting=queue.waiting, absent_units=queue.absent
        )

    @post("/minutes/photos", status_code=HTTP_201_CREATED, summary="Attach a photo")
    async def add_photo(
        self,
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
        data: Annotated[PhotoUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> PhotoRead:
        """JPEG, PNG, WebP or GIF, told by content; re-encoded without metadata; 413 when too
        large."""
        meeting = await meetings.get_managed(principal, meeting_id)
        photo = await minutes_service.add_photo(
            meeting, principal, data.caption, upload_chunks(data.data)
        )
        return photo_read(photo)

    @patch("/minutes/photos/{photo_id:int}", summary="Change a photo's caption")
    async def caption_photo(
        self,
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
        photo_id: Id,
        data: CaptionWrite,
    ) -> PhotoRead:
        """Published articles keep the caption they were published with."""
        meeting = await meetings.get_managed(principal, meeting_id)
        return photo_read(await minutes_service.set_caption(meeting, photo_id, data.caption))

    @delete(
        "/minutes/photos/{photo_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a photo from the minutes",
    )
    async def remove_photo(
        self,
        meetings: MeetingService,
        minutes_service: MinutesService,
        principal: Principal,
        meeting_id: Id,
        photo_id: Id,
    ) -> None:
        """Articles already showing it keep it."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await minutes_service.remove_photo(meeting, photo_id)


class ArticleApiController(Controller):
    """News articles: anyone reads published ones; a site's editors see and change drafts."""

    path = "/api/v1/articles"
    tags = ["articles"]
    dependencies = {
        "articles": Provide(provide_article_service),
        "page": Provide(provide_page_request, sync_to_thread=False),
        "principal": Provide(provide_principal, sync_to_thread=False),
    }

    @get("/", summary="Articles: published, and drafts for their editors")
    async def list_articles(
        self,
        request: Request[Any, Any, Any],
        articles: ArticleService,
        principal: Principal | None,
        page: PageRequest,
        unit: int | None = Parameter(
            query="unit", default=None, ge=1, le=MAX_CODE, description="Unit code"
        ),
        province: int | None = Parameter(
            query="province", default=None, ge=1, le=MAX_CODE, description="Province code"
        ),
        meeting: int | None = Parameter(
            query="meeting", default=None, ge=1, le=MAX_ID, description="Meeting id"
        ),
        status: ArticleStatus | None = Parameter(query="status", default=None),
    ) -> Page[ArticleRead]:
        """Newest first; `?unit=` for one unit's site."""
        filters = ArticleFilters(
            province_code=province, unit_code=unit, meeting_id=meeting, status=status
        )
        found = await articles.list_page(principal, filters, page)
        default = _default_province(request)
        return Page(
            items=[article_read(a, default) for a in found.items],
            total=found.total,
            limit=found.limit,
            offset=found.offset,
        )

    @get("/{article_id:int}", summary="One article")
    async def get_article(
        self,
        request: Request[Any, Any, Any],
        articles: ArticleService,
        principal: Principal | None,
        article_id: Id,
    ) -> ArticleRead:
        """A draft only for its editors."""
        article = await articles.get_visible(principal, article_id)
        return article_read(article, _default_province(request))

    @patch("/{article_id:int}", summary="Edit an article", guards=[requires_login])
    async def update_article(
        self,
        request: Request[Any, Any, Any],
        articles: ArticleService,
        principal: Principal | None,
        article_id: Id,
        data: ArticleUpdate,
    ) -> ArticleRead:
        """A published article shows "updated" with the time of the change. A unit article also
        takes who presided at its point and how many attended (`presiding_name` and
        `delegates_present` together): its paragraph about the point is written from them, and
        a draft that waited for them (`needs_confirmation`) may then be published."""
        article = await articles.get_editable(principal, article_id)
        assert principal is not None
        changes = ArticleChanges(
            title=None if data.title is UNSET else data.title,
            lead=None if data.lead is UNSET else data.lead,
            body=None if data.body is UNSET else data.body,
            featured=None if data.featured is UNSET else data.featured,
        )
        statement = PointStatement(
            presiding_name=None if data.presiding_name is UNSET else data.presiding_name,
            presiding_position=(
                None if data.presiding_position is UNSET else data.presiding_position
            ),
            delegates_present=None if data.delegates_present is UNSET else data.delegates_present,
        )
        await articles.update(article, principal, changes)
        if statement.given:
            await articles.state_point(article, principal, statement)
        return article_read(article, _default_province(request))

    @post(
        "/{article_id:int}/publish",
        status_code=HTTP_200_OK,
        summary="Publish an article",
        guards=[requires_login],
    )
    async def publish_article(
        self,
        request: Request[Any, Any, Any],
        articles: ArticleService,
        principal: Principal | None,
        article_id: Id,
    ) -> ArticleRead:
        """The unit's chair or editor (or the province's secretariat) publishes its draft."""
        article = await articles.get_editable(principal, article_id)
        await articles.publish(article)
        return article_read(article, _default_province(request))
