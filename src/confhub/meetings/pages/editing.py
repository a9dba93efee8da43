"""The secretariat's forms for a meeting: create, edit (a reschedule is an edit of the times),
move it a step (`draft → scheduled → live → ended`, or cancelled with a reason), copy it.

Every form posts, and a success answers with a redirect (Post/Redirect/Get) carrying `?done=`;
bad input shows the same page again, with the message next to the field and what was typed.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template

from confhub.accounts.guards import (
    current_principal,
    provide_required_principal,
    requires_login,
    requires_role,
)
from confhub.accounts.models import Role
from confhub.accounts.principal import Principal
from confhub.core.errors import ConfhubError, InvalidInputError
from confhub.core.forms import form_text, page_errors, see_other, submit
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.messages import Message
from confhub.core.text import check_line, check_text, is_digits
from confhub.core.timefmt import format_clock, format_input_datetime
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.models import Meeting
from confhub.meetings.pages.forms import MAX_TITLE, AgendaRow, MeetingForm, parse_local_datetime
from confhub.meetings.pages.views import province_points, render_meeting, settings_of
from confhub.meetings.services import CLOSED_STATUSES, MeetingService
from confhub.units.deps import provide_unit_service
from confhub.units.services import UnitService

MAX_REASON = 2000


def form_of(meeting: Meeting, timezone: str) -> MeetingForm:
    """The edit form filled with a meeting's values (times in the province's zone)."""
    return MeetingForm(
        title=meeting.title,
        convening_body=meeting.convening_body,
        presiding_official=meeting.presiding_official,
        description=meeting.description,
        starts_at=format_input_datetime(meeting.starts_at, timezone),
        ends_at=format_input_datetime(meeting.ends_at, timezone),
        host_point_id=str(meeting.host_point_id or ""),
        province_code=str(meeting.province_code),
        conference_url=meeting.conference_url or "",
        conference_room=meeting.conference_room or "",
        technician_phone=meeting.technician_phone or "",
        # Empty while it is the default (30 minutes before the start, moving with it).
        line_test_at=format_input_datetime(meeting.line_test_at, timezone)
        if meeting.line_test_at
        else "",
        reminders=[str(m) for m in meeting.reminders],
        roll_call_opens_at=format_input_datetime(meeting.roll_call_opens_at, timezone)
        if meeting.roll_call_opens_at
        else "",
        delegates_min=str(meeting.delegates_min),
        delegates_max=str(meeting.delegates_max),
        agenda=[
            AgendaRow(
                time=format_clock(a.starts_at, timezone) if a.starts_at else "",
                title=a.title,
                presenter=a.presenter,
            )
            for a in meeting.agenda_items
        ],
        shift_agenda=True,
    )


def _province_of(principal: Principal, chosen: str, default: int | None) -> int | None:
    """The province a new meeting is for: the secretariat's own; an admin's choice."""
    if not principal.is_admin:
        return principal.province_code
    if is_digits(chosen) and len(chosen) < 6:
        return int(chosen)
    return principal.province_code or default


class EditingPagesController(Controller):
    """`/meetings/new`, `/meetings/{id}/edit`, `/status` and `/copy`."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "units": Provide(provide_unit_service),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    async def _form_page(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        form: MeetingForm,
        *,
        meeting: Meeting | None,
        province_code: int,
        status_code: int = 200,
        units: UnitService | None = None,
    ) -> Template:
        """The form's page; a new meeting's (given `units`) lets an admin choose its province."""
        principal = current_principal(request)
        admin = principal is not None and principal.is_admin
        context: dict[str, Any] = {
            "form": form,
            "meeting": meeting,
            "closed": meeting is not None and meeting.status in CLOSED_STATUSES,
            "hosts": await province_points(meetings.session, province_code),
            "timezone": settings_of(request).timezone,
            "provinces": await units.list_provinces()
            if units is not None and meeting is None and admin
            else None,
            "errors": page_errors(request, form.errors),
        }
        return Template("meetings/edit.html", context=context, status_code=status_code)

    @get("/meetings/new", name="meeting_new", guards=[requires_role(Role.SECRETARIAT)])
    async def new_form(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        units: UnitService,
        principal: Principal,
        province: str | None = Parameter(query="province", default=None, max_length=10),
    ) -> Template:
        """An empty form; the province's main point is the default host."""
        settings = settings_of(request)
        code = _province_of(principal, (province or "").strip(), settings.default_province)
        if code is None:
            raise InvalidInputError("province", N_("choose a province"))
        hosts = await province_points(meetings.session, code)
        main = next((p for p in hosts if p.default_key == f"province:{code}"), None)
        form = MeetingForm(host_point_id=str(main.id) if main else "", province_code=str(code))
        return await self._form_page(
            request, meetings, form, meeting=None, province_code=code, units=units
        )

    @post("/meetings/new", guards=[requires_role(Role.SECRETARIAT)])
    async def create(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        units: UnitService,
        principal: Principal,
    ) -> Template | Redirect:
        """Create a draft from the form, then show it."""
        settings = settings_of(request)
        form = MeetingForm.from_form(await request.form())
        code = _province_of(principal, form.province_code, settings.default_province)
        changes = form.changes(settings.timezone)
        if code is None:
            unknown = Message(N_("There is no province with code %(code)s."), {"code": 0})
            form.errors.setdefault("province_code", unknown)

        async def refused(error: ConfhubError | None = None) -> Template:
            if error is not None:
                form.add_error(error)
            return await self._form_page(
                request,
                meetings,
                form,
                meeting=None,
                province_code=code or 0,
                status_code=400,
                units=units,
            )

        starts_at, ends_at = changes.starts_at, changes.ends_at
        if form.errors or code is None or starts_at is None or ends_at is None:
            return await refused()
        return await submit(
            meetings.session,
            lambda: meetings.create_meeting(
                province_code=code,
                title=form.title,
                starts_at=starts_at,
                ends_at=ends_at,
                convening_body=form.convening_body,
                presiding_official=form.presiding_official,
                description=form.description,
                host_point_id=changes.host_point_id,
                agenda=changes.agenda or [],
                created_by_id=principal.id,
                actor=principal,
                connection=changes.connection,
                reminder_minutes=changes.reminders,
                roll_call=changes.roll_call,
            ),
            done=lambda meeting: see_other(f"/meetings/{meeting.id}", "created"),
            refused=refused,
        )

    @get("/meetings/{meeting_id:int}/edit", name="meeting_edit")
    async def edit_form(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template:
        """The meeting's values in the form; a closed meeting says it can no longer change."""
        meeting = await meetings.get_managed(principal, meeting_id)
        form = form_of(meeting, settings_of(request).timezone)
        return await self._form_page(
            request, meetings, form, meeting=meeting, province_code=meeting.province_code
        )

    @post("/meetings/{meeting_id:int}/edit")
    async def update(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template | Redirect:
        """Save the form; invitations and chairs stay as they are."""
        meeting = await meetings.get_managed(principal, meeting_id)
        form = MeetingForm.from_form(await request.form())
        changes = form.changes(settings_of(request).timezone, meeting.starts_at)

        async def refused(error: ConfhubError | None = None) -> Template:
            if error is not None:
                form.add_error(error)
            again = await meetings.get_managed(principal, meeting_id)
            return await self._form_page(
                request,
                meetings,
                form,
                meeting=again,
                province_code=again.province_code,
                status_code=400,
            )

        if form.errors:
            return await refused()
        return await submit(
            meetings.session,
            lambda: meetings.update_meeting(meeting, principal, changes),
            done=see_other(f"/meetings/{meeting_id}", "updated"),
            refused=refused,
        )

    @post("/meetings/{meeting_id:int}/status")
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template | Redirect:
        """One step of the meeting's life; an impossible one is explained on the page (409)."""
        meeting = await meetings.get_managed(principal, meeting_id)
        form = await request.form()
        status, reason = form_text(form, "status"), form_text(form, "reason")

        async def change() -> None:
            if len(reason) > MAX_REASON:
                raise InvalidInputError("reason", N_("At most %(n)s characters."), n=MAX_REASON)
            check_text("reason", reason)
            await meetings.change_status(meeting, principal, status, reason)

        async def refused(error: ConfhubError) -> Template:
            key = "reason" if error.field == "reason" else "status"
            return await render_meeting(
                request,
                meetings,
                meeting_id,
                errors={key: error.message},
                values={"reason": reason},
            )

        return await submit(
            meetings.session,
            change,
            done=see_other(f"/meetings/{meeting_id}", "status", status=status),
            refused=refused,
        )

    @post("/meetings/{meeting_id:int}/copy")
    async def copy(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template | Redirect:
        """A new draft on another date with the same agenda, points and chairs; shown next."""
        meeting = await meetings.get_managed(principal, meeting_id)
        form = await request.form()
        starts_raw, title = form_text(form, "starts_at"), form_text(form, "title")

        async def copy() -> Meeting:
            starts_at = parse_local_datetime(starts_raw, settings_of(request).timezone, "starts_at")
            if len(title) > MAX_TITLE:
                raise InvalidInputError("title", N_("At most %(n)s characters."), n=MAX_TITLE)
            check_line("title", title)
            return await meetings.copy_meeting(meeting, principal, starts_at, None, title or None)

        return await submit(
            meetings.session,
            copy,
            done=lambda copied: see_other(f"/meetings/{copied.id}", "copied"),
            refused=lambda error: render_meeting(
                request,
                meetings,
                meeting_id,
                errors={"copy": error.message},
                values={"copy_starts_at": starts_raw, "copy_title": title},
            ),
        )
