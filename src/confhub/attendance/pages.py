"""The live attendance pages: a chair's check-in page (`/checkin/{token}`, phone-sized) and the
province's live board (`/m/{id}/live`).

The check-in page is rendered complete on the server, so it works without JavaScript; the
modules in static/js/live/ then take over through the websocket. The board is a shell its
socket's snapshot fills, and its list (`/m/{id}/live/list`) is rendered on the server a page at a
time for a reader without JavaScript. The check-in form's plain POST carries an idempotency key
made here, so a double submit is stored once.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.guards import current_principal
from confhub.accounts.principal import Principal
from confhub.attendance import views
from confhub.attendance.deps import provide_attendance_writer
from confhub.attendance.models import RollCallStatus, Signal
from confhub.attendance.presence import HEARTBEAT_EVERY
from confhub.attendance.rollcall import CheckinOutcome, find_checkin
from confhub.attendance.schemas import (
    MAX_KEY,
    MAX_PRESIDING_NAME,
    MAX_PRESIDING_POSITION,
    MAX_TEXT,
    CheckinWrite,
    decode_checkin,
)
from confhub.attendance.speaking import queue as speaking_queue
from confhub.attendance.speaking import record as speaking_record
from confhub.attendance.writer import AttendanceWriter
from confhub.core.errors import (
    ConfhubError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    wants_json,
)
from confhub.core.forms import page_errors, submit
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.messages import Message, Renderable
from confhub.core.text import LINE_PATTERN, is_text
from confhub.db import DbSession
from confhub.db.transactions import release_connection
from confhub.meetings.actors import ANSWERING_STATUSES, Actor
from confhub.meetings.deps import provide_invitation_service, provide_meeting_service
from confhub.meetings.invitations import InvitationService
from confhub.meetings.models import Invitation, Meeting, MeetingStatus
from confhub.meetings.roll_call_limits import OUT_OF_BOUNDS, is_roll_call_open, local_moment
from confhub.meetings.services import MeetingService
from confhub.notices.acknowledgements import acknowledge, answer_of, decode_acknowledgement
from confhub.units.matching import fold

HISTORY_SHOWN = 5
# Tiles a page of the board without JavaScript (`/m/{id}/live/list`); a national meeting's
# 3,321 would take the event loop ~155 ms and 2.5 MB a page.
BOARD_PAGE = 200
CLOSED_STATUSES = frozenset({MeetingStatus.ENDED.value, MeetingStatus.CANCELLED.value})
READY_SIGNALS = frozenset({Signal.TEST_OK.value, Signal.CONNECTED.value})
# The board's filters (`?show=`), in the order the page offers them.
BOARD_FILTERS = ("all", "not_ready", "absent", "pending", "offline")
# What the invitation form says of a refused field.
ACK_ERRORS: dict[str, str] = {
    "status": N_("Choose “Received” or “Cannot attend”."),
    "delegates_expected": N_("Enter the number of delegates expected."),
    "reason": N_("Say why the point cannot attend."),
}
# Live pages are never served from a cache (nor from the back/forward cache with a stale form).
NO_STORE = {"Cache-Control": "no-store"}
# What the form says of a refused field (the schema's refusals, in the page's words).
FIELD_ERRORS = {
    "status": N_("Choose “Present” or “Absent”."),
    "delegates_present": N_("Enter the number of delegates present."),
    "reason": N_("Say why the point is absent."),
}


@dataclass
class CheckinForm:
    """The roll-call form as typed (shown again when refused); `answer()` decodes it with the
    check-in schema of every door, and `errors()` says what is wrong as the page's message ids."""

    status: str = ""
    delegates_present: str = ""
    reason: str = ""
    presiding_name: str = ""
    presiding_position: str = ""
    idempotency_key: str = ""

    @classmethod
    def from_form(cls, form: FormMultiDict) -> CheckinForm:
        """Read the submitted fields (files and missing fields read as empty; a text area and
        the hidden key hold no more than their fields may)."""

        def text(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""

        return cls(
            status=text("status"),
            delegates_present=text("delegates_present"),
            reason=text("reason")[:MAX_TEXT],
            presiding_name=text("presiding_name")[:MAX_PRESIDING_NAME],
            presiding_position=text("presiding_position")[:MAX_PRESIDING_POSITION],
            idempotency_key=text("idempotency_key")[:MAX_KEY],
        )

    def answer(self, point_id: int) -> CheckinWrite:
        """The answer for the link's point; `InvalidInputError` names what is wrong."""
        fields: dict[str, Any] = {
            "point_id": point_id,
            "status": self.status,
            "idempotency_key": self.idempotency_key,
        }
        # The number stays in its field when "Absent" is chosen: it is no part of that answer.
        if self.status == RollCallStatus.PRESENT.value:
            if self.delegates_present:
                fields["delegates_present"] = self.delegates_present
            fields["presiding_name"] = self.presiding_name
            fields["presiding_position"] = self.presiding_position
        if self.reason:
            fields["reason"] = self.reason
        return decode_checkin(fields)

    def errors(self, refused: ConfhubError) -> dict[str, Renderable]:
        """What the page shows for a refused answer, by field (`_form`: above it): the form's
        own words for its fields, else the refusal's own message."""
        field = refused.field if isinstance(refused, InvalidInputError) else None
        if field == "idempotency_key":
            # A key no answer can be stored under is dropped: the page shown again gets a new one.
            self.idempotency_key = ""
            return {"_form": Message(N_("The form has expired; please send it again."))}
        if field == "reason" and not is_text(self.reason):
            return {
                "reason": Message(N_("Remove the control characters (invisible ones such as NUL)."))
            }
        if field in ("presiding_name", "presiding_position"):
            return {field: Message(N_("One line of text, without control characters."))}
        if field == "delegates_present" and (bounds := out_of_bounds(refused)):
            return {field: bounds}
        if field in FIELD_ERRORS:
            return {field: Message(FIELD_ERRORS[field])}
        return {"_form": refused.message}


def out_of_bounds(refused: ConfhubError) -> Message | None:
    """A count of delegates outside the meeting's bounds, in the page's words (else None)."""
    message = refused.message
    if not isinstance(message, Message) or message.id != OUT_OF_BOUNDS:
        return None
    return Message(N_("Enter a number of delegates from %(min)s to %(max)s."), message.values)


async def is_stale(session: DbSession, meeting_id: int, answer: CheckinWrite) -> bool:
    """Whether the answer's key is stored with another answer: the form was shown again (the
    browser's Back button), so this is a correction, not a repeat, and needs a key of its own."""
    stored = await find_checkin(session, meeting_id, answer.idempotency_key)
    if stored is None:
        return False
    fields = ("status", "delegates_present", "reason", "presiding_name", "presiding_position")
    return any(getattr(stored, name) != getattr(answer, name) for name in fields)


def checkin_path(token: str, **query: str) -> str:
    """The check-in page's path, with a query (e.g. what was just stored)."""
    path = f"/checkin/{quote(token, safe='')}"
    return path + ("?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items()))


async def render_checkin(
    request: Request[Any, Any, Any],
    invitations: InvitationService,
    invitation: Invitation,
    *,
    form: CheckinForm | None = None,
    errors: dict[str, Renderable] | None = None,
    ack_form: dict[str, str] | None = None,
) -> Template:
    """The check-in page: the meeting, the point, its answer and history, the forms."""
    session = invitations.session
    meeting = invitation.meeting
    history = await views.checkin_history(session, meeting.id, invitation.point_id)
    stored_key = request.query_params.get("stored")
    stored = next((r for r in history if r.idempotency_key == stored_key), None)
    if form is None:
        form = CheckinForm()
        # Who presides: as last stored, else the invited chair, for the chair to confirm.
        latest = history[-1] if history else None
        if latest is not None and latest.presiding_name:
            form.presiding_name = latest.presiding_name
            form.presiding_position = latest.presiding_position or ""
        else:
            form.presiding_name = invitation.chair_name or ""
            form.presiding_position = invitation.chair_title or ""
    context = {
        "invitation": invitation,
        "meeting": meeting,
        "state": await views.point(session, meeting.id, invitation.point_id),
        "history": list(reversed(history[-HISTORY_SHOWN:])),
        "form": form,
        "errors": page_errors(request, errors),
        # A fresh key per page shown: sending this form twice stores one answer.
        "idempotency_key": form.idempotency_key or secrets.token_urlsafe(18),
        "stored": stored,
        "signal_saved": request.query_params.get("signal") == "saved",
        # Answers are taken from the roll call's opening; the technician reports all along.
        "answering": meeting.status in ANSWERING_STATUSES
        and is_roll_call_open(meeting, datetime.now(UTC)),
        "signalling": meeting.status in ANSWERING_STATUSES,
        "roll_call_opens": local_moment(meeting.roll_call_time),
        "heartbeat_ms": int(HEARTBEAT_EVERY * 1000),
        "signals": [s.value for s in Signal],
        # The chair's answer to the invitation, before the meeting (confhub.notices).
        "acknowledgement": await answer_of(session, meeting.id, invitation.point_id),
        "acknowledging": meeting.status == MeetingStatus.SCHEDULED.value,
        "ack_form": ack_form or {},
        "ack_saved": request.query_params.get("acknowledged") == "saved",
        # The point's requests to speak and its place in the queue (confhub.attendance.speaking).
        **await speaking_context(session, meeting.id, invitation.point_id),
    }
    return Template("attendance/checkin.html", context=context, headers=NO_STORE)


async def speaking_context(session: DbSession, meeting_id: int, point_id: int) -> dict[str, Any]:
    """The point's last requests to speak and its own view of the queue."""
    own = frozenset({point_id})
    shown = await speaking_queue.open_requests(session, meeting_id)
    requests = await speaking_record.requests(session, meeting_id, own)
    return {
        "speaking_requests": requests[-HISTORY_SHOWN:],
        "speaking_view": speaking_queue.for_points(speaking_queue.state(shown), own),
    }


def link_gone() -> Template:
    """The 404 of a check-in link that is malformed, unknown, replaced or withdrawn: one page
    for all (nothing about any meeting), saying what to do and whom to ask."""
    return Template("attendance/link_gone.html", status_code=404, headers=NO_STORE)


def shown_again(
    request: Request[Any, Any, Any],
    invitations: InvitationService,
    token: str,
    errors_of: Callable[[ConfhubError], dict[str, Renderable]],
    *,
    form: CheckinForm | None = None,
) -> Callable[[ConfhubError], Awaitable[Template]]:
    """What a refused form of the check-in page answers: the page again, with `errors_of` the
    refusal (the invitation read again: the refusal's rollback expired what was loaded)."""

    async def refused(error: ConfhubError) -> Template:
        invitation = await invitations.by_token(token)
        return await render_checkin(
            request, invitations, invitation, form=form, errors=errors_of(error)
        )

    return refused


def board_matches(point: dict[str, Any], show: str, words: str) -> bool:
    """Whether a tile is shown under a filter and the folded search words."""
    if show == "not_ready" and point["signal"] in READY_SIGNALS:
        return False
    if show in ("absent", "pending") and point["status"] != show:
        return False
    if show == "offline" and not point_lost(point):
        return False
    return not words or words in search_text(point)


def point_lost(point: dict[str, Any]) -> bool:
    """ "Lost connection": no live client, or the technician reports the link down."""
    return bool(point["presence"] == "offline" or point["signal"] == Signal.DISCONNECTED.value)


def search_text(point: dict[str, Any]) -> str:
    """What the board's search looks in, folded like the page's script folds it."""
    return fold(f"{point['name']} {point.get('chair') or ''} {point.get('unit_code') or ''}")


class LivePagesController(Controller):
    """The check-in link's page and the live attendance board."""

    include_in_schema = False
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "writer": Provide(provide_attendance_writer, sync_to_thread=False),
        "invitations": Provide(provide_invitation_service),
    }

    @get("/checkin/{token:str}", name="checkin")
    async def checkin_page(
        self, request: Request[Any, Any, Any], invitations: InvitationService, token: str
    ) -> Template:
        """The chair's page for one point and meeting, reached from the link or QR code; a link
        that no longer works says what to do (the same page for every such token)."""
        try:
            invitation = await invitations.by_token(token)
        except NotFoundError:
            if wants_json(request):
                raise
            return link_gone()
        return await render_checkin(request, invitations, invitation)

    @post("/checkin/{token:str}", name="checkin_answer")
    async def checkin_answer(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        writer: AttendanceWriter,
        invitations: InvitationService,
        token: str,
    ) -> Template | Redirect:
        """The form's answer without JavaScript, stored by the writer every door uses: once per
        key, then a confirmation. An outage of the database is the 503 page saying to send it
        again shortly (with the same key, so it is stored once)."""
        try:
            invitation = await invitations.by_token(token)
        except NotFoundError:
            if wants_json(request):
                raise
            return link_gone()
        meeting_id, point_id = invitation.meeting_id, invitation.point_id
        form = CheckinForm.from_form(await request.form())

        async def store() -> CheckinOutcome:
            answer = form.answer(point_id)
            if await is_stale(db_session, meeting_id, answer):
                form.idempotency_key = secrets.token_urlsafe(18)
                answer = form.answer(point_id)
            await release_connection(db_session)  # before waiting for the writer
            return await writer.submit(meeting_id, Actor.of_link(point_id), answer)

        return await submit(
            db_session,
            store,
            done=lambda outcome: Redirect(
                checkin_path(token, stored=outcome.record.idempotency_key) + "#answer",
                status_code=303,
            ),
            refused=shown_again(request, invitations, token, form.errors, form=form),
        )

    @post("/checkin/{token:str}/signal", name="checkin_signal")
    async def checkin_signal(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        writer: AttendanceWriter,
        invitations: InvitationService,
        token: str,
    ) -> Template | Redirect:
        """The technician's report of the link without JavaScript."""
        invitation = await invitations.by_token(token)
        value = (await request.form()).get("signal")
        value = value if isinstance(value, str) else ""
        meeting_id, point_id = invitation.meeting_id, invitation.point_id
        await release_connection(db_session)  # before waiting for the writer

        return await submit(
            db_session,
            lambda: writer.signal(meeting_id, Actor.of_link(point_id), point_id, value),
            done=Redirect(checkin_path(token, signal="saved") + "#technician", status_code=303),
            refused=shown_again(
                request, invitations, token, lambda error: {"signal": error.message}
            ),
        )

    @post("/checkin/{token:str}/acknowledgement", name="checkin_acknowledgement")
    async def acknowledgement(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        invitations: InvitationService,
        token: str,
    ) -> Template | Redirect:
        """The chair's answer to the invitation without JavaScript: "received" with the
        delegates expected, or "declined" with a reason (the API's one write path)."""
        try:
            invitation = await invitations.by_token(token)
        except NotFoundError:
            return link_gone()
        meeting, point_id = invitation.meeting, invitation.point_id
        form = await request.form()
        fields = {
            name: value.strip()[:MAX_TEXT]
            for name in ("status", "delegates_expected", "reason")
            if isinstance(value := form.get(name), str)
        }

        async def store() -> None:
            await acknowledge(db_session, meeting, decode_acknowledgement(point_id, fields))

        async def refused(error: ConfhubError) -> Template:
            field = error.field if isinstance(error, InvalidInputError) else None
            message: Renderable = (
                out_of_bounds(error)
                or (Message(ACK_ERRORS[field]) if field in ACK_ERRORS else None)
                or error.message
            )
            again = await invitations.by_token(token)
            return await render_checkin(
                request, invitations, again, errors={"acknowledgement": message}, ack_form=fields
            )

        return await submit(
            db_session,
            store,
            done=Redirect(
                checkin_path(token, acknowledged="saved") + "#invitation", status_code=303
            ),
            refused=refused,
        )

    @get("/m/{meeting_id:int}/live", name="live_board")
    async def board(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        meeting_id: Id,
        show: str | None = Parameter(query="show", default=None, max_length=20),
        text: str | None = Parameter(query="q", default=None, max_length=200, pattern=LINE_PATTERN),
    ) -> Template | Redirect:
        """The live board: a shell the websocket's snapshot fills (board.js); the province's
        staff only (anonymous: sign in first).

        No tile is rendered here. A national meeting has 3,321 points: rendering them took the
        event loop ~155 ms and 2.5 MB a page, while the points were connecting, only for the
        script to rebuild them from the snapshot it reads anyway. One way for every size of
        meeting, rather than a threshold below which the server renders: the board's first full
        state is the snapshot, and without JavaScript `<noscript>` leads to the board's list
        (`live_board_list`), rendered on the server a bounded page at a time."""
        principal = current_principal(request)
        if principal is None:
            return Redirect(f"/login?next={quote(request.url.path)}", status_code=303)
        meeting, manages = await board_meeting(principal, meetings, meeting_id)
        closed = meeting.status in CLOSED_STATUSES
        return Template(
            "attendance/board.html",
            headers=NO_STORE,
            context={
                "meeting": meeting,
                "manages": manages,
                "listing": False,
                "show": show if show in BOARD_FILTERS else "all",
                "q": text or "",
                "filters": BOARD_FILTERS,
                "rehearsal": meeting.rehearsal_started_at is not None,
                # A closed meeting's result is final (no rush to spare): said here in words.
                "totals": await views.counts(meetings.session, meeting.id) if closed else None,
            },
        )

    @get("/m/{meeting_id:int}/live/list", name="live_board_list")
    async def board_list(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        meeting_id: Id,
        show: str | None = Parameter(query="show", default=None, max_length=20),
        text: str | None = Parameter(query="q", default=None, max_length=200, pattern=LINE_PATTERN),
        page: int = Parameter(query="page", default=1, ge=1, le=100_000),
    ) -> Template | Redirect:
        """The board without JavaScript: the totals, and the tiles of one filter and search a
        page of `BOARD_PAGE` at a time (reload to refresh); the same readers as the board."""
        principal = current_principal(request)
        if principal is None:
            return Redirect(f"/login?next={quote(request.url.path)}", status_code=303)
        meeting, manages = await board_meeting(principal, meetings, meeting_id)
        view = await views.snapshot(meetings.session, meeting, None, with_phones=manages)
        chosen = show if show in BOARD_FILTERS else "all"
        words = fold(text or "")
        matching = [p for p in view["points"] if board_matches(p, chosen, words)]
        pages = max(1, -(-len(matching) // BOARD_PAGE))
        page = min(page, pages)
        not_ready = [p for p in view["points"] if p["signal"] not in READY_SIGNALS]
        return Template(
            "attendance/board.html",
            headers=NO_STORE,
            context={
                "meeting": meeting,
                "view": view,
                "manages": manages,
                "listing": True,
                "show": chosen,
                "q": text or "",
                "filters": BOARD_FILTERS,
                "rehearsal": view["meeting"]["rehearsal"],
                "totals": view["totals"],
                "shown_points": matching[(page - 1) * BOARD_PAGE : page * BOARD_PAGE],
                "matching": len(matching),
                "page": page,
                "pages": pages,
                "filter_counts": filter_counts(view["points"]),
                "not_ready": not_ready[:BOARD_PAGE],
                "not_ready_more": max(0, len(not_ready) - BOARD_PAGE),
                "points_by_id": {p["point_id"]: p["name"] for p in view["points"]},
            },
        )


async def board_meeting(
    principal: Principal, meetings: MeetingService, meeting_id: int
) -> tuple[Meeting, bool]:
    """The meeting of a board its reader may watch (else refused), and whether the reader
    manages it."""
    meeting = await meetings.get_visible(principal, meeting_id)
    if not principal.reads_province(meeting.province_code):
        raise PermissionDeniedError(N_("The live board is for the province's staff"))
    return meeting, principal.manages_province(meeting.province_code)


def filter_counts(points: list[dict[str, Any]]) -> dict[str, int]:
    """How many tiles each filter shows (without search words)."""
    return {show: sum(board_matches(p, show, "") for p in points) for show in BOARD_FILTERS}
