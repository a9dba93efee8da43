"""`/api/v1/points/{id}/contacts` and the directory's pages: who reads, who writes, what a wrong
phone or e-mail answers, and the log of every change."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.conftest import login
from tests.helpers.accounts import PASSWORD, create_accounts

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
CAM_TU = 15148
HAC_THANH = 14797
ENTRY = {
    "chair_name": "Phạm Thị Nhàn",
    "chair_position": "Chủ tịch UBND xã",
    "phones": ["+84 912 345 678", "0912.000.111"],
    "email": "nhan@camtu.thanhhoa.gov.vn",
    "technician_phone": "0237 385 2468",
}


def point_id(client: TestClient[Litestar], meeting_id: int, unit_code: int) -> int:
    """A unit's point, from the meeting's list (the secretariat's client)."""
    items = client.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500}).json()
    return next(p["point_id"] for p in items["items"] if p["unit_code"] == unit_code)


@pytest.fixture
def clients(
    secretariat: TestClient[Litestar],
    make_client: Callable[..., TestClient[Litestar]],
    demo_db: str,
    demo_seed: DemoSeed,
) -> dict[str, TestClient[Litestar]]:
    """One signed-in client per role the matrix needs, and an anonymous one."""
    create_accounts(
        demo_db,
        [
            ("viewer@th.example", "viewer", {"province_code": 38}),
            ("secretariat@hn.example", "secretariat", {"province_code": 1}),
            ("admin@confhub.example", "admin", {}),
        ],
    )
    result = {"secretariat": secretariat, "anonymous": make_client()}
    for name, email, password in (
        ("own unit", demo_seed.chair_email, demo_seed.chair_password),
        ("viewer", "viewer@th.example", PASSWORD),
        ("other province", "secretariat@hn.example", PASSWORD),
        ("admin", "admin@confhub.example", PASSWORD),
    ):
        result[name] = make_client()
        login(result[name], email, password)
    return result


def test_who_reads_and_who_writes_a_points_contacts(
    clients: dict[str, TestClient[Litestar]], demo_seed: DemoSeed
) -> None:
    secretariat = clients["secretariat"]
    cam_tu = point_id(secretariat, demo_seed.upcoming_meeting_id, CAM_TU)
    hac_thanh = point_id(secretariat, demo_seed.upcoming_meeting_id, HAC_THANH)
    url = f"/api/v1/points/{cam_tu}/contacts"

    saved = secretariat.put(url, json=ENTRY)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {
        "point_id": cam_tu,
        "chair_name": "Phạm Thị Nhàn",
        "chair_position": "Chủ tịch UBND xã",
        "phones": ["0912345678", "0912000111"],
        "email": "nhan@camtu.thanhhoa.gov.vn",
        "technician_phone": "02373852468",
    }
    expected_reads = {
        "secretariat": 200,
        "admin": 200,
        "own unit": 200,  # Cẩm Tú's chair reads its own point's entry
        "viewer": 403,
        "other province": 403,
        "anonymous": 401,
    }
    for name, status in expected_reads.items():
        answer = clients[name].get(url)
        assert answer.status_code == status, (name, answer.text)
        if status == 200:
            assert answer.json()["phones"] == ["0912345678", "0912000111"]
        else:
            assert "Phạm" not in answer.text and "0912" not in answer.text
    # Cẩm Tú's chair does not read another unit's entry.
    assert clients["own unit"].get(f"/api/v1/points/{hac_thanh}/contacts").status_code == 403

    expected_writes = {
        "admin": 200,
        "own unit": 403,
        "viewer": 403,
        "other province": 403,
        "anonymous": 401,
    }
    for name, status in expected_writes.items():
        answer = clients[name].put(url, json={**ENTRY, "chair_name": f"Người của {name}"})
        assert answer.status_code == status, (name, answer.text)
    assert secretariat.get(url).json()["chair_name"] == "Người của admin"
    assert secretariat.get("/api/v1/points/999999/contacts").status_code == 404

    # The directory page: a secretariat's own province; an admin chooses one.
    admin = clients["admin"]
    assert "/points?province=38" in admin.get("/points", headers=HTML).text
    assert "Người của admin" in admin.get("/points?province=38", headers=HTML).text
    assert clients["other province"].get("/points?province=38", headers=HTML).status_code == 403
    assert clients["viewer"].get("/points", headers=HTML).status_code == 403


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"phones": ["0912 345 67"]}, "phones[0]", "not a Vietnamese phone number"),
        ({"phones": ["+1 202 555 0100"]}, "phones[0]", "not a Vietnamese phone number"),
        ({"technician_phone": "gọi anh Hùng"}, "technician_phone", "not a Vietnamese phone"),
        ({"email": "nhan@@camtu"}, "email", "not an e-mail address"),
        ({"phones": "0912345678"}, "phones", "Expected `array`"),
        ({"fax": "0237 385 2468"}, "fax", "unknown field"),
    ],
)
def test_a_wrong_value_is_a_400_naming_its_field(
    secretariat: TestClient[Litestar],
    demo_seed: DemoSeed,
    change: dict[str, object],
    field: str,
    words: str,
) -> None:
    cam_tu = point_id(secretariat, demo_seed.upcoming_meeting_id, CAM_TU)
    url = f"/api/v1/points/{cam_tu}/contacts"
    before = secretariat.get(url).json()
    answer = secretariat.put(url, json={**ENTRY, **change})
    assert answer.status_code == 400, answer.text
    assert field in answer.text and words in answer.text, answer.text
    # Nothing was stored: the entry is the demo's, as it was.
    assert secretariat.get(url).json() == before
    assert before["email"] != ENTRY["email"]  # had it been stored, the entry would differ


