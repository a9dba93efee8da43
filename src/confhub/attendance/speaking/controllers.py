"""`/api/v1/meetings/{id}/speaking`: a point asks to speak over plain HTTP (its check-in link's
`X-Checkin-Token`, or a signed-in chair), the secretariat's steps on a request (`PATCH …/
{request_id}`), and the meeting's record of requests. The live channel's `speak_request` and
these share one write path (`desk.SpeakingDesk`)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import File
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.guards import current_principal
from confhub.attendance.speaking import record
from confhub.attendance.speaking.desk import SpeakingDesk, attachable
from confhub.attendance.speaking.models import SpeakingRequest
from confhub.attendance.speaking.schemas import (
    MAX_REQUEST_ID,
    SpeakingChange,
    SpeakRequestWrite,
)
from confhub.core.errors import NotFoundError
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.pagination import Page, PageRequest, provide_page_request
from confhub.db.transactions import release_connection
from confhub.meetings import documents
from confhub.meetings.actors import Actor, request_actor
from confhub.meetings.controllers.documents import upload_chunks
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.models import Invitation, Meeting
from confhub.meetings.schemas import FileUpload
from confhub.meetings.services import MeetingService
from confhub.points.models import ConnectionPoint

RequestId = Parameter(min_length=1, max_length=MAX_REQUEST_ID)


class SpeakingApiController(Controller):
    """Speaking requests of a meeting over HTTP."""

    path = "/api/v1/meetings/{meeting_id:int}/speaking"
    tags = ["speaking"]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "page": Provide(provide_page_request, sync_to_thread=False),
    }

    @post("/", status_code=HTTP_201_CREATED, summary="Ask to speak for a point")
    async def ask(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        meeting_id: Id,
        data: SpeakRequestWrite,
    ) -> Response[dict[str, Any]]:
        """201 with the stored request and its version; 200 with the first when the id
        repeats. 429 past the limits of one point (docs/contract-additions.md)."""
        meeting = await db_session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
        actor = await request_actor(request, db_session, meeting.id)
        await release_connection(db_session)  # before waiting in the meeting's writer queue
        asked = await SpeakingDesk(request.app.state.db_config).ask(meeting_id, actor, data)
        body = {"id": asked.request["request_id"], "version": asked.version, **asked.request}
        return Response(body, status_code=HTTP_201_CREATED if asked.created else HTTP_200_OK)

    @patch("/{request_id:str}", summary="Accept, refuse, order or give the floor (secretariat)")
    async def change(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        meetings: MeetingService,
        meeting_id: Id,
        data: SpeakingChange,
        request_id: str = RequestId,
    ) -> dict[str, Any]:
        """`state` (`accepted`, `refused` with a `reason`, `speaking`, `done`) and/or
        `position` among the waiting requests (1 speaks next); 409 for an impossible step."""
        principal = current_principal(request)
        await meetings.get_managed(principal, meeting_id)
        assert principal is not None
        await release_connection(db_session)  # before waiting in the meeting's writer queue
        desk = SpeakingDesk(request.app.state.db_config)
        changed, version = await desk.change(meeting_id, Actor.of_user(principal), request_id, data)
        return {"id": changed["request_id"], "version": version, **changed}

    @put(
        "/{request_id:str}/document",
        summary="Attach a document (tham luận) to a waiting request, for its point",
    )
    async def attach_document(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        meeting_id: Id,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        request_id: str = RequestId,
    ) -> dict[str, Any]:
        """The file `data` (PDF, DOCX, XLSX or an image, within the upload limit: 413 past it),
        by the point's link (`X-Checkin-Token`) or whoever may act for the point; it replaces
        one attached before. 409 once the request is no longer waiting."""
        meeting = await db_session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
        actor = await request_actor(request, db_session, meeting.id)
        await attachable(db_session, meeting, actor, request_id)  # before a byte is stored
        await release_connection(db_session)
        settings = request.app.state.settings
        stored = await documents.store_file(settings, data.data.filename, upload_chunks(data.data))
        desk = SpeakingDesk(request.app.state.db_config)
        try:
            item, version, replaced = await desk.attach(meeting_id, actor, request_id, stored)
        except BaseException:
            await documents.discard_file(settings, stored.storage_name)
            raise
        await documents.discard_file(settings, replaced)
        return {"id": item["request_id"], "version": version, **item}

    @get(
        "/{request_id:str}/document",
        summary="Download a request's document",
        media_type="application/octet-stream",
    )
    async def download_document(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        meetings: MeetingService,
        meeting_id: Id,
        request_id: str = RequestId,
    ) -> File:
        """To the province's staff (the board) and to the point's own link."""
        point_ids = await _readable_points(request, db_session, meetings, meeting_id)
        row = await db_session.scalar(
            select(SpeakingRequest).where(
                SpeakingRequest.meeting_id == meeting_id,
                SpeakingRequest.request_id == request_id,
            )
        )
        if row is None or (point_ids is not None and row.point_id not in point_ids):
            raise NotFoundError(N_("No speaking request %(id)s"), id=request_id[:100])
        path = documents.stored_path(request.app.state.settings, row.document_storage)
        return File(
            path=path,
            filename=row.document_name or "document",
            media_type=row.document_type or "application/octet-stream",
            content_disposition_type="attachment",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
        )

    @get("/", summary="The meeting's speaking requests, oldest first")
    async def listing(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        meetings: MeetingService,
        page: PageRequest,
        meeting_id: Id,
    ) -> Page[dict[str, Any]]:
        """Every request with its state, times and reason; a check-in link sees its own point's
        only, the province's staff every point's."""
        point_ids = await _readable_points(request, db_session, meetings, meeting_id)
        items = await record.requests(db_session, meeting_id, point_ids)
        shown = items[page.offset : page.offset + page.limit]
        return Page(items=shown, total=len(items), limit=page.limit, offset=page.offset)


async def _readable_points(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    meetings: MeetingService,
    meeting_id: int,
) -> frozenset[int] | None:
    """The points whose requests the caller sees: a link its own point's, a chair its unit's,
    the province's staff every point's (None)."""
    actor = await request_actor(request, session, meeting_id)
    if actor.principal is None:
        return frozenset({actor.link_point_id or 0})
    meeting = await meetings.get_visible(actor.principal, meeting_id)
    if not actor.principal.reads_province(meeting.province_code):
        return await _unit_points(meetings, meeting, actor.principal.unit_code)
    return None


async def _unit_points(
    meetings: MeetingService, meeting: Meeting, unit_code: int | None
) -> frozenset[int]:
    own = await meetings.session.scalars(
        select(Invitation.point_id)
        .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
        .where(Invitation.meeting_id == meeting.id, ConnectionPoint.unit_code == unit_code)
    )
    return frozenset(own)
