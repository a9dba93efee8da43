"""What the meeting pages show, gathered once for a page and again when a form comes back wrong.

Who sees what: anonymous visitors and signed-in users a meeting is not for get its public facts
(never a draft); those the services let see it (`get_visible`) also get its documents and their
own points; the province's secretariat (`manages_province`) gets every action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from confhub.accounts.guards import current_principal
from confhub.accounts.principal import Principal
from confhub.accounts.visibility import sees_chair
from confhub.core.errors import AuthenticationRequiredError, NotFoundError, PermissionDeniedError
from confhub.core.forms import page_errors
from confhub.core.i18n import N_
from confhub.core.ids import Id
from confhub.core.messages import Renderable
from confhub.db import DbSession
from confhub.meetings import audit, documents, qr
from confhub.meetings.invitations import (
    EDITABLE_STATUSES,
    InvitedPoint,
    invited_points,
    listed_extras,
)
from confhub.meetings.models import Meeting, MeetingStatus
from confhub.meetings.pages.audit_log import (
    LATEST_ENTRIES,
    LATEST_GROUPS,
    audit_lines,
    group_lines,
)
from confhub.meetings.services import (
    ALLOWED_TRANSITIONS,
    CLOSED_STATUSES,
    MeetingService,
    agenda_outside,
)
from confhub.points.models import ConnectionPoint
from confhub.settings import Settings
from confhub.units.matching import fold
from confhub.units.models import Unit

PUBLIC, READ, MANAGE = "public", "read", "manage"
# The steps offered as plain buttons; cancelling has its own form (it needs a reason).
STEP_BUTTONS = (MeetingStatus.SCHEDULED, MeetingStatus.LIVE, MeetingStatus.ENDED)


def settings_of(request: Request[Any, Any, Any]) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def load_meeting(session: DbSession, meeting_id: int) -> Meeting:
    """A meeting with its agenda and province, or 404."""
    meeting = await session.scalar(
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(selectinload(Meeting.agenda_items), selectinload(Meeting.province))
        .execution_options(populate_existing=True)
    )
    if meeting is None:
        raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
    return meeting


async def access_of(meetings: MeetingService, principal: Principal | None, meeting: Meeting) -> str:
    """PUBLIC, READ or MANAGE; a draft the caller may not see is refused (401/403)."""
    draft = meeting.status == MeetingStatus.DRAFT.value
    try:
        await meetings.get_visible(principal, meeting.id)
    except (AuthenticationRequiredError, PermissionDeniedError):
        if draft:
            raise
        return PUBLIC
    assert principal is not None
    return MANAGE if principal.manages_province(meeting.province_code) else READ


async def province_points(session: DbSession, province_code: int) -> list[ConnectionPoint]:
    """The province's active points: its main point first, then by name."""
    rows = await session.scalars(
        select(ConnectionPoint)
        .where(ConnectionPoint.province_code == province_code, ConnectionPoint.is_active)
        .order_by(ConnectionPoint.unit_code.is_not(None), ConnectionPoint.name)
    )
    return list(rows)


def checkin_links(settings: Settings, points: list[InvitedPoint]) -> dict[int, str]:
    """point id → the check-in link, for points whose link is not revoked."""
    return {
        p.point_id: qr.checkin_url(settings, p.checkin_token) for p in points if p.checkin_token
    }


