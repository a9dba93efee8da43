"""Errors carry their own words (issue #15): one refused action per domain, sent by a page form
and by the API in the same state. The page shows the refusal in Vietnamese (from the catalog,
through the error's message id); the API's `detail` stays English."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.conftest import login

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
CAM_TU = 15148  # Xã Cẩm Tú, whose check-in link the demo prints


def page_post(client: TestClient[Litestar], path: str, **fields: str) -> str:
    """Send a page's form (with the CSRF token of a page shown first); the page answered."""
    client.get("/", headers=HTML)
    token = str(client.cookies.get("confhub_csrf"))
    answer = client.post(
        path, data={**fields, "_csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert answer.status_code in (400, 403, 404, 409), answer.text
    return answer.text


def test_news_publishing_unwritten_minutes(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.past_meeting_id
    api = secretariat.post(f"/api/v1/meetings/{meeting_id}/minutes/publish")
    assert api.status_code == 409
    assert api.json()["detail"] == "Write the minutes before publishing them"
    page = page_post(secretariat, f"/meetings/{meeting_id}/minutes/publish")
    assert "Hãy viết và lưu biên bản trước khi đăng." in page


def test_attendance_answering_a_cancelled_meeting(
    secretariat: TestClient[Litestar],
    make_client: Callable[[], TestClient[Litestar]],
    demo_seed: DemoSeed,
) -> None:
    meeting_id, token = demo_seed.upcoming_meeting_id, demo_seed.cam_tu_token
    points = secretariat.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500})
    cam_tu = next(p for p in points.json()["items"] if p["unit_code"] == CAM_TU)
    cancelled = secretariat.post(
        f"/api/v1/meetings/{meeting_id}/status",
        json={"status": "cancelled", "reason": "Hoãn vì bão"},
    )
    assert cancelled.status_code == 200, cancelled.text
    chair = make_client()
    answer = {"point_id": cam_tu["point_id"], "status": "present", "delegates_present": 3}
    api = chair.post(
        f"/api/v1/meetings/{meeting_id}/checkins",
        json={**answer, "idempotency_key": "k1"},
        headers={"X-Checkin-Token": token},
    )
    assert api.status_code == 409, api.text
    assert api.json()["detail"] == "The meeting is cancelled; the roll call is closed"
    page = page_post(
        chair, f"/checkin/{token}", status="present", delegates_present="3", idempotency_key="k2"
    )
    assert "Hội nghị đang ở trạng thái “Đã hủy”; điểm danh đã đóng." in page
    # Said once: the page's standing notice of a closed roll call gives way to the refusal.
    assert "Điểm danh đã đóng: hội nghị không ở trạng thái" not in page


def test_accounts_a_role_that_may_not(
    make_client: Callable[[], TestClient[Litestar]], demo_seed: DemoSeed
) -> None:
    chair = make_client()
    login(chair, demo_seed.chair_email, demo_seed.chair_password)
    api = chair.get("/meetings/new", headers={"Accept": "application/json"})
    assert api.status_code == 403
    assert api.json()["detail"] == "Your role may not do this"
    page = chair.get("/meetings/new", headers=HTML)
    assert page.status_code == 403
    assert "Vai trò của bạn không được làm việc này." in page.text


def test_litestar_refusals_are_said_in_the_pages_words(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    # Litestar's own refusals (a query breaking its pattern, a form without its CSRF token) have
    # English details for the API; a page says them in its language.
    path = f"/m/{demo_seed.upcoming_meeting_id}/live?q=%00"
    api = secretariat.get(path, headers={"Accept": "application/json"})
    assert api.status_code == 400
    assert api.json()["extra"][0]["message"] == (
        "must be one line of text, without control characters"
    )
    page = secretariat.get(path, headers=HTML)
    assert page.status_code == 400
    assert "Có giá trị không hợp lệ trong địa chỉ hoặc trong biểu mẫu đã gửi." in page.text
    assert "Validation failed" not in page.text
    forged = secretariat.post(
        f"/meetings/{demo_seed.past_meeting_id}/minutes/lock",
        data={},
        headers=HTML,
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert "Nếu biểu mẫu đã mở quá lâu, hãy tải lại trang rồi gửi lại." in forged.text
    assert "CSRF" not in forged.text
