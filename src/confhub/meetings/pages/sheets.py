"""Sheets of a meeting's points: the chair sheet (download, upload with a preview, confirm) and
the printable A4 sheet of every point's check-in QR code.

An uploaded chair sheet is never saved at upload: the preview shows every row and what is wrong
with it; only a sheet without errors offers "confirm", which sends the rows back (a hidden JSON
field) and `chair_import.apply` checks them all again before writing any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from functools import lru_cache
from typing import Any

import anyio.to_thread
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.di import Provide
from litestar.response import Redirect, Template

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.core.errors import ConfhubError, InvalidInputError
from confhub.core.forms import form_text, page_errors, see_other, submit
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.messages import Renderable
from confhub.core.spreadsheets import Cell, csv_bytes
from confhub.core.uploads import UPLOAD_ROUTE, read_upload_form
from confhub.meetings import chair_import, qr
from confhub.meetings.deps import provide_invitation_service, provide_meeting_service
from confhub.meetings.invitations import EDITABLE_STATUSES, InvitationService
from confhub.meetings.models import Meeting
from confhub.meetings.pages.points import render_points
from confhub.meetings.pages.views import settings_of
from confhub.meetings.services import MeetingService
from confhub.meetings.sheet_limits import MAX_FILE_BYTES, MAX_ROWS, too_large_file
from confhub.meetings.sheet_reader import read_upload

QR_PER_PAGE = 12  # 3 columns × 4 rows on A4
SHEET_HEADER = ("Mã đơn vị", "Đơn vị", "Họ và tên", "Chức vụ", "Điện thoại")
# The confirmed rows, as the preview carried them: a sheet is confirmed only when every row is
# right, so each fits in under 1,000 characters of JSON (a unit, a name of 200, a title of 300,
# a phone of 40). Anything longer was not made by the preview page.
ROWS_FIELD_MAX_CHARS = MAX_ROWS * 1000


@lru_cache(maxsize=2048)
def _qr_svg(link: str) -> str:
    """A point's QR code, kept: a sheet of 166 codes is drawn again each time it is printed."""
    return qr.qr_svg(link, fit=True)


def _rows_from_json(raw: str) -> list[chair_import.SheetRow]:
    """The rows a preview page carried in its hidden field, checked for shape."""
    if len(raw) > ROWS_FIELD_MAX_CHARS:
        raise InvalidInputError("file", N_("The CSV file cannot be read."))
    try:
        rows = msgspec.json.decode(raw.encode(), type=list[chair_import.SheetRow])
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise InvalidInputError("file", N_("The CSV file cannot be read.")) from None
    if len(rows) > MAX_ROWS:
        raise InvalidInputError("file", N_("the sheet has more than %(n)s rows"), n=MAX_ROWS)
    return rows


def _preview_page(
    request: Request[Any, Any, Any],
    meeting: Meeting,
    preview: chair_import.ImportPreview,
    rows: list[chair_import.SheetRow],
    *,
    filename: str = "",
    error: Renderable | None = None,
    status_code: int = 200,
    imported: int | None = None,
) -> Template:
    """The sheet's rows checked (before an import), or the rows an import left (`imported`:
    how many chairs it assigned)."""
    context = {
        "imported": imported,
        "meeting": meeting,
        "preview": preview,
        "rows_json": msgspec.json.encode([asdict(r) for r in rows]).decode(),
        "filename": filename,
        "open": meeting.status in EDITABLE_STATUSES,
        "errors": page_errors(request, {"_form": error} if error else None),
    }
    return Template("meetings/chair_preview.html", context=context, status_code=status_code)


