"""The live attendance pages: a chair's check-in page (`/checkin/{token}`, phone-sized) and the
province's live board (`/m/{id}/live`).

Both are rendered complete on the server, so they work without JavaScript; the modules in
static/js/live/ then take over through the websocket. The check-in form's plain POST carries an
idempotency key made here, so a double submit is stored once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template

from confhub.accounts.guards import current_principal
from confhub.attendance import views
from confhub.attendance.actors import ANSWERING_STATUSES, Actor
from confhub.attendance.models import RollCallStatus, Signal
from confhub.attendance.presence import HEARTBEAT_EVERY
from confhub.attendance.readiness import record_signal
from confhub.attendance.rollcall import CheckinInput, find_checkin, record_checkin
from confhub.attendance.schemas import MAX_DELEGATES
from confhub.core.errors import ConfhubError, PermissionDeniedError
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.text import LINE_PATTERN, is_digits, is_line, is_text
from confhub.db import DbSession
from confhub.meetings.deps import provide_invitation_service, provide_meeting_service
from confhub.meetings.invitations import InvitationService
from confhub.meetings.models import Invitation
from confhub.meetings.services import MeetingService
from confhub.units.matching import fold

HISTORY_SHOWN = 5
MAX_REASON = 2000
READY_SIGNALS = frozenset({Signal.TEST_OK.value, Signal.CONNECTED.value})
# The board's filters (`?show=`), in the order the page offers them.
BOARD_FILTERS = ("all", "not_ready", "absent", "pending", "offline")
# Live pages are never served from a cache (nor from the back/forward cache with a stale form).
NO_STORE = {"Cache-Control": "no-store"}


@dataclass
class CheckinForm:
    """The roll-call form as typed; `errors()` names what is wrong (message ids by field)."""

    status: str = ""
    delegates_present: str = ""
    reason: str = ""
    idempotency_key: str = ""

    @classmethod
    def from_form(cls, form: FormMultiDict) -> CheckinForm:
        """Read the submitted fields (files and missing fields read as empty)."""

        def text(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""

        key = text("idempotency_key")[:100]
        return cls(
            status=text("status"),
            delegates_present=text("delegates_present"),
            reason=text("reason")[:MAX_REASON],
            # A key no answer can be stored under is dropped: the page shown again gets a new one.
            idempotency_key=key if is_line(key) else "",
        )

    def errors(self) -> dict[str, str]:
        """One message id per wrong field; empty when the answer can be stored."""
        errors: dict[str, str] = {}
        if self.status not in (RollCallStatus.PRESENT.value, RollCallStatus.ABSENT.value):
            errors["status"] = N_("Choose “Present” or “Absent”.")
        elif self.status == RollCallStatus.PRESENT.value and self.delegates() is None:
            errors["delegates_present"] = N_("Enter the number of delegates present (0 or more).")
        elif self.status == RollCallStatus.ABSENT.value and not self.reason:
            errors["reason"] = N_("Say why the point is absent.")
        if not is_text(self.reason):
            errors["reason"] = N_("Remove the control characters (invisible ones such as NUL).")
        if not self.idempotency_key:
            errors["_form"] = N_("The form has expired; please send it again.")
        return errors

    def delegates(self) -> int | None:
        """The number typed, when it is a whole number in range."""
        if not is_digits(self.delegates_present) or len(self.delegates_present) > 6:
            return None
        number = int(self.delegates_present)
        return number if number <= MAX_DELEGATES else None

    def to_input(self, point_id: int) -> CheckinInput:
        """The service's input (call only when `errors()` is empty)."""
        present = self.status == RollCallStatus.PRESENT.value
        return CheckinInput(
            point_id=point_id,
            status=self.status,
            idempotency_key=self.idempotency_key,
            delegates_present=self.delegates() if present else None,
            reason=self.reason or None,
        )


