"""`/api/v1/meetings/{id}/checkins`, `/attendance`, `/rehearsal` and the attendance report.

A check-in is accepted from a signed-in chair or secretariat, or from a check-in link's token
(`?token=` or the `X-Checkin-Token` header) for that link's own point.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.guards import current_principal, provide_required_principal
from confhub.accounts.principal import Principal
from confhub.accounts.visibility import sees_chair
from confhub.attendance import report as attendance_report
from confhub.attendance import views
from confhub.attendance.deps import provide_attendance_writer
from confhub.attendance.desk.report import meeting_incidents
from confhub.attendance.models import CheckinRecord
from confhub.attendance.schemas import (
    AttendanceRead,
    CheckinRead,
    CheckinWrite,
    RehearsalChange,
    SignalWrite,
)
from confhub.attendance.writer import AttendanceWriter
from confhub.core.errors import NotFoundError
from confhub.core.i18n import N_
from confhub.core.ids import MAX_ID, Id
from confhub.core.pagination import Page, PageRequest, provide_page_request
from confhub.db.transactions import release_connection
from confhub.meetings.actors import request_actor
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.models import Meeting
from confhub.meetings.services import MeetingService

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def checkin_read(record: CheckinRecord) -> CheckinRead:
    """The API view of a stored answer."""
    return CheckinRead(
        id=record.id,
        point_id=record.point_id,
        status=record.status,
        delegates_present=record.delegates_present,
        reason=record.reason,
        note=record.note,
        presiding_name=record.presiding_name,
        presiding_position=record.presiding_position,
        idempotency_key=record.idempotency_key,
        source=record.source,
        version=record.version,
        created_at=record.created_at,
    )


class AttendanceApiController(Controller):
    """Roll call and live state of a meeting over plain HTTP."""

    path = "/api/v1/meetings/{meeting_id:int}"
    tags = ["attendance"]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "writer": Provide(provide_attendance_writer, sync_to_thread=False),
        "page": Provide(provide_page_request, sync_to_thread=False),
    }

    @post("/checkins", status_code=HTTP_201_CREATED, summary="Answer the roll call for a point")
    async def create_checkin(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        writer: AttendanceWriter,
        meeting_id: Id,
        data: CheckinWrite,
    ) -> Response[CheckinRead]:
        """201 with the stored answer; 200 with the first answer when the key repeats. Stored
        (committed) before it is answered or broadcast."""
        meeting = await db_session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
        actor = await request_actor(request, db_session, meeting.id)
        await release_connection(db_session)  # before waiting for the writer
        # Committed, with whatever else arrived meanwhile, before it is answered.
        outcome = await writer.submit(meeting_id, actor, data)
        status = HTTP_201_CREATED if outcome.created else HTTP_200_OK
        return Response(checkin_read(outcome.record), status_code=status)

    @get("/checkins", summary="Every roll-call answer given, oldest first (history)")
    async def list_checkins(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        page: PageRequest,
        meeting_id: Id,
        point_id: int | None = Parameter(query="point_id", default=None, ge=1, le=MAX_ID),
    ) -> Page[CheckinRead]:
        """Corrections add answers; nothing is overwritten."""
        await meetings.get_visible(current_principal(request), meeting_id)
        records = await views.checkin_history(meetings.session, meeting_id, point_id)
        items = [checkin_read(r) for r in records[page.offset : page.offset + page.limit]]
        return Page(items=items, total=len(records), limit=page.limit, offset=page.offset)

    @post("/signals", status_code=HTTP_200_OK, summary="Report a point's link signal")
    async def report_signal(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        writer: AttendanceWriter,
        meeting_id: Id,
        data: SignalWrite,
    ) -> AttendanceRead:
        """The technician's report (`test_ok`, `no_audio`, …); answered with the new state."""
        meeting = await db_session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
        actor = await request_actor(request, db_session, meeting.id)
        await release_connection(db_session)  # before waiting for the writer
        await writer.signal(meeting_id, actor, data.point_id, data.signal)
        view = await views.snapshot(
            db_session, meeting, frozenset({data.point_id}), with_phones=False
        )
        return AttendanceRead(view["version"], view["meeting"], view["totals"], view["points"])

    @get("/attendance", summary="The whole attendance state with its version")
    async def attendance(
        self, request: Request[Any, Any, Any], meetings: MeetingService, meeting_id: Id
    ) -> AttendanceRead:
        """Every invited point's roll call, presence and signal; phones for the secretariat."""
        principal = current_principal(request)
        meeting = await meetings.get_visible(principal, meeting_id)
        assert principal is not None
        view = await views.snapshot(
            meetings.session,
            meeting,
            None,
            with_phones=principal.manages_province(meeting.province_code),
        )
        return AttendanceRead(view["version"], view["meeting"], view["totals"], view["points"])

    @post(
        "/rehearsal",
        status_code=HTTP_200_OK,
        summary="Start or end the rehearsal (secretariat)",
        dependencies={"principal": Provide(provide_required_principal, sync_to_thread=False)},
    )
    async def rehearsal(
        self,
        db_session: AsyncSession,
        writer: AttendanceWriter,
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        data: RehearsalChange,
    ) -> AttendanceRead:
        """Starting resets every point's signal to `untested`; the board lists who is not ready."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await release_connection(db_session)  # before waiting for the writer
        await writer.rehearsal(meeting_id, principal, data.action == "start")
        await db_session.refresh(meeting)  # as the writer's transaction left it
        view = await views.snapshot(db_session, meeting, None, with_phones=True)
        return AttendanceRead(view["version"], view["meeting"], view["totals"], view["points"])

    # Litestar's path parameters are whole segments (`attendance.{fmt}` would only match those
    # very characters), so each format is a path, and a handler (with its media type), of its own.
    @get("/attendance.csv", summary="Attendance report (CSV)", media_type=CSV)
    async def attendance_csv(
        self, request: Request[Any, Any, Any], meetings: MeetingService, meeting_id: Id
    ) -> Response[bytes]:
        """One row per point with totals and times, for the province's records and the minutes."""
        return await report_response(request, meetings, meeting_id, "csv")

    @get("/attendance.xlsx", summary="Attendance report (XLSX)", media_type=XLSX)
    async def attendance_xlsx(
        self, request: Request[Any, Any, Any], meetings: MeetingService, meeting_id: Id
    ) -> Response[bytes]:
        """The same report as a spreadsheet."""
        return await report_response(request, meetings, meeting_id, "xlsx")


async def report_response(
    request: Request[Any, Any, Any], meetings: MeetingService, meeting_id: int, fmt: str
) -> Response[bytes]:
    """The attendance report of a meeting the caller may see, as CSV or XLSX."""
    principal = current_principal(request)
    meeting = await meetings.get_visible(principal, meeting_id)
    points = await views.points(meetings.session, meeting_id)
    incidents = await meeting_incidents(meetings.session, meeting_id)
    for point in points:  # chairs' names only for those who may see them (personal data)
        if not sees_chair(principal, meeting.province_code, point["unit_code"]):
            point["chair"] = point["chair_phone"] = None
        counted = incidents.get(point["point_id"])
        point["incidents"] = counted.count if counted else 0
        point["outage_minutes"] = counted.outage_minutes if counted else 0
    timezone = request.app.state.settings.timezone
    body = await attendance_report.export(meeting.title, points, timezone, fmt)
    media = CSV if fmt == "csv" else XLSX
    filename = f"diem-danh-hoi-nghi-{meeting_id}.{fmt}"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )
