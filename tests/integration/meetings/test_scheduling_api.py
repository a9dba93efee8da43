"""Scheduling through the JSON API: create, edit, reschedule, status steps, invitations, chairs,
check-in links, copy and the audit log — the rules the secretariat relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.conftest import login

pytestmark = pytest.mark.integration

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(
    hour=7, minute=0, second=0, microsecond=0
)


def _create(client: TestClient[Litestar], **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Hội nghị giao ban trực tuyến tháng 12",
        "province_code": 38,
        "starts_at": TOMORROW.isoformat(),
        "ends_at": (TOMORROW + timedelta(hours=2)).isoformat(),
        "convening_body": "Thường trực Tỉnh ủy",
        "presiding_official": "Bí thư Tỉnh ủy",
        "agenda": [
            {
                "title": "Khai mạc",
                "presenter": "Chánh Văn phòng",
                "starts_at": TOMORROW.isoformat(),
            },
            {"title": "Thảo luận"},
        ],
    } | overrides
    response = client.post("/api/v1/meetings", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_create_read_and_list_with_filters(secretariat: TestClient[Litestar]) -> None:
    created = _create(secretariat)
    assert created["status"] == "draft"
    assert [a["title"] for a in created["agenda"]] == ["Khai mạc", "Thảo luận"]
    got = secretariat.get(f"/api/v1/meetings/{created['id']}").json()
    assert got["title"] == created["title"]

    day = TOMORROW.astimezone(UTC).date().isoformat()
    listed = secretariat.get("/api/v1/meetings", params={"status": "draft", "q": "giao ban"}).json()
    assert [m["id"] for m in listed["items"]] == [created["id"]]
    by_day = secretariat.get("/api/v1/meetings", params={"from": day, "to": day}).json()
    assert created["id"] in [m["id"] for m in by_day["items"]]
    none = secretariat.get("/api/v1/meetings", params={"q": "không có từ này"}).json()
    assert none["total"] == 0
    bad = secretariat.get("/api/v1/meetings", params={"from": "2025-09-12", "to": "2025-09-01"})
    assert bad.status_code == 400
    assert "to" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": (TOMORROW - timedelta(hours=1)).isoformat()}, "ends_at"),
        ({"starts_at": "2025-09-10T14:00:00"}, "starts_at"),
        ({"province_code": 999}, "province_code"),
        ({"title": ""}, "title"),
        ({"starts_at": "not a date"}, "starts_at"),
    ],
)
def test_bad_meeting_input_names_the_field(
    secretariat: TestClient[Litestar], overrides: dict[str, Any], field: str
) -> None:
    body = {
        "title": "x",
        "province_code": 38,
        "starts_at": TOMORROW.isoformat(),
        "ends_at": (TOMORROW + timedelta(hours=1)).isoformat(),
    } | overrides
    response = secretariat.post("/api/v1/meetings", json=body)
    assert response.status_code in (400, 403)
    if response.status_code == 400:
        assert field in response.text


def test_secretariat_cannot_schedule_for_another_province(
    secretariat: TestClient[Litestar],
) -> None:
    response = secretariat.post(
        "/api/v1/meetings",
        json={
            "title": "x",
            "province_code": 1,
            "starts_at": TOMORROW.isoformat(),
            "ends_at": (TOMORROW + timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status_code == 403


def test_status_steps_and_impossible_ones(secretariat: TestClient[Litestar]) -> None:
    meeting = _create(secretariat)
    url = f"/api/v1/meetings/{meeting['id']}/status"
    assert secretariat.post(url, json={"status": "ended"}).status_code == 409
    assert secretariat.post(url, json={"status": "live"}).status_code == 409
    assert secretariat.post(url, json={"status": "scheduled"}).json()["status"] == "scheduled"
    assert secretariat.post(url, json={"status": "scheduled"}).status_code == 409
    no_reason = secretariat.post(url, json={"status": "cancelled"})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["detail"]
    assert secretariat.post(url, json={"status": "live"}).json()["status"] == "live"
    assert secretariat.post(url, json={"status": "cancelled", "reason": "x"}).status_code == 409
    assert secretariat.post(url, json={"status": "ended"}).json()["status"] == "ended"
    assert secretariat.post(url, json={"status": "scheduled"}).status_code == 409
    assert secretariat.post(url, json={"status": "postponed"}).status_code == 400
    edit = secretariat.patch(f"/api/v1/meetings/{meeting['id']}", json={"title": "y"})
    assert edit.status_code == 409


def test_cancel_with_reason(secretariat: TestClient[Litestar]) -> None:
    meeting = _create(secretariat)
    url = f"/api/v1/meetings/{meeting['id']}/status"
    cancelled = secretariat.post(url, json={"status": "cancelled", "reason": "Bão số 6"}).json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["status_reason"] == "Bão số 6"


def test_reschedule_keeps_invitations_and_raises_sequence(
    secretariat: TestClient[Litestar],
) -> None:
    meeting = _create(secretariat)
    mid = meeting["id"]
    invited = secretariat.post(f"/api/v1/meetings/{mid}/invitations", json={"all_units": True})
    assert invited.json() == {"added": 166, "already_invited": 0, "invited_count": 166}
    later = TOMORROW + timedelta(days=2)
    moved = secretariat.patch(f"/api/v1/meetings/{mid}", json={"starts_at": later.isoformat()})
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert datetime.fromisoformat(body["starts_at"]) == later
    # Moving the start alone keeps the two-hour length.
    assert datetime.fromisoformat(body["ends_at"]) == later + timedelta(hours=2)
    assert body["invited_count"] == 166
    assert body["sequence"] > meeting["sequence"]
    naive = secretariat.patch(f"/api/v1/meetings/{mid}", json={"starts_at": "2026-12-01T08:00:00"})
    assert naive.status_code == 400
    assert "starts_at" in naive.json()["detail"]
    bad = secretariat.patch(
        f"/api/v1/meetings/{mid}", json={"ends_at": (later - timedelta(hours=1)).isoformat()}
    )
    assert bad.status_code == 400
    assert "ends_at" in bad.json()["detail"]


def test_reschedule_moves_the_agenda_unless_one_is_sent(
    secretariat: TestClient[Litestar],
) -> None:
    start = TOMORROW
    agenda = [{"title": "Khai mạc", "starts_at": start.isoformat()}, {"title": "Thảo luận"}]
    mid = _create(secretariat, agenda=agenda)["id"]
    url = f"/api/v1/meetings/{mid}"
    moved = secretariat.patch(url, json={"starts_at": (start + timedelta(minutes=30)).isoformat()})
    items = moved.json()["agenda"]
    assert datetime.fromisoformat(items[0]["starts_at"]) == start + timedelta(minutes=30)
    assert items[1]["starts_at"] is None
    # An agenda sent with the move is taken as sent...
    sent = [{"title": "Khai mạc", "starts_at": (start + timedelta(hours=1)).isoformat()}]
    again = secretariat.patch(url, json={"starts_at": start.isoformat(), "agenda": sent})
    first = again.json()["agenda"][0]
    assert datetime.fromisoformat(first["starts_at"]) == start + timedelta(hours=1)
    # ...and a move can leave the agenda where it is.
    kept = secretariat.patch(
        url, json={"starts_at": (start + timedelta(hours=3)).isoformat(), "shift_agenda": False}
    )
    first = kept.json()["agenda"][0]
    assert datetime.fromisoformat(first["starts_at"]) == start + timedelta(hours=1)


def test_invite_by_type_codes_names_and_remove(secretariat: TestClient[Litestar]) -> None:
    mid = _create(secretariat)["id"]
    url = f"/api/v1/meetings/{mid}/invitations"
    wards = secretariat.post(url, json={"unit_types": ["phường"]}).json()
    assert wards["added"] > 0
    assert wards["invited_count"] == wards["added"]
    by_code_and_name = secretariat.post(url, json={"unit_codes": [15148, "Xã Cẩm Tú"]}).json()
    assert by_code_and_name["invited_count"] == wards["added"] + 1
    again = secretariat.post(url, json={"unit_codes": ["cam tu"]}).json()
    assert again == {
        "added": 0,
        "already_invited": 1,
        "invited_count": wards["added"] + 1,
    }
    other_province = secretariat.post(url, json={"unit_codes": [4]})
    assert other_province.status_code == 400
    assert "not in province 38" in other_province.json()["detail"]
    unknown = secretariat.post(url, json={"unit_codes": ["Xã Không Có"]})
    assert unknown.status_code == 400
    assert secretariat.post(url, json={}).status_code == 400
    points = secretariat.get(f"/api/v1/meetings/{mid}/points", params={"limit": 500}).json()
    cam_tu = next(p for p in points["items"] if p["unit_code"] == 15148)
    removed = secretariat.delete(f"/api/v1/meetings/{mid}/points/{cam_tu['point_id']}")
    assert removed.status_code == 204
    after = secretariat.get(f"/api/v1/meetings/{mid}/points", params={"limit": 500}).json()
    assert after["total"] == points["total"] - 1


def test_chairs_links_and_revocation(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    mid = demo_seed.upcoming_meeting_id
    points = secretariat.get(f"/api/v1/meetings/{mid}/points", params={"limit": 500}).json()
    assert points["total"] == 166
    cam_tu = next(p for p in points["items"] if p["unit_code"] == 15148)
    assert cam_tu["chair_name"] == "Phạm Thị Nhàn"
    assert cam_tu["checkin_url"].endswith(f"/checkin/{demo_seed.cam_tu_token}")
    point_url = f"/api/v1/meetings/{mid}/points/{cam_tu['point_id']}"

    chair = secretariat.put(
        f"{point_url}/chair",
        json={"name": "Lê Văn A", "title": "Chủ tịch UBND xã", "phone": "0912 345 678"},
    )
    assert chair.json()["chair_name"] == "Lê Văn A"
    assert (
        secretariat.put(f"{point_url}/chair", json={"name": "B", "phone": "gọi tôi"}).status_code
        == 400
    )
    assert secretariat.delete(f"{point_url}/chair").status_code == 204
    flagged = secretariat.get(
        f"/api/v1/meetings/{mid}/points", params={"without_chair": True}
    ).json()
    assert [p["unit_code"] for p in flagged["items"]] == [15148]

    assert secretariat.get(f"/checkin/{demo_seed.cam_tu_token}").status_code == 200
    revoked = secretariat.post(f"{point_url}/checkin-link/revoke").json()
    assert "checkin_url" not in revoked
    assert secretariat.get(f"/checkin/{demo_seed.cam_tu_token}").status_code == 404
    assert secretariat.get(f"{point_url}/qr.svg").status_code == 404
    reissued = secretariat.post(f"{point_url}/checkin-link/reissue").json()
    new_url = reissued["checkin_url"]
    assert demo_seed.cam_tu_token not in new_url
    new_token = new_url.rsplit("/", 1)[1]
    assert len(new_token) >= 22  # 128 bits, URL-safe
    assert secretariat.get(f"/checkin/{new_token}").status_code == 200
    svg = secretariat.get(f"{point_url}/qr.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content


def test_copy_keeps_invitations_and_chairs_with_new_links(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    source = demo_seed.past_meeting_id
    next_month = datetime(2026, 12, 10, 14, 0, tzinfo=UTC)
    copy = secretariat.post(
        f"/api/v1/meetings/{source}/copy", json={"starts_at": next_month.isoformat()}
    )
    assert copy.status_code == 201, copy.text
    body = copy.json()
    assert body["status"] == "draft"
    assert body["copied_from_id"] == source
    assert body["invited_count"] == 166
    assert datetime.fromisoformat(body["ends_at"]) - next_month == timedelta(hours=3)
    assert len(body["agenda"]) == 4
    old = secretariat.get(f"/api/v1/meetings/{source}/points", params={"limit": 500}).json()
    new = secretariat.get(f"/api/v1/meetings/{body['id']}/points", params={"limit": 500}).json()
    chairs = lambda page: {p["unit_code"]: p["chair_name"] for p in page["items"]}  # noqa: E731
    assert chairs(old) == chairs(new)
    links = lambda page: {p["checkin_url"] for p in page["items"]}  # noqa: E731
    assert not links(old) & links(new)


def test_every_change_is_in_the_audit_log(secretariat: TestClient[Litestar]) -> None:
    mid = _create(secretariat)["id"]
    secretariat.post(f"/api/v1/meetings/{mid}/invitations", json={"unit_codes": [15148]})
    secretariat.patch(f"/api/v1/meetings/{mid}", json={"title": "Tên mới"})
    secretariat.post(f"/api/v1/meetings/{mid}/status", json={"status": "scheduled"})
    log = secretariat.get(f"/api/v1/meetings/{mid}/audit").json()
    actions = [e["action"] for e in log["items"]]
    assert actions == ["status", "updated", "invited", "created"]
    assert all(e["actor"] == "thuky@thanhhoa.confhub.example" for e in log["items"])
    updated = log["items"][1]["details"]["changes"]["title"]
    assert updated == ["Hội nghị giao ban trực tuyến tháng 12", "Tên mới"]


def test_other_roles_read_but_do_not_change(
    client: TestClient[Litestar], demo_seed: DemoSeed, make_client: Any
) -> None:
    chair = make_client()
    login(chair, demo_seed.chair_email, demo_seed.chair_password)
    mid = demo_seed.upcoming_meeting_id
    points = chair.get(f"/api/v1/meetings/{mid}/points", params={"limit": 500})
    assert points.status_code == 200
    assert all("checkin_url" not in p and "chair_phone" not in p for p in points.json()["items"])
    assert chair.patch(f"/api/v1/meetings/{mid}", json={"title": "x"}).status_code == 403
    assert (
        chair.post(f"/api/v1/meetings/{mid}/invitations", json={"all_units": True}).status_code
        == 403
    )
    assert chair.get(f"/api/v1/meetings/{mid}/audit").status_code == 403
