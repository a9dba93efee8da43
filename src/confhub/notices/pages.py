"""The secretariat's pages of notices: the outbox (every message as it was or will be sent,
with its `.ics`), and a meeting's notice states with the "not yet confirmed" list to call,
exportable, and a resend to chosen points."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.core.errors import NotFoundError, PermissionDeniedError
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.spreadsheets import csv_bytes
from confhub.db import DbSession
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.invitations import invited_points
from confhub.meetings.models import Meeting
from confhub.meetings.services import MeetingService
from confhub.notices import resend as resending
from confhub.notices.composing import Composer
from confhub.notices.models import Channel, DeliveryState, Notice, NoticeDelivery
from confhub.notices.policy import NoticePolicy
from confhub.notices.recipients import recipients_of
from confhub.notices.sms import sms_length, without_diacritics
from confhub.notices.states import ACKNOWLEDGED, DECLINED, NOTICE_STATES, point_states
from confhub.points.models import ConnectionPoint

PAGE_SIZE = 50
STATES = tuple(s.value for s in DeliveryState)
NO_STORE = {"Cache-Control": "private, no-store"}


@dataclass(frozen=True)
class OutboxLine:
    """One message in the outbox list."""

    delivery: NoticeDelivery
    notice: Notice
    meeting_title: str
    point_name: str


def _staff(principal: Principal) -> None:
    if not (principal.is_admin or principal.manages_province(principal.province_code or -1)):
        raise PermissionDeniedError(N_("The outbox is for the province's secretariat"))


def _policy(request: Request[Any, Any, Any]) -> NoticePolicy:
    return NoticePolicy.of(request.app.state.settings)


async def _delivery(
    session: AsyncSession, principal: Principal, delivery_id: int
) -> tuple[NoticeDelivery, Notice, Meeting]:
    row = (
        await session.execute(
            select(NoticeDelivery, Notice, Meeting)
            .join(Notice, Notice.id == NoticeDelivery.notice_id)
            .join(Meeting, Meeting.id == Notice.meeting_id)
            .where(NoticeDelivery.id == delivery_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(N_("No message %(id)s"), id=delivery_id)
    if not principal.manages_province(row[2].province_code):
        raise PermissionDeniedError(N_("The outbox is for the province's secretariat"))
    return row[0], row[1], row[2]


async def _content(
    session: AsyncSession, policy: NoticePolicy, delivery: NoticeDelivery
) -> dict[str, Any]:
    """The message as sent, or (not sent yet) as it would be sent now."""
    if delivery.content is not None:
        return dict(delivery.content)
    composer = Composer(session, policy)
    context = (await composer.contexts([delivery]))[delivery.id]
    return composer.content(context, delivery)


class OutboxPagesController(Controller):
    """The outbox and a message as sent."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {"principal": Provide(provide_required_principal, sync_to_thread=False)}

    @get("/outbox", name="outbox")
    async def outbox(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        principal: Principal,
        wanted: str | None = Parameter(query="state", default=None, max_length=20),
        page: int = Parameter(query="page", default=1, ge=1, le=100_000),
    ) -> Template:
        """Every message, newest first, 50 a page; filtered by state."""
        _staff(principal)
        query = (
            select(NoticeDelivery, Notice, Meeting.title, ConnectionPoint.name)
            .join(Notice, Notice.id == NoticeDelivery.notice_id)
            .join(Meeting, Meeting.id == Notice.meeting_id)
            .join(ConnectionPoint, ConnectionPoint.id == Notice.point_id)
        )
        if not principal.is_admin:
            query = query.where(Meeting.province_code == principal.province_code)
        chosen = wanted if wanted in STATES else None
        if chosen:
            query = query.where(NoticeDelivery.state == chosen)
        total = await db_session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await db_session.execute(
            query.order_by(NoticeDelivery.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        )
        lines = [OutboxLine(d, n, title, name) for d, n, title, name in rows]
        settings = request.app.state.settings
        return Template(
            "notices/outbox.html",
            headers=NO_STORE,
            context={
                "lines": lines,
                "total": int(total or 0),
                "page": page,
                "pages": max(1, -(-int(total or 0) // PAGE_SIZE)),
                "state": chosen,
                "states": STATES,
                "smtp_configured": settings.smtp_url is not None,
                "webhook_configured": settings.notify_webhook_url is not None,
            },
        )

    @get("/outbox/{delivery_id:int}", name="outbox_message")
    async def message(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        principal: Principal,
        delivery_id: Id,
    ) -> Template:
        """One message as sent (or as it will be): headers, text and `.ics`, or the webhook's
        JSON with its SMS length."""
        delivery, notice, meeting = await _delivery(db_session, principal, delivery_id)
        content = await _content(db_session, _policy(request), delivery)
        sms = None
        if delivery.channel == Channel.WEBHOOK.value:
            text = json.loads(content["body"])["text"]
            plain = without_diacritics(text)
            sms = {
                "text": text,
                "with": sms_length(text),
                "plain": plain,
                "without": sms_length(plain),
            }
        return Template(
            "notices/message.html",
            headers=NO_STORE,
            context={
                "delivery": delivery,
                "notice": notice,
                "meeting": meeting,
                "content": content,
                "sms": sms,
                "sender": request.app.state.settings.mail_from,
                "smtp_configured": request.app.state.settings.smtp_url is not None,
            },
        )

    @get("/outbox/{delivery_id:int}/invite.ics", name="outbox_ics")
    async def ics(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        principal: Principal,
        delivery_id: Id,
    ) -> Response[bytes]:
        """The e-mail's calendar part, as the recipient's calendar reads it."""
        delivery, _notice, _meeting = await _delivery(db_session, principal, delivery_id)
        if delivery.channel != Channel.EMAIL.value:
            raise NotFoundError(N_("No message %(id)s"), id=delivery_id)
        content = await _content(db_session, _policy(request), delivery)
        if not content.get("ics"):  # a draft's notice to its editors carries no calendar
            raise NotFoundError(N_("No message %(id)s"), id=delivery_id)
        return Response(
            content["ics"].encode(),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="invite.ics"', **NO_STORE},
        )


@dataclass(frozen=True)
class PointLine:
    """One invited point on the notices page."""

    point_id: int
    unit_code: int | None
    name: str
    chair: str
    phone: str
    email: str
    state: str
    failure: str | None
    acknowledgement: dict[str, Any] | None


async def point_lines(session: DbSession, meeting_id: int) -> list[PointLine]:
    """Every invited point with its recipient and notice state, by name."""
    invited = await invited_points(session, meeting_id)
    states = await point_states(session, meeting_id, [p.point_id for p in invited])
    recipients = await recipients_of(session, meeting_id, [p.point_id for p in invited])
    lines = []
    for point in invited:
        state = states[point.point_id]
        recipient = recipients[point.point_id]
        lines.append(
            PointLine(
                point_id=point.point_id,
                unit_code=point.unit_code,
                name=point.point_name,
                chair=recipient.name,
                phone=recipient.phone or "",
                email=recipient.email or "",
                state=state.notice_state,
                failure=state.failure,
                acknowledgement=state.acknowledgement,
            )
        )
    return lines


def unconfirmed(lines: list[PointLine]) -> list[PointLine]:
    """The points whose chair has not answered: the ones to call."""
    return [line for line in lines if line.state not in (ACKNOWLEDGED, DECLINED)]


class MeetingNoticesController(Controller):
    """A meeting's notice states, the "not yet confirmed" list, its export, and resending."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    @get("/meetings/{meeting_id:int}/notices", name="meeting_notices")
    async def notices(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template:
        """Counts by state, then the points still to confirm with their phones."""
        meeting = await meetings.get_managed(principal, meeting_id)
        lines = await point_lines(meetings.session, meeting_id)
        counts = dict.fromkeys(NOTICE_STATES, 0)
        for line in lines:
            counts[line.state] = counts.get(line.state, 0) + 1
        return Template(
            "notices/meeting.html",
            headers=NO_STORE,
            context={
                "meeting": meeting,
                "lines": lines,
                "counts": counts,
                "unconfirmed": unconfirmed(lines),
                "queued": request.query_params.get("queued"),
                "error": request.query_params.get("error"),
            },
        )

    @get("/meetings/{meeting_id:int}/notices/unconfirmed.csv", name="meeting_unconfirmed_csv")
    async def unconfirmed_csv(
        self, meetings: MeetingService, principal: Principal, meeting_id: Id
    ) -> Response[bytes]:
        """The points still to confirm, to call from a spreadsheet (formula-safe cells)."""
        await meetings.get_managed(principal, meeting_id)
        lines = unconfirmed(await point_lines(meetings.session, meeting_id))
        rows: list[list[str | int | None]] = [
            ["unit_code", "name", "chair", "phone", "email", "notice_state", "failure"]
        ]
        for line in lines:
            who = [line.unit_code, line.name, line.chair, line.phone, line.email]
            rows.append([*who, line.state, line.failure])
        return Response(
            csv_bytes(rows),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="chua-xac-nhan-{meeting_id}.csv"',
                **NO_STORE,
            },
        )

    @post("/meetings/{meeting_id:int}/notices/resend", name="meeting_notices_resend")
    async def resend(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
    ) -> Redirect:
        """Resend the invitation (or a reminder) to the ticked points."""
        meeting = await meetings.get_managed(principal, meeting_id)
        form = await request.form()
        kind = form.get("kind")
        kind = kind if kind in ("invitation", "reminder") else "invitation"
        ids = [int(v) for v in form.getall("point_id", []) if isinstance(v, str) and v.isdigit()]
        if not ids:
            return Redirect(f"/meetings/{meeting_id}/notices?error=none", status_code=303)
        queued = await resending.resend(db_session, meeting, kind, ids[: resending.MAX_POINTS])
        return Redirect(f"/meetings/{meeting_id}/notices?queued={queued}", status_code=303)


NOTICE_PAGE_CONTROLLERS = (OutboxPagesController, MeetingNoticesController)
