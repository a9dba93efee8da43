"""A meeting's chairs come from the directory of contacts: a new meeting's invited points show
the directory's chair, a meeting may name another for itself only, meetings not yet held follow
the directory, and a chair sheet fills the directory unless the clerk says "this meeting only"."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
CAM_TU = 15148
HAC_THANH = 14797


def new_meeting(client: TestClient[Litestar], *units: int, title: str = "Giao ban") -> int:
    """A draft meeting of Thanh Hóa with these units invited."""
    created = client.post(
        "/api/v1/meetings",
        json={
            "title": title,
            "province_code": 38,
            "starts_at": "2030-03-02T08:00:00+07:00",
            "ends_at": "2030-03-02T10:00:00+07:00",
        },
    )
    assert created.status_code == 201, created.text
    meeting_id = int(created.json()["id"])
    invited = client.post(
        f"/api/v1/meetings/{meeting_id}/invitations", json={"unit_codes": list(units)}
    )
    assert invited.status_code == 200, invited.text
    return meeting_id


def points_of(client: TestClient[Litestar], meeting_id: int) -> dict[int, dict[str, Any]]:
    """The invited points by unit code, as the API lists them."""
    answer = client.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    return {p["unit_code"]: p for p in answer.json()["items"]}


def put_contacts(client: TestClient[Litestar], point_id: int, **entry: Any) -> None:
    answer = client.put(f"/api/v1/points/{point_id}/contacts", json=entry)
    assert answer.status_code == 200, answer.text


def forget_directory(client: TestClient[Litestar], meeting_id: int) -> None:
    """Empty the directory entries of the meeting's points (the demo fills them), so the test
    starts from points the directory does not know."""
    for point in points_of(client, meeting_id).values():
        put_contacts(client, point["point_id"])
    assert not any(p["has_chair"] for p in points_of(client, meeting_id).values())


def test_meetings_take_their_chairs_from_the_directory(
    secretariat: TestClient[Litestar],
) -> None:
    first = new_meeting(secretariat, CAM_TU, HAC_THANH)
    cam_tu = points_of(secretariat, first)[CAM_TU]["point_id"]
    hac_thanh = points_of(secretariat, first)[HAC_THANH]["point_id"]
    forget_directory(secretariat, first)
    put_contacts(
        secretariat,
        cam_tu,
        chair_name="Phạm Thị Nhàn",
        chair_position="Chủ tịch UBND xã",
        phones=["+84 912 345 678"],
    )
    # A meeting created now shows the directory's chair instead of "no chair".
    second = new_meeting(secretariat, CAM_TU, HAC_THANH, title="Hội nghị thứ hai")
    points = points_of(secretariat, second)
    assert (points[CAM_TU]["chair_name"], points[CAM_TU]["chair_phone"]) == (
        "Phạm Thị Nhàn",
        "0912345678",
    )
    assert points[CAM_TU]["chair_title"] == "Chủ tịch UBND xã"
    assert not points[HAC_THANH]["has_chair"]
    page = secretariat.get(f"/meetings/{second}/points", headers=HTML)
    assert "Phạm Thị Nhàn" in page.text
    # Only Hạc Thành, which the directory does not know yet, is flagged.
    assert "1 điểm cầu chưa có người chủ trì" in page.text
    # The first meeting, invited before the directory knew the chair, follows it too.
    assert points_of(secretariat, first)[CAM_TU]["chair_name"] == "Phạm Thị Nhàn"

    # The second meeting names another chair for itself only.
    changed = secretariat.put(
        f"/api/v1/meetings/{second}/points/{cam_tu}/chair",
        json={"name": "Lê Văn An", "title": "Phó Chủ tịch UBND xã", "phone": "0987 654 321"},
    )
    assert changed.status_code == 200, changed.text
    assert secretariat.get(f"/api/v1/points/{cam_tu}/contacts").json()["chair_name"] == (
        "Phạm Thị Nhàn"
    )
    assert points_of(secretariat, first)[CAM_TU]["chair_name"] == "Phạm Thị Nhàn"

    # The directory changes: meetings that follow it take the new chair, the override stays.
    put_contacts(secretariat, cam_tu, chair_name="Trần Văn Bình", phones=["0912000111"])
    put_contacts(secretariat, hac_thanh, chair_name="Nguyễn Thị Hoa", phones=["0912000222"])
    first_points, second_points = points_of(secretariat, first), points_of(secretariat, second)
    assert first_points[CAM_TU]["chair_name"] == "Trần Văn Bình"
    assert first_points[CAM_TU]["chair_phone"] == "0912000111"
    assert second_points[CAM_TU]["chair_name"] == "Lê Văn An"
    assert second_points[CAM_TU]["chair_phone"] == "0987654321"
    assert first_points[HAC_THANH]["chair_name"] == "Nguyễn Thị Hoa"
    assert second_points[HAC_THANH]["chair_name"] == "Nguyễn Thị Hoa"

    # A meeting once held keeps the chair it had: its record says who presided.
    for status in ("scheduled", "live", "ended"):
        moved = secretariat.post(f"/api/v1/meetings/{first}/status", json={"status": status})
        assert moved.status_code == 200, moved.text
    put_contacts(secretariat, cam_tu, chair_name="Hoàng Minh Cường")
    assert points_of(secretariat, first)[CAM_TU]["chair_name"] == "Trần Văn Bình"


SHEET = (
    "Mã đơn vị,Họ và tên,Chức vụ,Điện thoại,Email\n"
    f"{CAM_TU},Lê Văn An,Chủ tịch UBND xã,912345678,an@camtu.thanhhoa.gov.vn\n"
    f"{HAC_THANH},Trịnh Văn Hải,Chủ tịch UBND phường,0912 000 333,\n"
)


def import_sheet(
    client: TestClient[Litestar], meeting_id: int, sheet: str, **params: str
) -> dict[str, Any]:
    answer = client.post(
        f"/api/v1/meetings/{meeting_id}/chairs/import",
        params=params,
        files={"data": ("chu-tri.csv", sheet.encode(), "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_chair_sheet_fills_the_directory_unless_for_this_meeting_only(
    secretariat: TestClient[Litestar],
) -> None:
    meeting_id = new_meeting(secretariat, CAM_TU, HAC_THANH)
    cam_tu = points_of(secretariat, meeting_id)[CAM_TU]["point_id"]
    contacts_url = f"/api/v1/points/{cam_tu}/contacts"
    forget_directory(secretariat, meeting_id)

    preview = import_sheet(secretariat, meeting_id, SHEET, dry_run="true")
    assert preview["ok"] and not preview["applied"]
    first, second = preview["rows"]
    # The phone the spreadsheet stored as a number: restored, and named, not silently right.
    assert first["notes"] and "read as 0912345678" in first["notes"][0]
    assert first["chair_email"] == "an@camtu.thanhhoa.gov.vn"
    assert second["notes"] == []

    import_sheet(secretariat, meeting_id, SHEET, this_meeting_only="true")
    assert points_of(secretariat, meeting_id)[CAM_TU]["chair_name"] == "Lê Văn An"
    assert secretariat.get(contacts_url).json()["chair_name"] is None

    import_sheet(secretariat, meeting_id, SHEET)
    assert secretariat.get(contacts_url).json() == {
        "point_id": cam_tu,
        "chair_name": "Lê Văn An",
        "chair_position": "Chủ tịch UBND xã",
        "phones": ["0912345678"],
        "email": "an@camtu.thanhhoa.gov.vn",
        "technician_phone": None,
    }
    # The change is logged on the point as an import from this meeting's sheet.
    page = secretariat.get(f"/points/{cam_tu}/contacts", headers=HTML)
    assert "nhập từ bảng danh sách chủ trì" in page.text
    # Another meeting now takes the imported chair from the directory.
    later = new_meeting(secretariat, CAM_TU, title="Hội nghị sau")
    assert points_of(secretariat, later)[CAM_TU]["chair_name"] == "Lê Văn An"

    # A sheet whose only row has a malformed e-mail: nothing to import, a 400 naming it (a
    # sheet with some right rows imports those and lists the rest).
    only_wrong = "\n".join(SHEET.replace("an@camtu", "an@@camtu").splitlines()[:2]) + "\n"
    wrong = secretariat.post(
        f"/api/v1/meetings/{meeting_id}/chairs/import",
        files={"data": ("x.csv", only_wrong.encode(), "text/csv")},
    )
    assert wrong.status_code == 400
    assert "row 2" in wrong.text and "not an e-mail address" in wrong.text
    contacts = secretariat.get(contacts_url).json()
    assert contacts["email"] == "an@camtu.thanhhoa.gov.vn"


def test_the_preview_page_flags_a_restored_phone_and_offers_this_meeting_only(
    secretariat: TestClient[Litestar],
) -> None:
    meeting_id = new_meeting(secretariat, CAM_TU, HAC_THANH)
    cam_tu = points_of(secretariat, meeting_id)[CAM_TU]["point_id"]
    forget_directory(secretariat, meeting_id)
    secretariat.get(f"/meetings/{meeting_id}/points", headers=HTML)
    token = str(secretariat.cookies.get("confhub_csrf"))
    preview = secretariat.post(
        f"/meetings/{meeting_id}/chairs/preview",
        data={"_csrf_token": token},
        files={"file": ("chu-tri.csv", SHEET.encode(), "text/csv")},
        headers=HTML,
    )
    assert preview.status_code == 200, preview.text
    restored_row = re.search(r'<tr class="row-check">.*?</tr>', preview.text, re.S)
    assert restored_row, preview.text
    assert "Kiểm tra" in restored_row.group(0) and "Hợp lệ" not in restored_row.group(0)
    assert "0912345678" in restored_row.group(0)
    assert preview.text.count("Hợp lệ") == 1  # only Hạc Thành's row
    assert 'name="this_meeting_only"' in preview.text

    rows = re.search(r'name="rows" value="([^"]*)"', preview.text)
    assert rows
    confirmed = secretariat.post(
        f"/meetings/{meeting_id}/chairs/import",
        data={"_csrf_token": token, "rows": html.unescape(rows.group(1)), "this_meeting_only": "1"},
        headers=HTML,
        follow_redirects=False,
    )
    assert confirmed.status_code == 303, confirmed.text
    assert points_of(secretariat, meeting_id)[CAM_TU]["chair_phone"] == "0912345678"
    assert secretariat.get(f"/api/v1/points/{cam_tu}/contacts").json()["chair_name"] is None
