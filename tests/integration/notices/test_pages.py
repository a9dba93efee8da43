"""The notices' pages: the chair answers the invitation on the check-in page (no script), the
board's snapshot carries each point's notice state, the outbox shows every message as it would
be sent when no mail server is configured, and a meeting's "not yet confirmed" list exports and
resends."""

from __future__ import annotations

import csv
import io
import re

import icalendar
import pytest

from tests.conftest import login
from tests.integration.notices.conftest import outbox_rows

pytestmark = pytest.mark.integration


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_the_chair_answers_the_invitation_on_the_checkin_page(client, demo_seed) -> None:
    path = f"/checkin/{demo_seed.cam_tu_token}"
    page = client.get(path)
    assert page.status_code == 200
    assert 'id="ack-form"' in page.text
    assert "Chưa trả lời" in page.text
    token = csrf(page.text)
    refused = client.post(
        f"{path}/acknowledgement", data={"_csrf_token": token, "status": "declined", "reason": ""}
    )
    assert refused.status_code == 400
    assert "Nêu lý do không tham dự được." in refused.text
    answered = client.post(
        f"{path}/acknowledgement",
        data={"_csrf_token": token, "status": "received", "delegates_expected": "15"},
        follow_redirects=True,
    )
    assert answered.status_code == 200
    assert "Câu trả lời đã được gửi đến văn phòng." in answered.text
    assert "dự kiến 15 đại biểu" in answered.text


def test_the_board_snapshot_carries_notice_states(secretariat, demo_seed) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    points = secretariat.get(f"/api/v1/meetings/{meeting_id}/points?limit=500").json()["items"]
    cam_tu = next(p for p in points if p["unit_code"] == 15148)
    response = secretariat.post(
        f"/api/v1/meetings/{meeting_id}/acknowledgements",
        json={"point_id": cam_tu["point_id"], "status": "received", "delegates_expected": 9},
    )
    assert response.status_code == 201
    attendance = secretariat.get(f"/api/v1/meetings/{meeting_id}/attendance").json()
    states = {p["point_id"]: p["notice_state"] for p in attendance["points"]}
    assert states[cam_tu["point_id"]] == "acknowledged"
    # The demo has no mail server: the other invitations wait on the outbox.
    assert set(states.values()) == {"acknowledged", "queued"}
    board = secretariat.get(f"/m/{meeting_id}/live/list")
    assert "dự kiến 9 đại biểu" in board.text
    # The log carries the `notice` delta a board missed (resync).
    assert attendance["version"] >= 1


def test_the_outbox_shows_each_message_as_it_would_be_sent(secretariat, demo_seed, demo_db) -> None:
    page = secretariat.get("/outbox")
    assert page.status_code == 200
    assert 'id="outbox-only"' in page.text
    rows = outbox_rows(demo_db, demo_seed.upcoming_meeting_id)
    assert len(rows) == 166
    assert "166 thư" in page.text
    message = secretariat.get(f"/outbox/{rows[0].delivery_id}")
    assert message.status_code == 200
    assert "Giấy mời: " in message.text
    assert "method=REQUEST" in message.text
    ics = secretariat.get(f"/outbox/{rows[0].delivery_id}/invite.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    event = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert str(event["UID"]) == f"meeting-{demo_seed.upcoming_meeting_id}@127.0.0.1"


def test_a_chair_cannot_open_the_outbox(client, demo_seed) -> None:
    login(client, demo_seed.chair_email, demo_seed.chair_password)
    assert client.get("/outbox").status_code == 403


def test_the_unconfirmed_list_exports_and_resends(secretariat, demo_seed, demo_db) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    page = secretariat.get(f"/meetings/{meeting_id}/notices")
    assert page.status_code == 200
    assert "Chưa xác nhận (166)" in page.text
    export = secretariat.get(f"/meetings/{meeting_id}/notices/unconfirmed.csv")
    assert export.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert table[0][:4] == ["unit_code", "name", "chair", "phone"]
    assert len(table) == 167
    # The demo's sample chairs have phones to call, all but Xã Cẩm Tú's named chair.
    without_phone = [row[1] for row in table[1:] if not row[3].startswith("09")]
    assert without_phone == ["Hội trường UBND xã Cẩm Tú"]
    point_ids = re.findall(r'name="point_id" value="(\d+)"', page.text)[:2]
    before = len(outbox_rows(demo_db, meeting_id))
    sent = secretariat.post(
        f"/meetings/{meeting_id}/notices/resend",
        data={"_csrf_token": csrf(page.text), "kind": "invitation", "point_id": point_ids},
        follow_redirects=True,
    )
    assert "Đã xếp 2 thông báo chờ gửi." in sent.text
    assert len(outbox_rows(demo_db, meeting_id)) == before + 2


def test_the_points_page_shows_each_points_notice_state(secretariat, demo_seed) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    page = secretariat.get(f"/meetings/{meeting_id}/points")
    assert page.status_code == 200
    # The demo has no mail server: every invitation waits on the outbox.
    assert page.text.count('data-notice="queued"') == 166
    assert "Đang chờ gửi" in page.text
