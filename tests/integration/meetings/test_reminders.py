"""A meeting's reminders (issue #16, item 3): 24 hours and 60 minutes before the start unless
set, set per meeting through the API (`reminder_minutes`) and the meeting form, told in the
meeting's log in words; what the worker does with them is in tests/integration/notices."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.integration.meetings.test_schedule_pages import (
    HTML,
    TOMORROW,
    create_meeting,
    follow,
    local_input,
    post_form,
)

pytestmark = pytest.mark.integration


def _api_meeting(client: TestClient[Litestar], **fields: object) -> dict:
    body = {
        "title": "Giao ban",
        "province_code": 38,
        "starts_at": f"{TOMORROW.isoformat()}T14:00:00+07:00",
        "ends_at": f"{TOMORROW.isoformat()}T16:00:00+07:00",
        **fields,
    }
    response = client.post("/api/v1/meetings", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_reminders_through_the_api(secretariat: TestClient[Litestar]) -> None:
    assert _api_meeting(secretariat)["reminder_minutes"] == [1440, 60]
    meeting = _api_meeting(secretariat, reminder_minutes=[15, 180, 15])
    assert meeting["reminder_minutes"] == [180, 15]
    url = f"/api/v1/meetings/{meeting['id']}"
    sequence = meeting["sequence"]
    assert secretariat.patch(url, json={"reminder_minutes": []}).json()["reminder_minutes"] == []
    back = secretariat.patch(url, json={"reminder_minutes": None}).json()
    assert back["reminder_minutes"] == [1440, 60]
    # Reminders are no part of the calendar event: its SEQUENCE stays.
    assert back["sequence"] == sequence
    # A move keeps them (they follow the new start).
    moved = secretariat.patch(url, json={"starts_at": f"{TOMORROW.isoformat()}T15:00:00+07:00"})
    assert moved.json()["reminder_minutes"] == [1440, 60]


@pytest.mark.parametrize(
    "value",
    [[2], [10_081], [5, 10, 15, 20, 25], "60", [True], [1.5]],
)
def test_impossible_reminders_are_refused(secretariat: TestClient[Litestar], value: object) -> None:
    response = secretariat.post(
        "/api/v1/meetings",
        json={
            "title": "Giao ban",
            "province_code": 38,
            "starts_at": f"{TOMORROW.isoformat()}T14:00:00+07:00",
            "ends_at": f"{TOMORROW.isoformat()}T16:00:00+07:00",
            "reminder_minutes": value,
        },
    )
    assert response.status_code == 400, response.text
    assert "reminder_minutes" in response.text


def test_reminders_through_the_form(secretariat: TestClient[Litestar]) -> None:
    form = secretariat.get("/meetings/new", headers=HTML).text
    ticked = re.findall(r'name="reminder_minutes" value="(\d+)" checked', form)
    assert ticked == ["1440", "60"]
    assert "Nhắc các điểm cầu" in form and "24 giờ trước" in form and "60 phút trước" in form
    meeting_id = create_meeting(secretariat, reminders_shown="1", reminder_minutes=["4320", "30"])  # type: ignore[arg-type]
    assert secretariat.get(f"/api/v1/meetings/{meeting_id}").json()["reminder_minutes"] == [
        4320,
        30,
    ]
    page = secretariat.get(f"/meetings/{meeting_id}", headers=HTML).text
    assert "3 ngày trước, 30 phút trước" in page
    edit = secretariat.get(f"/meetings/{meeting_id}/edit", headers=HTML).text
    assert re.findall(r'name="reminder_minutes" value="(\d+)" checked', edit) == ["4320", "30"]
    # Nothing ticked: no reminders, and the log says so in words.
    data = {
        "title": "Hội nghị giao ban trực tuyến quý IV",
        "starts_at": local_input(TOMORROW, "14:00"),
        "ends_at": local_input(TOMORROW, "16:00"),
        "reminders_shown": "1",
    }
    page = follow(secretariat, post_form(secretariat, f"/meetings/{meeting_id}/edit", data))
    assert secretariat.get(f"/api/v1/meetings/{meeting_id}").json()["reminder_minutes"] == []
    assert "tắt nhắc lịch" in page.text
    data["reminder_minutes"] = ["60"]  # type: ignore[assignment]
    page = follow(secretariat, post_form(secretariat, f"/meetings/{meeting_id}/edit", data))
    assert "đặt nhắc lịch 60 phút trước giờ bắt đầu" in page.text
    # A value the form never offered, forged: the form again, saying why.
    data["reminder_minutes"] = ["1"]  # type: ignore[assignment]
    refused = post_form(secretariat, f"/meetings/{meeting_id}/edit", data)
    assert refused.status_code == 400
    assert "mỗi lần nhắc cách giờ bắt đầu từ 5 đến 10080 phút" in refused.text.lower()
