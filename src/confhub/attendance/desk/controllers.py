"""The desk over HTTP: a point reports an incident (the chair page's fallback when its socket is
down, by the check-in link's token), the technician acknowledges and resolves it, the
secretariat sends announcements; and the province's incident report as a page and as CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_403_FORBIDDEN
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.attendance.desk.announcements import announcement_view, board_announcements
from confhub.attendance.desk.incidents import incident_view, open_incidents
from confhub.attendance.desk.report import ProvinceReport, province_report, report_csv
from confhub.attendance.desk.schemas import (
    CLIENT_ID_PATTERN,
    MAX_CLIENT_ID,
    AnnouncementWrite,
    IncidentChange,
)
from confhub.attendance.desk.schemas import IncidentReport as IncidentReportBody
from confhub.attendance.desk.writer import DeskWriter
from confhub.core.dateinput import parse_day
from confhub.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from confhub.core.i18n import N_
from confhub.core.ids import MAX_CODE, Id
from confhub.db.transactions import release_connection
from confhub.meetings.actors import Actor, request_actor
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.models import Meeting
from confhub.meetings.services import MeetingService
from confhub.system.openapi import error_response
from confhub.units.models import Province

CSV = "text/csv"
# The days a province's report covers unless asked, and at most.
DEFAULT_DAYS = 30
MAX_DAYS = 366


def provide_desk_writer(request: Request[Any, Any, Any]) -> DeskWriter:
    """Dependency: the app's one writer of incidents and announcements."""
    writer: DeskWriter = request.app.state.desk_writer
    return writer


class DeskApiController(Controller):
    """Incidents and announcements of a meeting, and the province's incident report."""

    path = "/api/v1"
    tags = ["attendance"]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "desk": Provide(provide_desk_writer, sync_to_thread=False),
    }

    @post(
        "/meetings/{meeting_id:int}/incidents",
        status_code=HTTP_201_CREATED,
        summary="Report a point's incident (the live channel's `incident`, over HTTP)",
    )
    async def report_incident(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        desk: DeskWriter,
        meeting_id: Id,
        data: IncidentReportBody,
    ) -> Response[dict[str, Any]]:
        """201 with the incident; 200 with the first when its `incident_id` repeats; 429 with
        `Retry-After` past the point's allowance."""
        meeting = await db_session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
        actor = await request_actor(request, db_session, meeting.id)
        if data.point_id is None:
            if actor.link_point_id is None:
                raise InvalidInputError("point_id", N_("say which point_id the message is for"))
            data.point_id = actor.link_point_id
        await release_connection(db_session)
        outcome = await desk.report(meeting_id, actor, data)
        body = incident_view(outcome.incident) | {"version": outcome.incident.version}
        return Response(body, status_code=HTTP_201_CREATED if outcome.changed else HTTP_200_OK)

    @get(
        "/meetings/{meeting_id:int}/incidents",
        summary="The meeting's incidents not yet resolved, oldest first",
    )
    async def list_incidents(
        self, request: Request[Any, Any, Any], meetings: MeetingService, meeting_id: Id
    ) -> dict[str, Any]:
        """For those who may see the meeting's board."""
        await _board_reader(request, meetings, meeting_id)
        items = await open_incidents(meetings.session, meeting_id)
        return {"items": items, "total": len(items)}

    @patch(
        "/meetings/{meeting_id:int}/incidents/{incident_id:str}",
        summary="Acknowledge or resolve an incident (secretariat)",
        dependencies={"principal": Provide(provide_required_principal, sync_to_thread=False)},
    )
    async def change_incident(
        self,
        db_session: AsyncSession,
        desk: DeskWriter,
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        data: IncidentChange,
        incident_id: str = Parameter(max_length=MAX_CLIENT_ID, pattern=CLIENT_ID_PATTERN),
    ) -> dict[str, Any]:
        """`acknowledged`, or `resolved` with a note; the point sees the change at once. The
        same step again answers unchanged; a step back is a 409."""
        await meetings.get_managed(principal, meeting_id)
        await release_connection(db_session)
        outcome = await desk.change(meeting_id, Actor.of_user(principal), incident_id, data)
        return incident_view(outcome.incident)

    @post(
        "/meetings/{meeting_id:int}/announcements",
        status_code=HTTP_201_CREATED,
        summary="Send an announcement to the points (secretariat)",
        dependencies={"principal": Provide(provide_required_principal, sync_to_thread=False)},
    )
    async def send_announcement(
        self,
        db_session: AsyncSession,
        desk: DeskWriter,
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        data: AnnouncementWrite,
    ) -> Response[dict[str, Any]]:
        """To every point, to the points of `unit_codes`, or (`"audience": "not_present"`) to
        those not answered present; 201 with its counts (200 when `announcement_id` repeats)."""
        await meetings.get_managed(principal, meeting_id)
        await release_connection(db_session)
        sent = await desk.announce(meeting_id, principal, data)
        body = announcement_view(sent.announcement, sent.counts)
        return Response(body, status_code=HTTP_201_CREATED if sent.created else HTTP_200_OK)

    @get(
        "/meetings/{meeting_id:int}/announcements",
        summary="The meeting's latest announcements with seen and acknowledged counts",
    )
    async def list_announcements(
        self, request: Request[Any, Any, Any], meetings: MeetingService, meeting_id: Id
    ) -> dict[str, Any]:
        """For those who may see the meeting's board."""
        await _board_reader(request, meetings, meeting_id)
        items = await board_announcements(meetings.session, meeting_id)
        return {"items": items, "total": len(items)}

    @get(
        "/reports/incidents.csv",
        summary="A province's incidents per point over a date range (CSV)",
        media_type=CSV,
        responses={
            HTTP_403_FORBIDDEN: error_response(
                403, "Signed in, but not on the staff of the province asked for"
            )
        },
        dependencies={"principal": Provide(provide_required_principal, sync_to_thread=False)},
    )
    async def incidents_csv(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        principal: Principal,
        province: int | None = Parameter(query="province", default=None, ge=1, le=MAX_CODE),
        date_from: date | None = Parameter(query="from", default=None),
        date_to: date | None = Parameter(query="to", default=None),
    ) -> Response[bytes]:
        """Points with the most incidents first; UTF-8 with BOM, formula-safe."""
        report = await _report(request, db_session, principal, province, date_from, date_to)
        name = f"su-co-{report.province_code}-{report.first_day}-{report.last_day}.csv"
        return Response(
            report_csv(report),
            media_type=CSV,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "private, no-store",
            },
        )