async def fresh_key_for_a_stale_form(
    session: DbSession, invitation: Invitation, form: CheckinForm
) -> None:
    """A key already stored with another answer comes from a form shown again (the browser's
    Back button): that is a correction, not a repeat, so it gets a key of its own."""
    stored = await find_checkin(session, invitation.meeting_id, form.idempotency_key)
    if stored is None:
        return
    typed = form.to_input(invitation.point_id)
    if (stored.status, stored.delegates_present, stored.reason) != (
        typed.status,
        typed.delegates_present,
        typed.reason,
    ):
        form.idempotency_key = secrets.token_urlsafe(18)


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
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The check-in page: the meeting, the point, its answer and history, the forms."""
    session = invitations.repository.session
    meeting = invitation.meeting
    history = await views.checkin_history(session, meeting.id, invitation.point_id)
    stored_key = request.query_params.get("stored")
    stored = next((r for r in history if r.idempotency_key == stored_key), None)
    form = form or CheckinForm()
    context = {
        "invitation": invitation,
        "meeting": meeting,
        "state": await views.point(session, meeting.id, invitation.point_id),
        "history": list(reversed(history[-HISTORY_SHOWN:])),
        "form": form,
        "errors": errors or {},
        # A fresh key per page shown: sending this form twice stores one answer.
        "idempotency_key": form.idempotency_key or secrets.token_urlsafe(18),
        "stored": stored,
        "signal_saved": request.query_params.get("signal") == "saved",
        "answering": meeting.status in ANSWERING_STATUSES,
        "heartbeat_ms": int(HEARTBEAT_EVERY * 1000),
        "signals": [s.value for s in Signal],
    }
    return Template(
        "attendance/checkin.html", context=context, status_code=status_code, headers=NO_STORE
    )


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
        "invitations": Provide(provide_invitation_service),
    }

    @get("/checkin/{token:str}", name="checkin")
    async def checkin_page(
        self, request: Request[Any, Any, Any], invitations: InvitationService, token: str
    ) -> Template:
        """The chair's page for one point and meeting, reached from the link or QR code."""
        invitation = await invitations.by_token(token)
        return await render_checkin(request, invitations, invitation)

    @post("/checkin/{token:str}", name="checkin_answer")
    async def checkin_answer(
        self, request: Request[Any, Any, Any], invitations: InvitationService, token: str
    ) -> Template | Redirect:
        """The form's answer without JavaScript: stored once per key, then a confirmation."""
        invitation = await invitations.by_token(token)
        form = CheckinForm.from_form(await request.form())
        errors = form.errors()
        if not errors:
            session = invitations.repository.session
            await fresh_key_for_a_stale_form(session, invitation, form)
            try:
                outcome = await record_checkin(
                    session,
                    invitation.meeting,
                    Actor.of_link(invitation.point_id),
                    form.to_input(invitation.point_id),
                )
            except ConfhubError as exc:
                errors = {"_form": refusal(exc)}
            else:
                await session.commit()  # stored before the confirmation is shown
                key = outcome.record.idempotency_key
                return Redirect(checkin_path(token, stored=key) + "#answer", status_code=303)
        return await render_checkin(
            request, invitations, invitation, form=form, errors=errors, status_code=400
        )

    @post("/checkin/{token:str}/signal", name="checkin_signal")
    async def checkin_signal(
        self, request: Request[Any, Any, Any], invitations: InvitationService, token: str
    ) -> Template | Redirect:
        """The technician's report of the link without JavaScript."""
        invitation = await invitations.by_token(token)
        value = (await request.form()).get("signal")
        value = value if isinstance(value, str) else ""
        session = invitations.repository.session
        try:
            await record_signal(
                session,
                invitation.meeting,
                Actor.of_link(invitation.point_id),
                invitation.point_id,
                value,
            )
        except ConfhubError as exc:
            return await render_checkin(
                request, invitations, invitation, errors={"signal": refusal(exc)}, status_code=400
            )
        await session.commit()
        return Redirect(checkin_path(token, signal="saved") + "#technician", status_code=303)

    @get("/m/{meeting_id:int}/live", name="live_board")
    async def board(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        meeting_id: Id,
        show: str | None = Parameter(query="show", default=None, max_length=20),
        text: str | None = Parameter(query="q", default=None, max_length=200, pattern=LINE_PATTERN),
    ) -> Template | Redirect:
        """Every invited point's tile; the province's staff only (anonymous: sign in first)."""
        principal = current_principal(request)
        if principal is None:
            return Redirect(f"/login?next={quote(request.url.path)}", status_code=303)
        meeting = await meetings.get_visible(principal, meeting_id)
        if not principal.reads_province(meeting.province_code):
            raise PermissionDeniedError("The live board is for the province's staff")
        manages = principal.manages_province(meeting.province_code)
        view = await views.snapshot(meetings.repository.session, meeting, None, with_phones=manages)
        chosen = show if show in BOARD_FILTERS else "all"
        words = fold(text or "")
        return Template(
            "attendance/board.html",
            headers=NO_STORE,
            context={
                "meeting": meeting,
                "view": view,
                "manages": manages,
                "show": chosen,
                "q": text or "",
                "filters": BOARD_FILTERS,
                "hidden": {
                    p["point_id"] for p in view["points"] if not board_matches(p, chosen, words)
                },
                "filter_counts": filter_counts(view["points"]),
                "not_ready": [p for p in view["points"] if p["signal"] not in READY_SIGNALS],
                "signals": [s.value for s in Signal],
            },
        )


def filter_counts(points: list[dict[str, Any]]) -> dict[str, int]:
    """How many tiles each filter shows (without search words)."""
    return {show: sum(board_matches(p, show, "") for p in points) for show in BOARD_FILTERS}


def refusal(exc: ConfhubError) -> str:
    """A service's refusal as a message id the page translates."""
    if exc.status_code == 409:
        return N_("The roll call is closed: the meeting is not scheduled or live.")
    if exc.status_code == 403:
        return N_("This link may only answer for its own connection point.")
    return N_("The answer could not be stored; check the form and send it again.")
