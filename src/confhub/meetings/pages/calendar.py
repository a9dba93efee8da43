"""The signed-in user's meetings: the week's schedule ("lịch công tác tuần") and a filtered list.

Both show what the services let the caller see: the secretariat its province's meetings (drafts
too), a viewer its province's published ones, a chair those its unit is invited to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Template

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.core.dateinput import format_day
from confhub.core.errors import InvalidInputError
from confhub.core.forms import page_errors
from confhub.core.i18n import N_
from confhub.core.pagination import PageRequest
from confhub.core.text import LINE_PATTERN
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.models import MeetingStatus
from confhub.meetings.pages.forms import parse_local_date
from confhub.meetings.pages.views import settings_of
from confhub.meetings.schemas import MeetingRead
from confhub.meetings.services import MeetingFilters, MeetingService

LIST_PAGE_SIZE = 20
MAX_LIST_PAGE = 10_000


@dataclass(frozen=True)
class Day:
    """One day of the week view with the meetings starting on it."""

    day: date
    starts: datetime
    meetings: list[MeetingRead]
    is_today: bool


@dataclass(frozen=True)
class ListQuery:
    """The list page's filters as typed (kept in the form and the page links)."""

    status: str = ""
    date_from: str = ""
    date_to: str = ""
    text: str = ""

    def filters(self, timezone: str) -> MeetingFilters:
        """The service's filters; a bad value raises InvalidInputError naming the field."""
        if self.status and self.status not in {s.value for s in MeetingStatus}:
            raise InvalidInputError(
                "status", N_("There is no status “%(value)s”."), value=self.status
            )
        zone = ZoneInfo(timezone)
        first = parse_local_date(self.date_from, "from")
        last = parse_local_date(self.date_to, "to")
        return MeetingFilters(
            status=self.status or None,
            starts_from=datetime.combine(first, time.min, tzinfo=zone) if first else None,
            starts_until=datetime.combine(last, time.max, tzinfo=zone) if last else None,
            text=self.text or None,
        )

    def link(self, page: int) -> str:
        """The list's address for another page with the same filters."""
        query = {"status": self.status, "from": self.date_from, "to": self.date_to, "q": self.text}
        kept = {k: v for k, v in query.items() if v}
        return "/meetings?" + urlencode({**kept, "page": page})


class CalendarPagesController(Controller):
    """`/meetings/week` and `/meetings`."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    @get("/meetings/week", name="week")
    async def week(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        day: str | None = Parameter(query="date", default=None, max_length=40),
    ) -> Template:
        """Monday to Sunday (in the province's zone) of the week holding `?date=YYYY-MM-DD`."""
        zone = ZoneInfo(settings_of(request).timezone)
        today = datetime.now(zone).date()
        chosen = parse_local_date((day or "").strip(), "date") or today
        monday = chosen - timedelta(days=chosen.weekday())
        start = datetime.combine(monday, time.min, tzinfo=zone)
        end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=zone)
        filters = MeetingFilters(starts_from=start, starts_until=end - timedelta(microseconds=1))
        found = await meetings.list_page(principal, PageRequest(limit=500, offset=0), filters)
        days = []
        for offset in range(7):
            current = monday + timedelta(days=offset)
            starts = datetime.combine(current, time(12), tzinfo=zone)
            on_day = [m for m in found.items if m.starts_at.astimezone(zone).date() == current]
            days.append(Day(current, starts, on_day, current == today))
        context = {
            "days": days,
            "monday": days[0].starts,
            "sunday": days[-1].starts,
            "week_number": monday.isocalendar().week,
            "previous": (monday - timedelta(days=7)).isoformat(),
            "next": (monday + timedelta(days=7)).isoformat(),
            "this_week": today.isoformat(),
            "is_this_week": monday <= today < monday + timedelta(days=7),
            "chosen": format_day(chosen),
            "total": found.total,
        }
        return Template("meetings/week.html", context=context)

    @get("/meetings", name="meetings")
    async def meeting_list(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        status: str | None = Parameter(query="status", default=None, max_length=40),
        date_from: str | None = Parameter(query="from", default=None, max_length=40),
        date_to: str | None = Parameter(query="to", default=None, max_length=40),
        text: str | None = Parameter(query="q", default=None, max_length=200, pattern=LINE_PATTERN),
        page: int = Parameter(query="page", default=1, ge=1, le=MAX_LIST_PAGE),
    ) -> Template:
        """Meetings the caller may see, filtered by status, days (local) and words, 20 a page."""
        query = ListQuery(
            (status or "").strip(),
            (date_from or "").strip(),
            (date_to or "").strip(),
            (text or "").strip(),
        )
        context: dict[str, Any] = {
            "query": query,
            "items": [],
            "total": 0,
            "page": page,
            "statuses": [s.value for s in MeetingStatus],
            "errors": {},
        }
        try:
            filters = query.filters(settings_of(request).timezone)
            offset = (page - 1) * LIST_PAGE_SIZE
            found = await meetings.list_page(
                principal, PageRequest(limit=LIST_PAGE_SIZE, offset=offset), filters
            )
        except InvalidInputError as error:
            context["errors"] = page_errors(request, {error.field: error.message})
            return Template("meetings/list.html", context=context, status_code=400)
        pages = max(1, -(-found.total // LIST_PAGE_SIZE))
        context.update(
            items=found.items,
            total=found.total,
            pages=pages,
            previous=query.link(page - 1) if page > 1 else None,
            next=query.link(page + 1) if page < pages else None,
        )
        return Template("meetings/list.html", context=context)
