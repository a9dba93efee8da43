"""Every invited point's check-in link as a sheet (CSV or XLSX) the secretariat sends on by mail
merge, SMS or Zalo instead of copying 166 links one by one: unit code, name, chair, phone, link.

The links carry their tokens (whoever holds one answers for that point), so only the meeting's
secretariat downloads them; cells are formula-safe (:mod:`confhub.core.spreadsheets`).
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio.to_thread

from confhub.core.spreadsheets import Cell, append_xlsx_row, csv_bytes
from confhub.meetings import qr
from confhub.meetings.invitations import InvitedPoint
from confhub.settings import Settings

HEADER = ("Mã đơn vị", "Đơn vị", "Người chủ trì", "Điện thoại", "Đường dẫn điểm danh")
FORMATS = ("csv", "xlsx")


def link_rows(settings: Settings, points: Sequence[InvitedPoint]) -> list[list[Cell]]:
    """One row per invited point (the province's own point has no unit code); a revoked link
    is an empty cell."""
    return [
        [
            point.unit_code,
            point.unit_name or point.point_name,
            point.chair_name or "",
            point.chair_phone or "",
            qr.checkin_url(settings, point.checkin_token) if point.checkin_token else "",
        ]
        for point in points
    ]


def _xlsx(rows: list[list[Cell]]) -> bytes:
    # Imported here: openpyxl costs every serving process 10 MiB that few requests use.
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Đường dẫn điểm danh"
    append_xlsx_row(sheet, HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_xlsx_row(sheet, row)
    for column, width in zip("ABCDE", (11, 28, 26, 14, 70), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def export(settings: Settings, points: Sequence[InvitedPoint], fmt: str) -> bytes:
    """The sheet as `csv` (UTF-8 with BOM, commas) or `xlsx`, built in a worker thread (a
    national meeting's XLSX would otherwise hold up the event loop)."""
    rows = link_rows(settings, points)
    if fmt == "csv":
        return csv_bytes([HEADER, *rows])
    return await anyio.to_thread.run_sync(_xlsx, rows)
