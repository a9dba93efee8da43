"""The pages anyone may open: home (a province's public calendar) and a meeting (the check-in
link's page lives in :mod:`confhub.attendance.pages`).

A meeting's page grows with what the caller may see of it (see :mod:`.views`); for an anonymous
visitor it stays the public facts of a non-draft meeting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Template

from confhub.accounts.guards import current_principal
from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.core.ids import Id, parse_code
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.pages.views import render_meeting
from confhub.meetings.services import MeetingService
from confhub.meetings.signals import home_shown
from confhub.units.deps import provide_unit_service
from confhub.units.models import Province
from confhub.units.services import UnitService


def _province_choice(request: Request[Any, Any, Any], province: str | None) -> int | None:
    """`?province=CODE`, `?province=` (the chooser), or the user's (or default) province."""
    if province is None:
        principal = current_principal(request)
        chosen = principal.province_code if principal else None
        return chosen or request.app.state.settings.default_province
    if not province.strip():
        return None
    code = parse_code(province)
    if code is not None:
        return code
    raise InvalidInputError("province", N_("must be a province code"))


class MeetingPagesController(Controller):
    """The pages people open in a browser without an account."""

    include_in_schema = False
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "units": Provide(provide_unit_service),
    }

    @get("/", name="home")
    async def home(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        units: UnitService,
        province: str | None = Parameter(query="province", default=None),
    ) -> Template:
        """Upcoming and recent meetings of the visitor's province (or a province chooser).

        `?province=CODE` picks one; `?province=` (empty, "choose another province") always shows
        the chooser; without it, the signed-in user's province or the configured default.
        """
        province_code = _province_choice(request, province)
        session = meetings.session
        selected = await session.get(Province, province_code) if province_code else None
        principal = current_principal(request)
        notes = await home_shown.send(session, principal) if principal else []
        context: dict[str, Any] = {
            "province": selected,
            "upcoming": [],
            "recent": [],
            "notes": [note for note in notes if note is not None],
        }
        if selected is None:
            context["provinces"] = await units.list_provinces()
            return Template("meetings/home.html", context=context)
        now = datetime.now(UTC)
        context["upcoming"] = await meetings.public_meetings(
            selected.code, ends_after=now, limit=50
        )
        context["recent"] = await meetings.public_meetings(
            selected.code, ended_before=now, limit=10
        )
        shown = [m.id for m in (*context["upcoming"], *context["recent"])]
        context["invited"] = await meetings.invited_counts(shown)
        return Template("meetings/home.html", context=context)

    @get("/meetings/{meeting_id:int}", name="meeting")
    async def meeting_page(
        self, request: Request[Any, Any, Any], meetings: MeetingService, meeting_id: Id
    ) -> Template:
        """A meeting's public facts; drafts only for those who may see them; more for its
        readers (documents, their own point) and its secretariat (every action, the log)."""
        return await render_meeting(request, meetings, meeting_id)
