"""A meeting's audit log made readable: each entry with the names and local times it refers to,
grouped (one person's roll call of many points is one group) and paged (`/meetings/{id}/history`;
the meeting's page shows the latest few groups).

The stored details are what the services recorded (ids, ISO times); pages need point names and
datetimes to format. The sentence itself is written by the template, in the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, get
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Template
from sqlalchemy import select

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.core.ids import Id
from confhub.db import DbSession
from confhub.meetings import audit
from confhub.meetings.deps import provide_meeting_service
from confhub.meetings.reminders import lead_words
from confhub.meetings.services import MeetingService
from confhub.points.models import ConnectionPoint

TIME_FIELDS = frozenset({"starts_at", "ends_at", "roll_call_opens_at"})
# Actions done point by point that a page groups when one person does many in a row.
GROUPED_ACTIONS = frozenset(
    {"roll_call", "chair", "token_issued", "token_revoked", "uninvited", "document_added"}
)
# How far apart (first to last) the entries of one group may be.
GROUP_SPAN = timedelta(hours=1)
# The most entries a log page reads (a real meeting has a few hundred).
MAX_ENTRIES = 10_000
# Groups on one page of the full log, and on the meeting's own page.
GROUPS_PER_PAGE = 30
LATEST_GROUPS = 5
LATEST_ENTRIES = 1000


@dataclass(frozen=True)
class FieldChange:
    """One field of an edit: its name and its value before and after (datetimes parsed)."""

    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class AuditLine:
    """One entry of the log as a page shows it."""

    at: datetime
    actor: str
    action: str
    details: dict[str, Any]
    point_name: str | None = None
    changes: list[FieldChange] = field(default_factory=list)


def _value(name: str, value: Any, points: dict[int, str]) -> Any:
    if name in TIME_FIELDS and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if name == "host_point_id" and isinstance(value, int):
        return points.get(value, f"#{value}")
    if name == "reminder_minutes" and isinstance(value, list):
        # The lead times as people say them ("24 h", "60 min"), for the sentence.
        return [lead_words(m) for m in value if isinstance(m, int)]
    return value


def _point_ids(entries: list[Any]) -> set[int]:
    ids: set[int] = set()
    for entry in entries:
        details = entry.details or {}
        if isinstance(details.get("point_id"), int):
            ids.add(details["point_id"])
        for old_new in (details.get("changes") or {}).get("host_point_id") or []:
            if isinstance(old_new, int):
                ids.add(old_new)
    return ids


@dataclass(frozen=True)
class AuditGroup:
    """Entries of one kind by one person in a row (a roll call taken point by point), or one."""

    lines: list[AuditLine]

    @property
    def first(self) -> AuditLine:
        """The newest entry."""
        return self.lines[0]

    @property
    def count(self) -> int:
        """How many entries the group holds."""
        return len(self.lines)

    def takes(self, line: AuditLine) -> bool:
        """Whether `line` (older) belongs to this group."""
        first = self.first
        return (
            line.action in GROUPED_ACTIONS
            and line.action == first.action
            and line.actor == first.actor
            and first.at - line.at <= GROUP_SPAN
        )


def group_lines(lines: list[AuditLine]) -> list[AuditGroup]:
    """The log's lines (newest first) in groups, newest first."""
    groups: list[AuditGroup] = []
    for line in lines:
        if groups and groups[-1].takes(line):
            groups[-1].lines.append(line)
        else:
            groups.append(AuditGroup([line]))
    return groups


async def audit_lines(
    session: DbSession, meeting_id: int, limit: int = MAX_ENTRIES
) -> list[AuditLine]:
    """The meeting's log, newest first, ready to be put into sentences."""
    entries = await audit.entries(session, meeting_id, limit=limit)
    ids = _point_ids(entries)
    points: dict[int, str] = {}
    if ids:
        rows = await session.execute(
            select(ConnectionPoint.id, ConnectionPoint.name).where(ConnectionPoint.id.in_(ids))
        )
        points = {int(point_id): str(name) for point_id, name in rows}
    lines = []
    for entry in entries:
        details = dict(entry.details or {})
        point_id = details.get("point_id")
        point_name = details.get("point") or (points.get(point_id) if point_id else None)
        changes = [
            FieldChange(name, _value(name, old, points), _value(name, new, points))
            for name, (old, new) in (details.get("changes") or {}).items()
        ]
        lines.append(
            AuditLine(
                at=entry.created_at,
                actor=entry.actor_label,
                action=entry.action,
                details=details,
                point_name=point_name,
                changes=changes,
            )
        )
    return lines


class HistoryPagesController(Controller):
    """`/meetings/{id}/history`: the secretariat's whole log of a meeting, page by page."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {
        "meetings": Provide(provide_meeting_service),
        "principal": Provide(provide_required_principal, sync_to_thread=False),
    }

    @get("/meetings/{meeting_id:int}/history", name="meeting_history")
    async def history(
        self,
        request: Request[Any, Any, Any],
        meetings: MeetingService,
        principal: Principal,
        meeting_id: Id,
        page: int = Parameter(query="page", default=1, ge=1, le=10_000),
    ) -> Template:
        """Every change, newest first, in groups, :data:`GROUPS_PER_PAGE` groups a page."""
        meeting = await meetings.get_managed(principal, meeting_id)
        groups = group_lines(await audit_lines(meetings.session, meeting.id))
        pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
        page = min(page, pages)
        shown = groups[(page - 1) * GROUPS_PER_PAGE : page * GROUPS_PER_PAGE]
        path = f"/meetings/{meeting.id}/history"
        context = {
            "meeting": meeting,
            "audit": shown,
            "page": page,
            "pages": pages,
            "total": sum(group.count for group in groups),
            "previous": f"{path}?page={page - 1}" if page > 1 else None,
            "next": f"{path}?page={page + 1}" if page < pages else None,
        }
        return Template("meetings/history.html", context=context)
