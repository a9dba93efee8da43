"""`/api/v1/meetings/{id}/points` and `/invitations`: invited points, chairs, check-in links."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.accounts.visibility import sees_chair
from confhub.core.errors import NotFoundError
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.pagination import Page, PageRequest, provide_page_request
from confhub.meetings import chair_import, links, qr
from confhub.meetings.deps import provide_invitation_service, provide_meeting_service
from confhub.meetings.invitations import InvitationService, InvitedPoint, listed_extras
from confhub.meetings.schemas import (
    ChairWrite,
    FileUpload,
    ImportResult,
    ImportRowRead,
    InvitationRequest,
    InvitationResult,
    InvitedPointRead,
)
from confhub.meetings.services import ChairAssignment, MeetingService
from confhub.meetings.sheet_reader import read_upload
from confhub.settings import Settings

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def point_read(
    point: InvitedPoint, settings: Settings, manager: bool, extra: dict[str, Any] | None = None
) -> InvitedPointRead:
    """The API view of an invited point; the link only for those who manage the meeting, the
    chair's phone for them and the point's own unit (`point` comes already without the chair's
    name and phone for anyone else: see `accounts.visibility`). `extra`: what the domains above
    add (the notice state)."""
    extra = extra or {}
    return InvitedPointRead(
        point_id=point.point_id,
        point_name=point.point_name,
        unit_code=point.unit_code,
        unit_name=point.unit_name,
        unit_type=point.unit_type,
        chair_name=point.chair_name,
        chair_title=point.chair_title,
        chair_is_sample=point.chair_is_sample,
        has_chair=point.has_chair,
        notice_state=extra.get("notice_state", "none"),
        acknowledgement=extra.get("acknowledgement"),
        chair_phone=point.chair_phone,
        checkin_url=qr.checkin_url(settings, point.checkin_token)
        if manager and point.checkin_token
        else None,
    )


def import_result(
    preview: chair_import.ImportPreview, applied: bool, imported: int = 0
) -> ImportResult:
    """The API view of a chair sheet preview, or of an import (`imported` chairs assigned)."""
    return ImportResult(
        ok=preview.ok,
        applied=applied,
        error_count=preview.error_count,
        imported_count=imported,
        rows=[
            ImportRowRead(
                row_number=r.row_number,
                unit_entry=r.unit_entry,
                unit_code=r.unit_code,
                unit_name=r.unit_name,
                chair_name=r.chair_name,
                chair_title=r.chair_title,
                chair_phone=r.chair_phone,
                error=r.error,
                chair_email=r.chair_email,
                notes=[note.render() for note in r.notes],
            )
            for r in preview.rows
        ],
    )


class InvitationApiController(Controller):
    """Who is invited to a meeting, who chairs each point, and the points' check-in links."""

    path = "/api/v1/meetings/{meeting_id:int}"
    tags = ["invitations"]
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "invitations": Provide(provide_invitation_service),
        "page": Provide(provide_page_request, sync_to_thread=False),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    @get("/points", summary="The invited points with their chairs")
    async def list_points(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        page: PageRequest,
        meeting_id: Id,
        without_chair: bool = Parameter(query="without_chair", default=False),
    ) -> Page[InvitedPointRead]:
        """Every invited point; the secretariat also sees phones and `checkin_url`."""
        meeting = await meetings.get_visible(principal, meeting_id)
        manager = principal.manages_province(meeting.province_code)
        points = [
            p
            if sees_chair(principal, meeting.province_code, p.unit_code)
            else p.without_chair_identity()
            for p in await invitations.invited_points(meeting_id)
        ]
        if without_chair:
            points = [p for p in points if not p.has_chair]
        settings = request.app.state.settings
        shown = points[page.offset : page.offset + page.limit]
        extras = await listed_extras(meetings.session, meeting_id, shown)
        items = [point_read(p, settings, manager, extras.get(p.point_id)) for p in shown]
        return Page(items=items, total=len(points), limit=page.limit, offset=page.offset)

    @get("/links.csv", media_type=CSV, summary="Every invited point's check-in link (CSV)")
    async def links_csv(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
    ) -> Response[bytes]:
        """Unit code, name, chair, phone and check-in link of every invited point (UTF-8 with a
        byte order mark, commas); the secretariat's only: each link answers for its point."""
        return await self._links(request, meetings, invitations, principal, meeting_id, "csv")

    @get("/links.xlsx", media_type=XLSX, summary="Every invited point's check-in link (XLSX)")
    async def links_xlsx(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
    ) -> Response[bytes]:
        """The same sheet as a workbook."""
        return await self._links(request, meetings, invitations, principal, meeting_id, "xlsx")

    async def _links(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        fmt: str,
    ) -> Response[bytes]:
        await meetings.get_managed(principal, meeting_id)
        points = await invitations.invited_points(meeting_id)
        body = await links.export(request.app.state.settings, points, fmt)
        filename = f"duong-dan-diem-danh-{meeting_id}.{fmt}"
        return Response(
            body,
            media_type=CSV if fmt == "csv" else XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "private, no-store",
            },
        )

    @post("/invitations", status_code=HTTP_200_OK, summary="Invite points")
    async def invite(
        self,
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        data: InvitationRequest,
    ) -> InvitationResult:
        """`{"all_units": true}`, `{"unit_types": ["phường"]}`, `{"unit_codes": [15148, "Xã Cẩm
        Tú"]}` (codes or names) or `{"point_ids": [...]}`; one bad entry invites nothing."""
        meeting = await meetings.get_managed(principal, meeting_id)
        result = await invitations.invite(
            meeting,
            principal,
            all_units=data.all_units,
            unit_types=data.unit_types,
            unit_codes=data.unit_codes,
            point_ids=data.point_ids,
        )
        counts = await meetings.invited_counts([meeting_id])
        return InvitationResult(
            added=result.added,
            already_invited=result.already_invited,
            invited_count=counts.get(meeting_id, 0),
        )

    @delete("/points/{point_id:int}", status_code=HTTP_204_NO_CONTENT, summary="Uninvite a point")
    async def remove_point(
        self,
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> None:
        """Withdraw the invitation; its check-in link stops working."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await invitations.remove(meeting, principal, point_id)

    @put("/points/{point_id:int}/chair", summary="Name the chair of a point")
    async def set_chair(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
        data: ChairWrite,
    ) -> InvitedPointRead:
        """Set the chair's name, title and phone."""
        meeting = await meetings.get_managed(principal, meeting_id)
        chair = ChairAssignment(name=data.name, title=data.title, phone=data.phone)
        await invitations.set_chair(meeting, principal, point_id, chair)
        return await self._point(request, invitations, meeting_id, point_id)

    @delete("/points/{point_id:int}/chair", status_code=HTTP_204_NO_CONTENT, summary="Clear chair")
    async def clear_chair(
        self,
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> None:
        """Remove the chair of a point (it is flagged as without chair again)."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await invitations.set_chair(meeting, principal, point_id, None)

    @post(
        "/points/{point_id:int}/checkin-link/revoke",
        status_code=HTTP_200_OK,
        summary="Revoke a point's check-in link",
    )
    async def revoke_link(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> InvitedPointRead:
        """The link stops working at once; re-issue gives a new one."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await invitations.revoke_token(meeting, principal, point_id)
        return await self._point(request, invitations, meeting_id, point_id)

    @post(
        "/points/{point_id:int}/checkin-link/reissue",
        status_code=HTTP_200_OK,
        summary="Issue a new check-in link",
    )
    async def reissue_link(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> InvitedPointRead:
        """A new unguessable link; the previous one stops working."""
        meeting = await meetings.get_managed(principal, meeting_id)
        await invitations.reissue_token(meeting, principal, point_id)
        return await self._point(request, invitations, meeting_id, point_id)

    @get(
        "/points/{point_id:int}/qr.svg",
        media_type="image/svg+xml",
        summary="QR code of a point's check-in link",
    )
    async def qr_code(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
        point_id: Id,
    ) -> Response[bytes]:
        """An SVG of the check-in link, to print or show on a screen; 404 when revoked."""
        await meetings.get_managed(principal, meeting_id)
        invitation = await invitations.invitation(meeting_id, point_id)
        if invitation.checkin_token is None:
            raise NotFoundError(N_("This point's check-in link is revoked; issue a new one"))
        url = qr.checkin_url(request.app.state.settings, invitation.checkin_token)
        return Response(
            qr.qr_svg_document(url),
            media_type="image/svg+xml",
            headers={"Cache-Control": "private, no-store"},
        )

    @post(
        "/chairs/import",
        status_code=HTTP_200_OK,
        summary="Assign chairs from a CSV or XLSX sheet (dry_run previews)",
    )
    async def import_chairs(
        self,
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        dry_run: bool = Parameter(query="dry_run", default=False),
        this_meeting_only: bool = Parameter(query="this_meeting_only", default=False),
    ) -> ImportResult:
        """Columns: unit code or name, chair's name, title, phone, e-mail. Every row is checked
        first; the right rows are imported (`imported_count`) and the others left, each with its
        `error` (an unknown unit: "did you mean …" the invited units close to it); with no right
        row nothing is saved (400 naming the rows). The points' directory
        takes the chairs too, unless `this_meeting_only`; a phone whose leading 0 a spreadsheet
        lost is restored and named in the row's `notes`."""
        meeting = await meetings.get_managed(principal, meeting_id)
        session = meetings.session
        upload = data.data
        rows = await chair_import.read_sheet(await read_upload(upload), upload.filename)
        if dry_run:
            preview = await chair_import.preview(session, meeting, principal, rows)
            return import_result(preview, applied=False)
        outcome = await chair_import.apply(
            session, meeting, principal, rows, this_meeting_only=this_meeting_only
        )
        return import_result(outcome.preview, applied=True, imported=outcome.count)

    async def _point(
        self,
        request: Request[Any, Any, Any],
        invitations: InvitationService,
        meeting_id: Id,
        point_id: Id,
    ) -> InvitedPointRead:
        points = await invitations.invited_points(meeting_id)
        point = next(p for p in points if p.point_id == point_id)
        extras = await listed_extras(invitations.session, meeting_id, [point])
        return point_read(point, request.app.state.settings, True, extras.get(point_id))
