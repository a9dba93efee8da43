"""A meeting's roll-call limits (issue #18, item 5): the roll call opens at a time set per
meeting (the line test unless set), and a point's delegates are bounded per meeting (1 to 500
unless set), through every door: the API, the live channel, the check-in page's form, and the
answer to the invitation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.attendance.test_live_pages import HTML, hidden_key, post_form

pytestmark = pytest.mark.integration

CAM_TU = 15148


def tomorrows_meeting(secretariat: TestClient[Litestar], **fields: Any) -> tuple[int, dict]:
    """A scheduled meeting at 14:00 tomorrow (Vietnam time) with Cẩm Tú invited; its id and
    Cẩm Tú's row (with the link)."""
    day = (datetime.now(UTC) + timedelta(days=1)).date()
    starts = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)  # 14:00 in Hà Nội
    created = secretariat.post(
        "/api/v1/meetings",
        json={
            "title": "Hội nghị sơ kết công tác quý IV",
            "province_code": 38,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "status": "scheduled",
            **fields,
        },
    )
    assert created.status_code == 201, created.text
    meeting_id = int(created.json()["id"])
    invited = secretariat.post(
        f"/api/v1/meetings/{meeting_id}/invitations", json={"unit_codes": [CAM_TU]}
    )
    assert invited.status_code == 200, invited.text
    points = secretariat.get(f"/api/v1/meetings/{meeting_id}/points").json()["items"]
    return meeting_id, next(p for p in points if p["unit_code"] == CAM_TU)


def token_of(point: dict) -> str:
    return str(point["checkin_url"]).rsplit("/", 1)[-1]


def api_checkin(
    client: TestClient[Litestar], meeting_id: int, point: dict, key: str, delegates: int
) -> Any:
    return client.post(
        f"/api/v1/meetings/{meeting_id}/checkins",
        headers={"X-Checkin-Token": token_of(point)},
        json={
            "point_id": point["point_id"],
            "status": "present",
            "delegates_present": delegates,
            "idempotency_key": key,
        },
    )


def socket_checkin(
    client: TestClient[Litestar], meeting_id: int, point: dict, key: str, delegates: int
) -> dict[str, Any]:
    """A check-in over the live channel; the reply to it."""
    with client.websocket_connect(f"/ws/meetings/{meeting_id}?token={token_of(point)}") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        ws.send_json(
            {
                "type": "checkin",
                "point_id": point["point_id"],
                "status": "present",
                "delegates_present": delegates,
                "idempotency_key": key,
            }
        )
        while True:
            reply: dict[str, Any] = ws.receive_json()
            if reply["type"] in ("ack", "error"):
                return reply


def test_the_roll_call_opens_at_the_line_test_unless_set(
    client: TestClient[Litestar], secretariat: TestClient[Litestar]
) -> None:
    meeting_id, point = tomorrows_meeting(secretariat)
    meeting = secretariat.get(f"/api/v1/meetings/{meeting_id}").json()
    assert meeting["roll_call_opens_at"] == meeting["line_test_at"]
    assert meeting["roll_call_opens_at"].startswith(meeting["starts_at"][:11])
    assert (meeting["delegates_min"], meeting["delegates_max"]) == (1, 500)

    # Every door says when it opens, and nothing is stored.
    early = api_checkin(client, meeting_id, point, "early-api", 12)
    assert early.status_code == 409
    assert early.json()["detail"].startswith("The roll call opens at 13:30 ")
    reply = socket_checkin(client, meeting_id, point, "early-ws", 12)
    assert reply["type"] == "error" and reply["status_code"] == 409
    assert "13:30" in reply["detail"]
    path = f"/checkin/{token_of(point)}"
    page = client.get(path, headers=HTML).text
    assert 'id="checkin-form"' not in page and 'id="ack-form"' in page
    assert "Điểm danh mở lúc 13:30" in page and "vui lòng xác nhận giấy mời" in page
    refused = post_form(
        client,
        path,
        {"status": "present", "delegates_present": "12", "idempotency_key": "early-form"},
    )
    assert refused.status_code == 409 and "Điểm danh mở lúc 13:30" in refused.text
    # The technician still reports the line (the line test comes before the roll call).
    assert 'id="signal-form"' in page
    state = secretariat.get(f"/api/v1/meetings/{meeting_id}/attendance").json()
    assert state["totals"]["present"] == 0

    # The secretariat opens it now: every door takes the answer.
    opened = secretariat.patch(
        f"/api/v1/meetings/{meeting_id}",
        json={"roll_call_opens_at": datetime.now(UTC).replace(microsecond=0).isoformat()},
    )
    assert opened.status_code == 200, opened.text
    assert api_checkin(client, meeting_id, point, "open-api", 12).status_code == 201
    assert socket_checkin(client, meeting_id, point, "open-ws", 13)["type"] == "ack"
    page = client.get(path, headers=HTML).text
    stored = post_form(
        client,
        path,
        {"status": "present", "delegates_present": "14", "idempotency_key": hidden_key(page)},
    )
    assert stored.status_code == 303
    # Back to the default (the line test, tomorrow): closed again until then.
    reset = secretariat.patch(f"/api/v1/meetings/{meeting_id}", json={"roll_call_opens_at": None})
    assert reset.json()["roll_call_opens_at"] == reset.json()["line_test_at"]
    assert api_checkin(client, meeting_id, point, "late-api", 12).status_code == 409


