"""`/api/v1/meetings`: list, create, read, update, status steps, copy, audit log."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import UNSET, UnsetType

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.core.dates import check_day
from confhub.core.errors import PermissionDeniedError
from confhub.core.i18n import N_
from confhub.core.ids import MAX_CODE, Id
from confhub.core.pagination import Page, PageRequest, provide_page_request
from confhub.core.text import LINE_PATTERN
from confhub.meetings import audit
from confhub.meetings.connection import ConnectionChanges
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.models import MeetingStatus
from confhub.meetings.roll_call_limits import RollCallChanges
from confhub.meetings.schemas import (
    AuditEntryRead,
    MeetingCopy,
    MeetingCreate,
    MeetingRead,
    MeetingUpdate,
    StatusChange,
)
from confhub.meetings.services import (
    AgendaEntry,
    MeetingChanges,
    MeetingFilters,
    MeetingService,
    to_read,
)

API_DEPENDENCIES = {
    "meetings": Provide(provide_meeting_service),
    "page": Provide(provide_page_request, sync_to_thread=False),
    "principal": Provide(provide_required_principal, sync_to_thread=False),
}


def _day_bound(value: date | None, timezone: str, end: bool) -> datetime | None:
    if value is None:
        return None
    check_day("to" if end else "from", value)
    return datetime.combine(value, time.max if end else time.min, tzinfo=ZoneInfo(timezone))


async def _read(meetings: MeetingService, meeting_id: Id, principal: Principal) -> MeetingRead:
    meeting = await meetings.get_visible(principal, meeting_id)
    counts = await meetings.invited_counts([meeting.id])
    return to_read(meeting, counts.get(meeting.id, 0))


class MeetingApiController(Controller):
    """Meetings, as the secretariat schedules them and others read them."""

    path = "/api/v1/meetings"
    tags = ["meetings"]
    guards = [requires_login]
    dependencies = API_DEPENDENCIES

    @get("/", summary="Meetings the caller may see, filtered and paginated")
    async def list_meetings(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        page: PageRequest,
        province: int | None = Parameter(
            query="province", default=None, ge=1, le=MAX_CODE, description="Province code"
        ),
        status: MeetingStatus | None = Parameter(query="status", default=None),
        date_from: date | None = Parameter(
            query="from", default=None, description="First day (local), YYYY-MM-DD"
        ),
        date_to: date | None = Parameter(
            query="to", default=None, description="Last day (local), YYYY-MM-DD"
        ),
        text: str | None = Parameter(
            query="q",
            default=None,
            max_length=200,
            pattern=LINE_PATTERN,
            description="Words in the title or body",
        ),
    ) -> Page[MeetingRead]:
        """Secretariat: its province's meetings, drafts too; viewer: its province's, no drafts;
        chair: the meetings its unit is invited to; admin: all."""
        timezone = request.app.state.settings.timezone
        filters = MeetingFilters(
            province_code=province,
            status=status.value if status else None,
            starts_from=_day_bound(date_from, timezone, end=False),
            starts_until=_day_bound(date_to, timezone, end=True),
            text=text,
        )
        return await meetings.list_page(principal, page, filters)

    @post("/", status_code=HTTP_201_CREATED, summary="Create a meeting (secretariat)")
    async def create_meeting(
        self, meetings: MeetingService, principal: Principal, data: MeetingCreate
    ) -> MeetingRead:
        """Create a draft (or directly scheduled) meeting of the caller's province."""
        if not principal.manages_province(data.province_code):
            raise PermissionDeniedError(N_("You may only schedule meetings of your own province"))
        meeting = await meetings.create_meeting(
            province_code=data.province_code,
            title=data.title,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            convening_body=data.convening_body,
            presiding_official=data.presiding_official,
            description=data.description,
            host_point_id=data.host_point_id,
            status=MeetingStatus(data.status),
            agenda=[AgendaEntry(a.title, a.presenter, a.starts_at) for a in data.agenda],
            created_by_id=principal.id,
            actor=principal,
            connection=ConnectionChanges(
                conference_url=data.conference_url,
                conference_room=data.conference_room,
                technician_phone=data.technician_phone,
                line_test_at=data.line_test_at,
            ),
            reminder_minutes=data.reminder_minutes,
            roll_call=RollCallChanges(
                roll_call_opens_at=data.roll_call_opens_at,
                delegates_min=data.delegates_min,
                delegates_max=data.delegates_max,
            ),
        )
        return await _read(meetings, meeting.id, principal)

    @get("/{meeting_id:int}", summary="One meeting")
    async def get_meeting(
        self, meetings: MeetingService, principal: Principal, meeting_id: Id
    ) -> MeetingRead:
        """One meeting with its agenda; 403 when it is not the caller's to see."""
        return await _read(meetings, meeting_id, principal)

    @patch("/{meeting_id:int}", summary="Change a meeting (a reschedule is a change of times)")
    async def update_meeting(
        self, meetings: MeetingService, principal: Principal, meeting_id: Id, data: MeetingUpdate
    ) -> MeetingRead:
        """A partial update; invitations and chairs are kept."""
        meeting = await meetings.get_managed(principal, meeting_id)
        changes = MeetingChanges(
            title=None if data.title is UNSET else data.title,
            convening_body=None if data.convening_body is UNSET else data.convening_body,
            presiding_official=None
            if data.presiding_official is UNSET
            else data.presiding_official,
            description=None if data.description is UNSET else data.description,
            starts_at=None if data.starts_at is UNSET else data.starts_at,
            ends_at=None if data.ends_at is UNSET else data.ends_at,
            host_point_id=None if data.host_point_id is UNSET else data.host_point_id,
            agenda=None
            if data.agenda is UNSET
            else [AgendaEntry(a.title, a.presenter, a.starts_at) for a in data.agenda],
            shift_agenda=data.agenda is UNSET if data.shift_agenda is UNSET else data.shift_agenda,
            connection=_connection_changes(data),
            reminders=data.reminder_minutes if isinstance(data.reminder_minutes, list) else None,
            reminders_default=data.reminder_minutes is None,
            roll_call=RollCallChanges(
                roll_call_opens_at=None
                if data.roll_call_opens_at is UNSET
                else data.roll_call_opens_at,
                opens_default=data.roll_call_opens_at is None,
                delegates_min=None if data.delegates_min is UNSET else data.delegates_min,
                delegates_max=None if data.delegates_max is UNSET else data.delegates_max,
            ),
        )
        await meetings.update_meeting(meeting, principal, changes)
        return await _read(meetings, meeting_id, principal)

    @post("/{meeting_id:int}/status", status_code=HTTP_200_OK, summary="Move the meeting a step")
    async def change_status(
        self, meetings: MeetingService, principal: Principal, meeting_id: Id, data: StatusChange
    ) -> MeetingRead:
        """`draft → scheduled → live → ended`, or `cancelled` with a reason; else 409."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await meetings.change_status(meeting, principal, data.status, data.reason)
        return await _read(meetings, meeting_id, principal)

    @post("/{meeting_id:int}/copy", status_code=HTTP_201_CREATED, summary="Copy to a new date")
    async def copy_meeting(
        self, meetings: MeetingService, principal: Principal, meeting_id: Id, data: MeetingCopy
    ) -> MeetingRead:
        """A new draft with the same agenda, invitations and chairs (no check-ins)."""
        meeting = await meetings.get_managed(principal, meeting_id)
        copy = await meetings.copy_meeting(
            meeting, principal, data.starts_at, data.ends_at, data.title
        )
        return await _read(meetings, copy.id, principal)

    @get("/{meeting_id:int}/audit", summary="Who changed what, newest first (secretariat)")
    async def audit_log(
        self, meetings: MeetingService, principal: Principal, meeting_id: Id, page: PageRequest
    ) -> Page[AuditEntryRead]:
        """The meeting's audit log."""
        await meetings.get_managed(principal, meeting_id)
        entries = await audit.entries(meetings.session, meeting_id)
        items = [
            AuditEntryRead(
                id=e.id, at=e.created_at, actor=e.actor_label, action=e.action, details=e.details
            )
            for e in entries[page.offset : page.offset + page.limit]
        ]
        return Page(items=items, total=len(entries), limit=page.limit, offset=page.offset)


def _connection_changes(data: MeetingUpdate) -> ConnectionChanges:
    """A PATCH's connection details: a field left out is unchanged, null or "" removes it (the
    line test goes back to 30 minutes before the start)."""

    def text(value: str | UnsetType | None) -> str | None:
        return None if value is UNSET else (value or "")

    return ConnectionChanges(
        conference_url=text(data.conference_url),
        conference_room=text(data.conference_room),
        technician_phone=text(data.technician_phone),
        line_test_at=None if data.line_test_at is UNSET else data.line_test_at,
        line_test_default=data.line_test_at is None,
    )