async def meeting_context(
    request: Request[Any, Any, Any],
    meetings: MeetingService,
    meeting_id: Id,
    *,
    errors: Mapping[str, Renderable] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything `meetings/meeting.html` shows to the caller."""
    session = meetings.session
    principal = current_principal(request)
    meeting = await load_meeting(session, meeting_id)
    access = await access_of(meetings, principal, meeting)
    host = (
        await session.get(ConnectionPoint, meeting.host_point_id) if meeting.host_point_id else None
    )
    counts = await meetings.invited_counts([meeting.id])
    context: dict[str, Any] = {
        "meeting": meeting,
        "host": host,
        "invited": counts.get(meeting.id, 0),
        "access": access,
        "errors": page_errors(request, errors),
        "values": values or {},
        "agenda_outside": {item.id for item in agenda_outside(meeting)},
    }
    if access == PUBLIC:
        return context
    assert principal is not None
    points = await invited_points(session, meeting.id)
    own = [p for p in points if principal.unit_code and p.unit_code == principal.unit_code]
    context["own_points"] = own
    context["links"] = checkin_links(settings_of(request), own)
    context["without_chair"] = sum(1 for p in points if not p.has_chair)
    context["documents"] = await documents.list_documents(session, meeting.id)
    if access == MANAGE:
        allowed = ALLOWED_TRANSITIONS[MeetingStatus(meeting.status)]
        context["steps"] = [s.value for s in STEP_BUTTONS if s in allowed]
        context["can_cancel"] = MeetingStatus.CANCELLED in allowed
        context["editable"] = meeting.status not in CLOSED_STATUSES
        context["invitations_open"] = meeting.status in EDITABLE_STATUSES
        context["copy_start"] = meeting.starts_at + timedelta(days=7)
        # The latest few groups (read from the latest entries); the rest on the history page.
        groups = group_lines(await audit_lines(session, meeting.id, limit=LATEST_ENTRIES))
        context["audit"] = groups[:LATEST_GROUPS]
        context["audit_total"] = await audit.count_entries(session, meeting.id)
    return context


async def render_meeting(
    request: Request[Any, Any, Any],
    meetings: MeetingService,
    meeting_id: Id,
    *,
    errors: Mapping[str, Renderable] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    """The meeting page (again, with errors, after a refused action)."""
    context = await meeting_context(request, meetings, meeting_id, errors=errors, values=values)
    return Template("meetings/meeting.html", context=context, status_code=status_code)


@dataclass(frozen=True)
class PointFilter:
    """What the table of invited points is narrowed to."""

    text: str = ""
    without_chair: bool = False

    def keep(self, point: InvitedPoint) -> bool:
        """Whether a point passes the filter (text matches unit, point or chair, any accents)."""
        if self.without_chair and point.has_chair:
            return False
        if not self.text:
            return True
        words = fold(self.text).split()
        haystack = fold(
            " ".join(filter(None, (point.unit_name, point.point_name, point.chair_name)))
        )
        return all(word in haystack for word in words)


async def unit_type_counts(session: DbSession, province_code: int) -> dict[str, int]:
    """How many xã, phường and đặc khu the province has."""
    rows = await session.execute(
        select(Unit.division_type, func.count())
        .where(Unit.province_code == province_code)
        .group_by(Unit.division_type)
    )
    return {str(kind): int(count) for kind, count in rows}


async def points_context(
    request: Request[Any, Any, Any],
    meetings: MeetingService,
    meeting: Meeting,
    access: str,
    point_filter: PointFilter,
    *,
    errors: Mapping[str, Renderable] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything `meetings/points.html` shows."""
    session = meetings.session
    principal = current_principal(request)
    # Withheld before filtering, so a search cannot find a chair by a name the caller may not see.
    points = [
        p
        if sees_chair(principal, meeting.province_code, p.unit_code)
        else p.without_chair_identity()
        for p in await invited_points(session, meeting.id)
    ]
    shown = [p for p in points if point_filter.keep(p)]
    context: dict[str, Any] = {
        "meeting": meeting,
        "access": access,
        "points": shown,
        "total": len(points),
        "without_chair": sum(1 for p in points if not p.has_chair),
        "filter": point_filter,
        "errors": page_errors(request, errors),
        "values": values or {},
    }
    if access == MANAGE:
        invited_ids = {p.point_id for p in points}
        context["links"] = checkin_links(settings_of(request), shown)
        # How far each point's invitation got, and its chair's answer (confhub.notices).
        context["notices"] = await listed_extras(session, meeting.id, shown)
        context["type_counts"] = await unit_type_counts(session, meeting.province_code)
        context["unit_total"] = sum(context["type_counts"].values())
        context["open"] = meeting.status in EDITABLE_STATUSES
        context["uninvited"] = [
            p
            for p in await province_points(session, meeting.province_code)
            if p.id not in invited_ids
        ]
    return context