class DeskPagesController(Controller):
    """`/reports/incidents`: the province's page of its weakest connections."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {"principal": Provide(provide_required_principal, sync_to_thread=False)}

    @get("/reports/incidents", name="incident_report")
    async def incidents_page(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        principal: Principal,
        province: int | None = Parameter(query="province", default=None, ge=1, le=MAX_CODE),
        typed_from: str = Parameter(query="from", default="", max_length=40),
        typed_to: str = Parameter(query="to", default="", max_length=40),
    ) -> Template:
        """The points with the most incidents and the longest outages, with a CSV link. The
        days are typed as dd/mm/yyyy (or ISO, from a link)."""
        date_from = parse_day(typed_from, "from")
        date_to = parse_day(typed_to, "to")
        report = await _report(request, db_session, principal, province, date_from, date_to)
        name = await db_session.scalar(
            select(Province.name).where(Province.code == report.province_code)
        )
        return Template(
            "attendance/incident_report.html",
            context={"report": report, "province_name": name or str(report.province_code)},
        )


async def _board_reader(
    request: Request[Any, Any, Any], meetings: MeetingService, meeting_id: int
) -> Principal:
    """Those who read the province's boards (its staff, admins); 401/403 for others."""
    principal = provide_required_principal(request)
    meeting = await meetings.get_visible(principal, meeting_id)
    if not principal.reads_province(meeting.province_code):
        raise PermissionDeniedError(N_("Only the province's staff see the meeting's incidents"))
    return principal


async def _report(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    principal: Principal,
    province: int | None,
    date_from: date | None,
    date_to: date | None,
) -> ProvinceReport:
    """The province's report for the days asked (the last 30 by default), for its staff."""
    code = province if province is not None else principal.province_code
    if code is None:
        raise InvalidInputError("province", N_("choose a province"))
    if not principal.reads_province(code):
        raise PermissionDeniedError(N_("Only the province's staff see its incident report"))
    timezone = request.app.state.settings.timezone
    today = datetime.now(UTC).astimezone(ZoneInfo(timezone)).date()
    last = date_to or today
    first = date_from or last - timedelta(days=DEFAULT_DAYS - 1)
    for name, day in (("from", first), ("to", last)):
        if not 1900 <= day.year <= 2999:
            raise InvalidInputError(name, N_("must be a day in the years 1900 to 2999"))
    if first > last:
        raise InvalidInputError("from", N_("must not be after `to`"))
    if (last - first).days >= MAX_DAYS:
        raise InvalidInputError("to", N_("a report covers at most %(n)s days"), n=MAX_DAYS)
    return await province_report(session, code, first, last, timezone)
