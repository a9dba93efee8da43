"""`chairs.csv`, the sheet a secretariat downloads to fill in (issue #14, item 2): a chair's name,
position or phone that starts like a formula is plain text in it, and the sheet sent back as it
came names the same chairs."""

from __future__ import annotations

import csv
import io

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.meetings.test_schedule_pages import point_id_of

pytestmark = pytest.mark.integration

CAM_TU = 15148
SHEET = "text/csv"


def test_the_chair_sheet_carries_no_formula_and_goes_back_in_as_it_came(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    point = point_id_of(secretariat, meeting_id, CAM_TU)
    chair = {"name": '=HYPERLINK("http://attacker.example","Nhàn")', "title": "-Bí thư"}
    chair["phone"] = "+84 912 345 678"
    assert secretariat.put(
        f"/api/v1/meetings/{meeting_id}/points/{point}/chair", json=chair
    ).is_success

    exported = secretariat.get(f"/meetings/{meeting_id}/chairs.csv")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    (cam_tu,) = [row for row in rows if row[0] == str(CAM_TU)]
    # The phone is stored in the national form, which never starts like a formula.
    assert cam_tu[2:] == ["'" + chair["name"], "'" + chair["title"], "0912345678"]

    # Filled in and sent back unchanged, the sheet names the same chair as before.
    back = secretariat.post(
        f"/api/v1/meetings/{meeting_id}/chairs/import",
        files={"data": ("chairs.csv", exported.content, SHEET)},
    )
    assert back.status_code == 200, back.text
    points = secretariat.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500})
    (again,) = [p for p in points.json()["items"] if p["unit_code"] == CAM_TU]
    assert (again["chair_name"], again["chair_title"], again["chair_phone"]) == (
        chair["name"],
        chair["title"],
        "0912345678",
    )
