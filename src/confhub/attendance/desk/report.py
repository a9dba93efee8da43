"""Incidents counted: per point of one meeting (for its attendance report and link-health
summary), and per point over a province's meetings within a date range — the points with the
most incidents and the longest outages, the list a province needs to fix its weakest links.

An outage is the time from a report to its resolution (to now while it is not resolved).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from confhub.attendance.desk.models import Incident, IncidentKind
from confhub.core.spreadsheets import csv_bytes
from confhub.db import DbSession
from confhub.meetings.models import Meeting
from confhub.points.models import ConnectionPoint
from confhub.units.models import Unit

# The most points a province's report lists, and incidents it reads.
MAX_POINTS = 200
MAX_INCIDENTS = 100_000
CSV_COLUMNS = (
    "Mã đơn vị",
    "Đơn vị",
    "Điểm cầu",
    "Số sự cố",
    "Mất hình",
    "Mất tiếng",
    "Mất kết nối",
    "Khác",
    "Số hội nghị có sự cố",
    "Tổng thời gian gián đoạn (phút)",
    "Lần gián đoạn dài nhất (phút)",
    "Chưa xử lý xong",
)


@dataclass
class PointIncidents:
    """One point's incidents counted."""

    point_id: int
    name: str = ""
    unit_code: int | None = None
    unit_name: str | None = None
    count: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in IncidentKind})
    meetings: set[int] = field(default_factory=set)
    outage: timedelta = timedelta()
    longest: timedelta = timedelta()
    unresolved: int = 0

    def add(self, incident: Any, now: datetime) -> None:
        """Count one incident (a row with kind, meeting, reported and resolved times)."""
        self.count += 1
        self.by_kind[incident.kind] = self.by_kind.get(incident.kind, 0) + 1
        self.meetings.add(incident.meeting_id)
        end = incident.resolved_at or now
        if incident.resolved_at is None:
            self.unresolved += 1
        lasted = max(timedelta(), end - incident.reported_at)
        self.outage += lasted
        self.longest = max(self.longest, lasted)

    @property
    def outage_minutes(self) -> int:
        """The outages' total, in whole minutes (rounded up: a minute started counts)."""
        return _minutes(self.outage)

    @property
    def longest_minutes(self) -> int:
        """The longest outage, in whole minutes (rounded up)."""
        return _minutes(self.longest)


def _minutes(span: timedelta) -> int:
    seconds = int(span.total_seconds())
    return -(-seconds // 60)


async def meeting_incidents(session: DbSession, meeting_id: int) -> dict[int, PointIncidents]:
    """Each point's incidents in one meeting, by point id (points without any absent)."""
    now = datetime.now(UTC)
    counted: dict[int, PointIncidents] = {}
    rows = await session.execute(
        select(
            Incident.point_id,
            Incident.meeting_id,
            Incident.kind,
            Incident.reported_at,
            Incident.resolved_at,
        ).where(Incident.meeting_id == meeting_id)
    )
    for row in rows:
        counted.setdefault(row.point_id, PointIncidents(row.point_id)).add(row, now)
    return counted


@dataclass(frozen=True)
class ProvinceReport:
    """A province's incidents over a range of local days, worst points first."""

    province_code: int
    first_day: date
    last_day: date
    points: list[PointIncidents]
    total: int
    truncated: bool


def day_bounds(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants from the start of `first` to the end of `last`, local days."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time.min, zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC)
    return start, end


async def province_report(
    session: DbSession, province_code: int, first: date, last: date, timezone: str
) -> ProvinceReport:
    """The points of a province's meetings with the most incidents and the longest outages."""
    start, end = day_bounds(first, last, timezone)
    now = datetime.now(UTC)
    rows = await session.execute(
        select(
            Incident.point_id,
            Incident.meeting_id,
            Incident.kind,
            Incident.reported_at,
            Incident.resolved_at,
            ConnectionPoint.name,
            ConnectionPoint.unit_code,
            Unit.name.label("unit_name"),
        )
        .join(Meeting, Meeting.id == Incident.meeting_id)
        .join(ConnectionPoint, ConnectionPoint.id == Incident.point_id)
        .outerjoin(Unit, Unit.code == ConnectionPoint.unit_code)
        .where(
            Meeting.province_code == province_code,
            Incident.reported_at >= start,
            Incident.reported_at < end,
        )
        .limit(MAX_INCIDENTS)
    )
    counted: dict[int, PointIncidents] = {}
    total = 0
    for row in rows:
        total += 1
        entry = counted.get(row.point_id)
        if entry is None:
            entry = counted[row.point_id] = PointIncidents(
                row.point_id, row.name, row.unit_code, row.unit_name
            )
        entry.add(row, now)
    ranked = sorted(counted.values(), key=lambda p: (-p.count, -p.outage, p.name))
    return ProvinceReport(
        province_code, first, last, ranked[:MAX_POINTS], total, len(ranked) > MAX_POINTS
    )


def report_csv(report: ProvinceReport) -> bytes:
    """The report as CSV (UTF-8 with BOM; text cells formula-safe)."""
    rows: list[list[Any]] = [list(CSV_COLUMNS)]
    for p in report.points:
        rows.append(
            [
                p.unit_code or "",
                p.unit_name or "",
                p.name,
                p.count,
                p.by_kind.get("no_video", 0),
                p.by_kind.get("no_audio", 0),
                p.by_kind.get("disconnected", 0),
                p.by_kind.get("other", 0),
                len(p.meetings),
                p.outage_minutes,
                p.longest_minutes,
                p.unresolved,
            ]
        )
    return csv_bytes(rows)
