"""The notices' API: a chair's answer to the invitation, and the secretariat's resend."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.guards import provide_required_principal
from confhub.accounts.principal import Principal
from confhub.core.errors import NotFoundError, PermissionDeniedError
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.meetings.actors import may_act_for_point, request_actor
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.models import Meeting
from confhub.meetings.services import MeetingService
from confhub.notices import resend as resending
from confhub.notices.acknowledgements import AcknowledgementWrite, acknowledge
from confhub.notices.pages import NOTICE_PAGE_CONTROLLERS
from confhub.notices.states import ack_view
from confhub.points.models import ConnectionPoint


class AcknowledgementRead(msgspec.Struct):
    """A point's stored answer (the contract's `acknowledgement` with its point)."""

    point_id: int
    status: str
    delegates_expected: int | None
    reason: str | None
    at: str


async def _may_answer(
    request: Request[Any, Any, Any], session: AsyncSession, meeting: Meeting, point_id: int
) -> None:
    """The check-in link of that very point, or a session allowed to check it in (as for the
    roll call: the same actor, the same rule)."""
    actor = await request_actor(request, session, meeting.id)
    if actor.link_point_id is not None and actor.link_point_id != point_id:
        raise PermissionDeniedError(N_("This link may only answer for its own point"))
    point = await session.get(ConnectionPoint, point_id)
    if point is None or not may_act_for_point(actor, meeting, point):
        raise PermissionDeniedError(N_("You may not answer for this point"))


class NoticeApiController(Controller):
    """Answers to invitations, and resending notices."""

    path = "/api/v1/meetings/{meeting_id:int}"
    tags = ["notices"]
    dependencies = {"meetings": Provide(provide_meeting_service)}

    @post("/acknowledgements", summary="Answer the invitation for a point")
    async def acknowledge(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        meeting_id: Id,
        data: AcknowledgementWrite,
    ) -> Response[AcknowledgementRead]:
        """201 for a first or changed answer, 200 when unchanged; 409 once the meeting is over.
        By the check-in link's token (`X-Checkin-Token`) or a session allowed to check in."""
        meeting = await db_session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
        await _may_answer(request, db_session, meeting, data.point_id)
        outcome = await acknowledge(db_session, meeting, data)
        view = ack_view(outcome.acknowledgement)
        body = AcknowledgementRead(point_id=data.point_id, **view)
        status = HTTP_201_CREATED if outcome.changed else HTTP_200_OK
        return Response(body, status_code=status)

    @post(
        "/notices",
        status_code=HTTP_202_ACCEPTED,
        summary="Resend the invitation or a reminder (secretariat)",
        dependencies={"principal": Provide(provide_required_principal, sync_to_thread=False)},
    )
    async def resend(
        self,
        db_session: AsyncSession,
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        data: resending.ResendRequest,
    ) -> resending.ResendResult:
        """Queued now, sent by the workers; to every invited point when `point_ids` is absent."""
        meeting = await meetings.get_managed(principal, meeting_id)
        queued = await resending.resend(db_session, meeting, data.kind, data.point_ids)
        return resending.ResendResult(queued=queued)


NOTICE_CONTROLLERS = (NoticeApiController, *NOTICE_PAGE_CONTROLLERS)
