"""`links.csv` and `links.xlsx`: every invited point's check-in link with its unit, chair and
phone, for the secretariat to send on; formula-safe, and the links open their points."""

from __future__ import annotations

import csv
import io

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from openpyxl import load_workbook

from confhub.demo import DemoSeed
from tests.conftest import login

pytestmark = pytest.mark.integration

CAM_TU = 15148
HEADER = ["Mã đơn vị", "Đơn vị", "Người chủ trì", "Điện thoại", "Đường dẫn điểm danh"]


def test_the_links_sheets_list_every_invited_point(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    points = secretariat.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500})
    (cam_tu,) = [p for p in points.json()["items"] if p["unit_code"] == CAM_TU]
    # A chair whose name starts like a formula stays text in both sheets.
    chair = {"name": "=cmd|'/C calc'!A0", "phone": "0912 345 678"}
    put = secretariat.put(
        f"/api/v1/meetings/{meeting_id}/points/{cam_tu['point_id']}/chair", json=chair
    )
    assert put.status_code == 200, put.text

    answer = secretariat.get(f"/api/v1/meetings/{meeting_id}/links.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert len(rows) == 1 + len(points.json()["items"]) == 167
    (row,) = [r for r in rows if r[0] == str(CAM_TU)]
    assert row[1:4] == ["Xã Cẩm Tú", "'" + chair["name"], "0912345678"]
    assert row[4] == cam_tu["checkin_url"] and row[4].startswith("http://")
    # The link in the sheet opens Cẩm Tú's check-in page.
    page = secretariat.get(
        row[4].removeprefix("http://testserver.local"), headers={"Accept": "text/html"}
    )
    assert page.status_code == 200 and "Cẩm Tú" in page.text

    workbook = secretariat.get(f"/api/v1/meetings/{meeting_id}/links.xlsx")
    assert workbook.status_code == 200
    assert workbook.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == HEADER
    (xrow,) = [r for r in values if r[0] == CAM_TU]
    assert xrow[1:] == ["Xã Cẩm Tú", "'" + chair["name"], "0912345678", cam_tu["checkin_url"]]
    assert all(
        cell.data_type == "s" for r in sheet.iter_rows(min_row=2) for cell in r[1:] if cell.value
    )

    # The points page links both.
    html = secretariat.get(f"/meetings/{meeting_id}/points", headers={"Accept": "text/html"}).text
    assert f"/api/v1/meetings/{meeting_id}/links.csv" in html
    assert f"/api/v1/meetings/{meeting_id}/links.xlsx" in html


def test_only_the_secretariat_downloads_the_links(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    assert client.get(f"/api/v1/meetings/{meeting_id}/links.csv").status_code == 401
    login(client, demo_seed.chair_email, demo_seed.chair_password)
    assert client.get(f"/api/v1/meetings/{meeting_id}/links.xlsx").status_code == 403
