"""`/api/v1/meetings/{id}/documents`: papers attached to a meeting, served only to its readers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import File
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.core.ids import Id
from confhub.core.pagination import Page, PageRequest, provide_page_request
from confhub.meetings import documents
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.models import MeetingDocument
from confhub.meetings.schemas import DocumentRead, FileUpload
from confhub.meetings.services import MeetingService

CHUNK_SIZE = 64 * 1024


def document_read(document: MeetingDocument) -> DocumentRead:
    """The API view of a document, with the URL that downloads it."""
    return DocumentRead(
        id=document.id,
        filename=document.filename,
        content_type=document.content_type,
        size_bytes=document.size_bytes,
        uploaded_at=document.created_at,
        url=f"/api/v1/meetings/{document.meeting_id}/documents/{document.id}",
    )


async def upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    """An uploaded file as chunks, so the size limit is checked while reading."""
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk


class DocumentApiController(Controller):
    """Documents attached to a meeting (PDF, DOCX, XLSX, images)."""

    path = "/api/v1/meetings/{meeting_id:int}/documents"
    tags = ["documents"]
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "page": Provide(provide_page_request, sync_to_thread=False),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    @get("/", summary="Documents of a meeting")
    async def list_documents(
        self, meetings: MeetingService, principal: Principal, meeting_id: Id, page: PageRequest
    ) -> Page[DocumentRead]:
        """Everyone who may see the meeting may see its documents."""
        await meetings.get_visible(principal, meeting_id)
        found = await documents.list_documents(meetings.session, meeting_id)
        items = [document_read(d) for d in found[page.offset : page.offset + page.limit]]
        return Page(items=items, total=len(found), limit=page.limit, offset=page.offset)

    @post("/", status_code=HTTP_201_CREATED, summary="Attach a document (secretariat)")
    async def upload_document(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> DocumentRead:
        """The type is checked by content; too large a file is refused with 413."""
        meeting = await meetings.get_managed(principal, meeting_id)
        document = await documents.store_document(
            meetings.session,
            request.app.state.settings,
            meeting,
            principal,
            data.data.filename,
            data.data.content_type,
            upload_chunks(data.data),
        )
        return document_read(document)

    @get("/{document_id:int}", summary="Download a document", media_type="application/octet-stream")
    async def download_document(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        document_id: Id,
    ) -> File:
        """The file, as an attachment, to those who may see the meeting."""
        await meetings.get_visible(principal, meeting_id)
        document = await documents.get_document(meetings.session, meeting_id, document_id)
        return File(
            path=documents.document_path(request.app.state.settings, document),
            filename=document.filename,
            media_type=document.content_type,
            content_disposition_type="attachment",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
        )

    @delete("/{document_id:int}", status_code=HTTP_204_NO_CONTENT, summary="Remove a document")
    async def delete_document(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        document_id: Id,
    ) -> None:
        """Remove the document and its file."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await documents.delete_document(
            meetings.session, request.app.state.settings, meeting, principal, document_id
        )
