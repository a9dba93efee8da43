"""Attaching documents to a meeting from its page, and removing them (the secretariat's).

Downloads use the API's route (`/api/v1/meetings/{id}/documents/{doc}`), which serves the file to
everyone who may see the meeting.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.response import Redirect, Template

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.core.errors import InvalidInputError, PayloadTooLargeError
from confhub.core.forms import see_other, submit
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.uploads import UPLOAD_ROUTE, read_upload_form
from confhub.meetings import documents
from confhub.meetings.controllers.documents import upload_chunks
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.pages.views import render_meeting, settings_of
from confhub.meetings.services import MeetingService


class DocumentPagesController(Controller):
    """`/meetings/{id}/documents…` forms."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    @post("/meetings/{meeting_id:int}/documents", **UPLOAD_ROUTE)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template | Redirect:
        """Attach the uploaded file (PDF, DOCX, XLSX or an image, told by its content)."""
        meeting = await meetings.get_managed(principal, meeting_id)
        settings = settings_of(request)
        sent = await read_upload_form(
            request, settings.max_upload_bytes, settings.max_request_body_bytes
        )
        upload = sent.form.get("file")

        async def store() -> None:
            if sent.too_large:
                raise PayloadTooLargeError.upload(settings.max_upload_mb)
            if not isinstance(upload, UploadFile):
                raise InvalidInputError("file", N_("The file is empty."))
            await documents.store_document(
                meetings.session,
                settings,
                meeting,
                principal,
                upload.filename,
                upload.content_type,
                upload_chunks(upload),
            )

        return await submit(
            meetings.session,
            store,
            done=see_other(f"/meetings/{meeting_id}", "document_added", anchor="documents"),
            refused=lambda error: render_meeting(
                request, meetings, meeting_id, errors={"document": error.message}
            ),
        )

    @post("/meetings/{meeting_id:int}/documents/{document_id:int}/delete")
    async def delete(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        document_id: Id,
    ) -> Template | Redirect:
        """Remove a document and its file."""
        meeting = await meetings.get_managed(principal, meeting_id)
        return await submit(
            meetings.session,
            lambda: documents.delete_document(
                meetings.session, settings_of(request), meeting, principal, document_id
            ),
            done=see_other(f"/meetings/{meeting_id}", "document_removed", anchor="documents"),
            refused=lambda error: render_meeting(
                request, meetings, meeting_id, errors={"document": error.message}
            ),
        )