class SheetPagesController(Controller):
    """`/meetings/{id}/chairs…` and `/meetings/{id}/qr-sheet` (the secretariat's)."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "invitations": Provide(provide_invitation_service),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    @post("/meetings/{meeting_id:int}/chairs/preview", **UPLOAD_ROUTE)
    async def preview(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template:
        """Read the uploaded sheet and show what every row would do; nothing is saved."""
        meeting = await meetings.get_managed(principal, meeting_id)
        body_limit = settings_of(request).max_request_body_bytes
        sent = await read_upload_form(request, MAX_FILE_BYTES, body_limit)
        upload = sent.form.get("file")
        filename = upload.filename if isinstance(upload, UploadFile) else ""

        async def read() -> Template:
            if sent.too_large:
                raise too_large_file()
            data = await read_upload(upload) if isinstance(upload, UploadFile) else b""
            rows = await chair_import.read_sheet(data, filename)
            checked = await chair_import.preview(meetings.session, meeting, principal, rows)
            return _preview_page(request, meeting, checked, rows, filename=filename)

        try:
            return await read()
        except InvalidInputError as error:
            return await render_points(
                request,
                meetings,
                principal,
                meeting_id,
                errors={"chair_file": error.message},
                status_code=400,
            )

    @post("/meetings/{meeting_id:int}/chairs/import")
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template | Redirect:
        """Assign the chair of every right row; when some rows were left, the page lists them
        with their reasons (else back to the points, saying how many were imported)."""
        meeting = await meetings.get_managed(principal, meeting_id)
        form = await request.form()

        def done(outcome: chair_import.ImportOutcome) -> Redirect | Template:
            if outcome.preview.ok:
                return see_other(
                    f"/meetings/{meeting_id}/points", "chairs_imported", n=outcome.count
                )
            return _preview_page(request, meeting, outcome.preview, [], imported=outcome.count)

        async def apply() -> chair_import.ImportOutcome:
            rows = _rows_from_json(form_text(form, "rows"))
            return await chair_import.apply(
                meetings.session,
                meeting,
                principal,
                rows,
                this_meeting_only=bool(form_text(form, "this_meeting_only")),
            )

        return await submit(
            meetings.session,
            apply,
            done=done,
            refused=lambda error: self._refused(
                request, meetings, principal, meeting_id, form, error
            ),
        )

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        form: FormMultiDict,
        error: ConfhubError,
    ) -> Template:
        """The preview again with what is now wrong, or the table when the sheet is unusable."""
        meeting = await meetings.get_managed(principal, meeting_id)
        try:
            rows = _rows_from_json(form_text(form, "rows"))
        except InvalidInputError:
            rows = []
        if not isinstance(error, InvalidInputError) or not rows:
            return await render_points(
                request, meetings, principal, meeting_id, errors={"chair_file": error.message}
            )
        checked = await chair_import.preview(meetings.session, meeting, principal, rows)
        return _preview_page(request, meeting, checked, rows, error=error.message)

    @get("/meetings/{meeting_id:int}/chairs.csv", name="chair_sheet")
    async def chair_sheet(
        self,
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
    ) -> Response[bytes]:
        """The invited units and their chairs as a CSV to fill in and upload again."""
        await meetings.get_managed(principal, meeting_id)
        rows: list[Sequence[Cell]] = [SHEET_HEADER]
        for point in await invitations.invited_points(meeting_id):
            if point.unit_code is None:
                continue  # the province's own point has no unit to name in a sheet
            rows.append(
                (
                    point.unit_code,
                    point.unit_name or "",
                    point.chair_name or "",
                    point.chair_title or "",
                    point.chair_phone or "",
                )
            )
        body = csv_bytes(rows)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="chairs-{meeting_id}.csv"',
                "Cache-Control": "private, no-store",
            },
        )

    @get("/meetings/{meeting_id:int}/qr-sheet", name="qr_sheet")
    async def qr_sheet(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        invitations: InvitationService,
        principal: Principal,
        meeting_id: Id,
    ) -> Template:
        """Every point's QR code with its unit, point, chair and link: 12 to an A4 page."""
        meeting = await meetings.get_managed(principal, meeting_id)
        settings = settings_of(request)
        points = await invitations.invited_points(meeting_id)
        linked = [
            (point, qr.checkin_url(settings, point.checkin_token))
            for point in points
            if point.checkin_token
        ]
        revoked = len(points) - len(linked)
        # Drawing a code takes segno about 4 ms: a national sheet's 3,321 would hold
        # up every live socket of the process for some 14 s on the event loop.
        svgs = await anyio.to_thread.run_sync(lambda: [_qr_svg(link) for _, link in linked])
        cells = [
            {"point": point, "link": link, "svg": svg}
            for (point, link), svg in zip(linked, svgs, strict=True)
        ]
        pages = [cells[i : i + QR_PER_PAGE] for i in range(0, len(cells), QR_PER_PAGE)]
        return Template(
            "meetings/qr_sheet.html",
            context={"meeting": meeting, "pages": pages, "count": len(cells), "revoked": revoked},
            headers={"Cache-Control": "private, no-store"},
        )
