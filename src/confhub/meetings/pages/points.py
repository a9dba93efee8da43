"""The invited connection points of a meeting: the table, inviting, and each point's chair and
check-in link (revoke, re-issue, QR code).

Readers of the meeting see the table without phones and links; its secretariat acts on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.core.errors import ConfhubError, InvalidInputError, NotFoundError
from confhub.core.forms import form_text, form_values, page_errors, see_other, submit
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.messages import Renderable
from confhub.core.text import LINE_PATTERN, check_text, is_digits
from confhub.meetings import qr
from confhub.meetings.deps import provide_invitation_service, provide_meeting_service
from confhub.meetings.invitations import InvitationService, InviteResult
from confhub.meetings.models import Meeting
from confhub.meetings.pages.forms import chair_from_form
from confhub.meetings.pages.views import MANAGE, READ, PointFilter, points_context, settings_of
from confhub.meetings.services import MeetingService
from confhub.meetings.sheet_reader import read_upload
from confhub.meetings.unit_list import read_unit_list

INVITE_WAYS = ("all", "types", "pasted", "file", "point")


async def render_points(
    request: Request[Any, Any, Any],
    meetings: MeetingService,
    principal: Principal,
    meeting_id: Id,
    *,
    point_filter: PointFilter | None = None,
    errors: Mapping[str, Renderable] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    """The table of invited points (again, with errors, after a refused action)."""
    meeting = await meetings.get_visible(principal, meeting_id)
    access = MANAGE if principal.manages_province(meeting.province_code) else READ
    context = await points_context(
        request,
        meetings,
        meeting,
        access,
        point_filter or PointFilter(),
        errors=errors,
        values=values,
    )
    return Template("meetings/points.html", context=context, status_code=status_code)


async def _invite(
    invitations: InvitationService, meeting: Meeting, principal: Principal, form: FormMultiDict
) -> InviteResult:
    """Invite the way the submitted form says (one form per way, told by `how`)."""
    how = form_text(form, "how")
    if how == "all":
        return await invitations.invite(meeting, principal, all_units=True)
    if how == "types":
        kinds = [t for t in form.getall("unit_types", []) if isinstance(t, str)]
        return await invitations.invite(meeting, principal, unit_types=kinds)
    if how == "pasted":
        pasted = check_text("pasted", form_text(form, "pasted"))
        return await invitations.invite_pasted(meeting, principal, pasted)
    if how == "file":
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInputError("file", N_("The file is empty."))
        entries = await read_unit_list(await read_upload(upload), upload.filename)
        return await invitations.invite(meeting, principal, unit_codes=entries)
    if how == "point":
        point_id = form_text(form, "point_id")
        if not is_digits(point_id) or len(point_id) > 12:
            raise InvalidInputError("point_ids", N_("Choose at least one unit or point."))
        return await invitations.invite(meeting, principal, point_ids=[int(point_id)])
    raise InvalidInputError("how", N_("Choose at least one unit or point."))


class PointPagesController(Controller):
    """`/meetings/{id}/points…`: invited points, chairs and check-in links."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "invitations": Provide(provide_invitation_service),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    @get("/meetings/{meeting_id:int}/points", name="meeting_points")
    async def points(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        text: str | None = Parameter(query="q", default=None, max_length=200, pattern=LINE_PATTERN),
        without_chair: str | None = Parameter(query="without_chair", default=None, max_length=10),
    ) -> Template:
        """The table, optionally narrowed to words and to points without a chair."""
        point_filter = PointFilter((text or "").strip(), bool(without_chair))
        return await render_points(
            request, meetings, principal, meeting_id, point_filter=point_filter
        )

    @post("/meetings/{meeting_id:int}/invitations")
    async def invite(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template | Redirect:
        """All units, by type, a pasted or uploaded list, or one point; one bad entry invites
        nothing and the list stays in the form."""
        meeting = await meetings.get_managed(principal, meeting_id)
        form = await request.form()
        how = form_text(form, "how")
        values = form_values(form, "pasted", "point_id")
        values["unit_types"] = [t for t in form.getall("unit_types", []) if isinstance(t, str)]
        key = f"invite_{how}" if how in INVITE_WAYS else "invite_all"
        return await submit(
            meetings.session,
            lambda: _invite(invitations, meeting, principal, form),
            done=lambda result: see_other(
                f"/meetings/{meeting_id}/points",
                "invited",
                n=result.added,
                already=result.already_invited or None,
            ),
            refused=lambda error: render_points(
                request, meetings, principal, meeting_id, errors={key: error.message}, values=values
            ),
        )

    @get("/meetings/{meeting_id:int}/points/{point_id:int}", name="meeting_point")
    async def point_page(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> Template:
        """One invited point: its chair, check-in link and QR code."""
        return await self._point_page(
            request, meetings, invitations, principal, meeting_id, point_id
        )

    async def _point_page(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
        *,
        errors: Mapping[str, Renderable] | None = None,
        values: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Template:
        meeting = await meetings.get_managed(principal, meeting_id)
        points = await invitations.invited_points(meeting_id)
        point = next((p for p in points if p.point_id == point_id), None)
        if point is None:
            raise NotFoundError(
                N_("Point %(point)s is not invited to meeting %(meeting)s"),
                point=point_id,
                meeting=meeting_id,
            )
        link = (
            qr.checkin_url(settings_of(request), point.checkin_token)
            if point.checkin_token
            else None
        )
        context = {
            "meeting": meeting,
            "point": point,
            "link": link,
            "qr": qr.qr_svg(link, fit=True) if link else None,
            "errors": page_errors(request, errors),
            "values": values
            or {
                "chair_name": point.chair_name or "",
                "chair_title": point.chair_title or "",
                "chair_phone": point.chair_phone or "",
            },
        }
        return Template("meetings/point.html", context=context, status_code=status_code)

    @post("/meetings/{meeting_id:int}/points/{point_id:int}/chair")
    async def set_chair(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> Template | Redirect:
        """Name the chair presiding at this point."""
        meeting = await meetings.get_managed(principal, meeting_id)
        form = await request.form()
        chair, errors = chair_from_form(form)

        async def refused(error: ConfhubError | None = None) -> Template:
            if error is not None:
                field = error.field or ""
                errors[field if field.startswith("chair_") else "_form"] = error.message
            values = form_values(form, "chair_name", "chair_title", "chair_phone")
            return await self._point_page(
                request,
                meetings,
                invitations,
                principal,
                meeting_id,
                point_id,
                errors=errors,
                values=values,
                status_code=400,
            )

        if errors:
            return await refused()
        return await submit(
            meetings.session,
            lambda: invitations.set_chair(meeting, principal, point_id, chair),
            done=see_other(f"/meetings/{meeting_id}/points", "chair", anchor=f"point-{point_id}"),
            refused=refused,
        )

    @post("/meetings/{meeting_id:int}/points/{point_id:int}/chair/clear")
    async def clear_chair(
        self,
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> Redirect:
        """Remove the chair (the point is flagged as without chair again)."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await invitations.set_chair(meeting, principal, point_id, None)
        return see_other(f"/meetings/{meeting_id}/points/{point_id}", "chair_cleared")

    @post("/meetings/{meeting_id:int}/points/{point_id:int}/remove")
    async def remove(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> Template | Redirect:
        """Withdraw the point's invitation (its check-in link stops working)."""
        meeting = await meetings.get_managed(principal, meeting_id)
        return await submit(
            meetings.session,
            lambda: invitations.remove(meeting, principal, point_id),
            done=see_other(f"/meetings/{meeting_id}/points", "removed"),
            refused=lambda error: render_points(
                request, meetings, principal, meeting_id, errors={"_table": error.message}
            ),
        )

    @post("/meetings/{meeting_id:int}/points/{point_id:int}/revoke")
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> Template | Redirect:
        """The point's check-in link stops working at once."""
        return await self._link_action(
            request, meetings, invitations, principal, meeting_id, point_id, "revoked"
        )

    @post("/meetings/{meeting_id:int}/points/{point_id:int}/reissue")
    async def reissue(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> Template | Redirect:
        """A new check-in link; the previous one stops working."""
        return await self._link_action(
            request, meetings, invitations, principal, meeting_id, point_id, "reissued"
        )

    async def _link_action(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
        done: str,
    ) -> Template | Redirect:
        meeting = await meetings.get_managed(principal, meeting_id)
        act = invitations.revoke_token if done == "revoked" else invitations.reissue_token
        return await submit(
            meetings.session,
            lambda: act(meeting, principal, point_id),
            done=see_other(f"/meetings/{meeting_id}/points/{point_id}", done),
            refused=lambda error: self._point_page(
                request,
                meetings,
                invitations,
                principal,
                meeting_id,
                point_id,
                errors={"_form": error.message},
            ),
        )