def test_a_number_without_its_leading_zero_is_restored(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    cam_tu = point_id(secretariat, demo_seed.upcoming_meeting_id, CAM_TU)
    answer = secretariat.put(f"/api/v1/points/{cam_tu}/contacts", json={"phones": ["912345678"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["phones"] == ["0912345678"]
    # Restored, not silently right: flagged on the directory and the entry's page.
    flag = "Kiểm tra: số 0 đầu bị mất"
    directory = secretariat.get("/points", headers=HTML).text
    row = re.search(rf'<tr id="point-{cam_tu}".*?</tr>', directory, re.S)
    assert row is not None and flag in row.group(0)
    page = secretariat.get(f"/points/{cam_tu}/contacts", headers=HTML).text
    assert 'id="phones-to-check"' in page and "0912345678" in page
    # A person saving the entry (the number written with its 0) marks it checked.
    again = secretariat.put(f"/api/v1/points/{cam_tu}/contacts", json={"phones": ["0912345678"]})
    assert again.status_code == 200, again.text
    row = re.search(
        rf'<tr id="point-{cam_tu}".*?</tr>', secretariat.get("/points", headers=HTML).text, re.S
    )
    assert row is not None and flag not in row.group(0)
    page = secretariat.get(f"/points/{cam_tu}/contacts", headers=HTML).text
    assert 'id="phones-to-check"' not in page


def test_the_directory_pages_edit_and_log_the_contacts(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    cam_tu = point_id(secretariat, demo_seed.upcoming_meeting_id, CAM_TU)
    directory = secretariat.get("/points", headers=HTML)
    assert directory.status_code == 200
    assert "Xã Cẩm Tú" in directory.text and f"/points/{cam_tu}/contacts" in directory.text

    page = secretariat.get(f"/points/{cam_tu}/contacts", headers=HTML)
    assert page.status_code == 200
    token = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
    form = {
        "_csrf_token": token,
        "chair_name": "Phạm Thị Nhàn",
        "chair_position": "Chủ tịch UBND xã",
        "phones": "0912 345 678\n+84 987 654 321",
        "email": "nhan@camtu.gov.vn",
        "technician_phone": "",
    }
    wrong = secretariat.post(
        f"/points/{cam_tu}/contacts", data={**form, "phones": "0912 345"}, headers=HTML
    )
    assert wrong.status_code == 400
    assert "không phải số điện thoại Việt Nam" in wrong.text
    assert "0912 345" in wrong.text  # what was typed is kept

    saved = secretariat.post(
        f"/points/{cam_tu}/contacts", data=form, headers=HTML, follow_redirects=False
    )
    assert saved.status_code == 303
    page = secretariat.get(saved.headers["location"], headers=HTML)
    assert "0987654321" in page.text
    # The log names who changed what.
    assert demo_seed.organizer_email in page.text
    assert "0912345678, 0987654321" in page.text
    assert secretariat.get(f"/api/v1/points/{cam_tu}/contacts").json()["phones"] == [
        "0912345678",
        "0987654321",
    ]
