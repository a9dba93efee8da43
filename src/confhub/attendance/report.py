"""The attendance report of a meeting: one row per point, then totals, as CSV or XLSX.

The same rows feed the minutes' roll-call section ("Minutes and news").
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import anyio.to_thread

from confhub.attendance.views import totals
from confhub.core.spreadsheets import append_xlsx_row, csv_bytes

COLUMNS = (
    "Mã đơn vị",
    "Đơn vị",
    "Điểm cầu",
    "Người chủ trì",
    "Chức vụ",
    "Điểm danh",
    "Số đại biểu",
    "Lý do vắng",
    "Thời điểm điểm danh",
    "Tín hiệu",
    "Kết nối",
    # Link health: the point's incidents and how long they lasted (confhub.attendance.desk).
    "Sự cố",
    "Gián đoạn (phút)",
)
STATUS_LABELS = {"present": "Có mặt", "absent": "Vắng", "pending": "Chưa điểm danh"}


@dataclass(frozen=True)
class Report:
    """A meeting's attendance as rows and totals, times in the province's zone."""

    title: str
    rows: list[list[Any]]
    totals: dict[str, int]

    def totals_rows(self) -> list[list[Any]]:
        """The totals as label/value rows under the table."""
        t = self.totals
        return [
            ["Tổng số điểm cầu", t["invited"]],
            ["Có mặt", t["present"]],
            ["Vắng", t["absent"]],
            ["Chưa điểm danh", t["pending"]],
            ["Tổng số đại biểu", t["delegates"]],
            ["Điểm cầu có sự cố", t["points_with_incidents"]],
            ["Tổng số sự cố", t["incidents"]],
        ]


def build_report(title: str, points: list[dict[str, Any]], timezone: str) -> Report:
    """Rows from the attendance service's `points()`."""
    zone = ZoneInfo(timezone)
    rows = []
    for point in points:
        answered = point["answered_at"]
        local = (
            datetime.fromisoformat(answered).astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")
            if answered
            else ""
        )
        rows.append(
            [
                point["unit_code"] or "",
                point["unit_name"] or "",
                point["name"],
                point["chair"] or "",
                point["chair_title"] or "",
                STATUS_LABELS.get(point["status"], point["status"]),
                point["delegates_present"] if point["delegates_present"] is not None else "",
                point["reason"] or "",
                local,
                point["signal"],
                point["presence"],
                point.get("incidents", 0),
                point.get("outage_minutes", 0),
            ]
        )
    counted = totals(points)
    counted["incidents"] = sum(point.get("incidents", 0) for point in points)
    counted["points_with_incidents"] = sum(1 for point in points if point.get("incidents"))
    return Report(title=title, rows=rows, totals=counted)


async def export(title: str, points: list[dict[str, Any]], timezone: str, fmt: str) -> bytes:
    """The report as `csv` or `xlsx` bytes, built in a worker thread: a national meeting's
    spreadsheet takes openpyxl about 0.4 s, which on the event loop would hold up every live
    socket of the process."""

    def build() -> bytes:
        report = build_report(title, points, timezone)
        return to_csv(report) if fmt == "csv" else to_xlsx(report)

    return await anyio.to_thread.run_sync(build)


def to_csv(report: Report) -> bytes:
    """The table, then the totals (text cells made safe: :mod:`confhub.core.spreadsheets`)."""
    return csv_bytes([COLUMNS, *report.rows, [], *report.totals_rows()])


def to_xlsx(report: Report) -> bytes:
    """One sheet: a title line, the table with a bold header, then the totals."""
    # Imported here: openpyxl costs every serving process 10 MiB that few requests use.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Điểm danh"
    # Every row through the one helper: user text is a string cell that never runs.
    append_xlsx_row(sheet, [report.title])
    sheet["A1"].font = Font(bold=True, size=13)
    append_xlsx_row(sheet, COLUMNS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in report.rows:
        append_xlsx_row(sheet, row)
    append_xlsx_row(sheet, [])
    for row in report.totals_rows():
        append_xlsx_row(sheet, row)
    for column, width in zip(
        "ABCDEFGHIJKLM", (10, 24, 32, 24, 30, 16, 12, 30, 20, 14, 10, 8, 14), strict=True
    ):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
