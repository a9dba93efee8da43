"""The check-in page's request to speak without JavaScript (`POST /checkin/{token}/speaking`):
the same write path as the live channel's `speak_request`, then the page again."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.attendance.pages import checkin_path, link_gone, render_checkin
from confhub.attendance.speaking.desk import SpeakingDesk
from confhub.attendance.speaking.schemas import (
    MAX_REQUEST_ID,
    MAX_SPEAKER,
    MAX_TOPIC,
    SpeakRequestWrite,
    decode,
)
from confhub.core.errors import ConfhubError, NotFoundError
from confhub.db.transactions import release_connection
from confhub.meetings.actors import Actor
from confhub.meetings.deps import provide_invitation_service
from confhub.meetings.invitations import InvitationService


class SpeakingPagesController(Controller):
    """The check-in page's form to ask to speak."""

    include_in_schema = False
    dependencies = {"invitations": Provide(provide_invitation_service)}

    @post("/checkin/{token:str}/speaking", name="checkin_speaking")
    async def ask(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        invitations: InvitationService,
        token: str,
    ) -> Template | Redirect:
        """Store the request (once per the form's id), then the page at its speaking section;
        a refusal shows the page again saying why."""
        try:
            invitation = await invitations.by_token(token)
        except NotFoundError:
            return link_gone()
        meeting_id, point_id = invitation.meeting_id, invitation.point_id
        form = await request.form()
        limits = {"request_id": MAX_REQUEST_ID, "topic": MAX_TOPIC, "speaker": MAX_SPEAKER}
        fields: dict[str, Any] = {
            name: value.strip()[:limit]
            for name, limit in limits.items()
            if isinstance(value := form.get(name), str) and value.strip()
        }
        minutes = form.get("minutes")
        fields["minutes"] = minutes.strip()[:3] if isinstance(minutes, str) else ""
        try:
            data: SpeakRequestWrite = decode(fields, SpeakRequestWrite)
            await release_connection(db_session)  # before waiting in the meeting's writer queue
            desk = SpeakingDesk(request.app.state.db_config)
            await desk.ask(meeting_id, Actor.of_link(point_id), data)
        except ConfhubError as error:
            await db_session.rollback()
            again = await invitations.by_token(token)
            page = await render_checkin(
                request, invitations, again, errors={"speaking": error.message}
            )
            page.status_code = error.status_code
            return page
        return Redirect(checkin_path(token, asked="saved") + "#speaking", status_code=303)