def test_a_live_meeting_takes_answers_before_its_opening(
    client: TestClient[Litestar], secretariat: TestClient[Litestar]
) -> None:
    meeting_id, point = tomorrows_meeting(secretariat)
    live = secretariat.post(f"/api/v1/meetings/{meeting_id}/status", json={"status": "live"})
    assert live.status_code == 200, live.text
    assert api_checkin(client, meeting_id, point, "started-early", 20).status_code == 201


def test_the_delegates_are_bounded_per_meeting_through_every_door(
    client: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    meeting_id, point = tomorrows_meeting(secretariat, roll_call_opens_at=now)
    for count in (0, 501, 100_000):
        refused = api_checkin(client, meeting_id, point, f"api-{count}", count)
        assert refused.status_code == 400, count
        assert refused.json()["detail"] == (
            "delegates_present: must be a number from 1 to 500 for this meeting"
        )
        reply = socket_checkin(client, meeting_id, point, f"ws-{count}", count)
        assert reply["type"] == "error" and reply["status_code"] == 400
        assert "from 1 to 500" in reply["detail"]
    path = f"/checkin/{token_of(point)}"
    page = client.get(path, headers=HTML).text
    assert 'min="1" max="500"' in page and "(khi có mặt; từ 1 đến 500)" in page
    form = {"status": "present", "delegates_present": "100000", "idempotency_key": "form-big"}
    refused_page = post_form(client, path, form)
    assert refused_page.status_code == 400
    assert "Nhập số đại biểu từ 1 đến 500." in refused_page.text, re.findall(
        r'class="field-error"[^<]*<', refused_page.text
    )
    assert 'value="100000"' in refused_page.text  # what was typed is kept
    # The answer to the invitation is bounded the same.
    ack = client.post(
        f"/api/v1/meetings/{meeting_id}/acknowledgements",
        headers={"X-Checkin-Token": token_of(point)},
        json={"point_id": point["point_id"], "status": "received", "delegates_expected": 900},
    )
    assert ack.status_code == 400 and "from 1 to 500" in ack.json()["detail"]
    ack_page = post_form(
        client, f"{path}/acknowledgement", {"status": "received", "delegates_expected": "900"}
    )
    assert ack_page.status_code == 400 and "Nhập số đại biểu từ 1 đến 500." in ack_page.text

    # A bigger hall: the meeting allows more.
    raised = secretariat.patch(
        f"/api/v1/meetings/{meeting_id}", json={"delegates_min": 0, "delegates_max": 2000}
    )
    assert raised.status_code == 200, raised.text
    assert api_checkin(client, meeting_id, point, "api-900", 900).status_code == 201
    assert api_checkin(client, meeting_id, point, "api-0", 0).status_code == 201
    assert api_checkin(client, meeting_id, point, "api-2001", 2001).status_code == 400


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"delegates_min": 10, "delegates_max": 5}, "delegates_max"),
        ({"delegates_max": 100_001}, "delegates_max"),
        ({"delegates_min": -1}, "delegates_min"),
        ({"roll_call_opens_at": "2099-01-01T00:00:00+07:00"}, "roll_call_opens_at"),
        ({"roll_call_opens_at": "2026-12-01T10:00:00"}, "roll_call_opens_at"),
    ],
)
def test_impossible_limits_are_a_400_naming_the_field(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, fields: dict, field: str
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    refused = secretariat.patch(f"/api/v1/meetings/{meeting_id}", json=fields)
    assert refused.status_code == 400, refused.text
    body = refused.json()
    named = {entry["key"] for entry in body.get("extra", [])}
    assert field in named or body["detail"].startswith(field), refused.text


def test_the_meeting_form_sets_the_limits_and_the_log_names_them(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    edit = secretariat.get(f"/meetings/{meeting_id}/edit", headers=HTML).text
    assert 'name="delegates_min"' in edit and 'value="500"' in edit
    assert "Mở điểm danh lúc" in edit
    meeting = secretariat.get(f"/api/v1/meetings/{meeting_id}").json()
    sequence = meeting["sequence"]
    changed = secretariat.patch(f"/api/v1/meetings/{meeting_id}", json={"delegates_max": 80})
    assert changed.status_code == 200
    # No calendar shows the bounds: no new SEQUENCE; the change log names them.
    assert changed.json()["sequence"] == sequence
    audit = secretariat.get(f"/api/v1/meetings/{meeting_id}/audit").json()["items"][0]
    assert audit["details"]["changes"]["delegates_max"] == [500, 80]
    history = secretariat.get(f"/meetings/{meeting_id}/history", headers=HTML).text
    assert "số đại biểu tối đa tại một điểm cầu từ 500 thành 80" in history
