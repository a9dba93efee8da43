"""A meeting's connection details (issue #16): set and read through the API, refused when
unknown or malformed, moved with a reschedule unless set, and carried by the private feed
(`CONFERENCE;VALUE=URI` and DESCRIPTION) but never by an anonymous one."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.integration.calendar.conftest import (
    TOMORROW,
    create_meeting,
    events_by_uid,
    get_feed,
    meeting_uid,
    private_feed_path,
)
from tests.integration.calendar.parsers import with_ical

pytestmark = pytest.mark.integration

CAM_TU = 15148
ZONE_VN = ZoneInfo("Asia/Ho_Chi_Minh")
URL = "https://meet.thanhhoa.gov.vn/room/giao-ban?pwd=2468"
ROOM = "MCU 10.38.1.5, phòng 2025, PIN 2468"
DETAILS = {
    "conference_url": URL,
    "conference_room": ROOM,
    "technician_phone": "+84 237 385 2468",
}


def unfolded(body: bytes) -> str:
    """The feed as a reader sees it: lines unfolded, text unescaped."""
    return body.decode().replace("\r\n ", "").replace("\\,", ",").replace("\\;", ";")


def test_connection_details_through_the_api(secretariat: TestClient[Litestar]) -> None:
    meeting_id = create_meeting(secretariat, unit_codes=[CAM_TU], **DETAILS)
    meeting = secretariat.get(f"/api/v1/meetings/{meeting_id}").json()
    assert (meeting["conference_url"], meeting["conference_room"]) == (URL, ROOM)
    assert meeting["technician_phone"] == "02373852468"
    start = datetime.fromisoformat(meeting["starts_at"])
    # By default points test the line 30 minutes before the start, and that moves with it.
    assert datetime.fromisoformat(meeting["line_test_at"]) == start - timedelta(minutes=30)
    moved = secretariat.patch(
        f"/api/v1/meetings/{meeting_id}",
        json={"starts_at": (start + timedelta(hours=2)).isoformat()},
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["line_test_at"]) == start + timedelta(minutes=90)
    # Set explicitly, it stays where it was put when the meeting moves again.
    fixed = (start + timedelta(minutes=80)).isoformat()
    assert (
        secretariat.patch(
            f"/api/v1/meetings/{meeting_id}", json={"line_test_at": fixed}
        ).status_code
        == 200
    )
    again = secretariat.patch(
        f"/api/v1/meetings/{meeting_id}",
        json={"starts_at": (start + timedelta(hours=3)).isoformat()},
    ).json()
    assert datetime.fromisoformat(again["line_test_at"]) == datetime.fromisoformat(fixed)
    # null puts it back to the default; "" removes a detail.
    cleared = secretariat.patch(
        f"/api/v1/meetings/{meeting_id}", json={"line_test_at": None, "conference_room": ""}
    ).json()
    assert datetime.fromisoformat(cleared["line_test_at"]) == start + timedelta(
        hours=3, minutes=-30
    )
    assert cleared["conference_room"] is None and cleared["conference_url"] == URL


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("PATCH", {"conference_link": URL}, "conference_link"),
        ("PATCH", {"title": "Hội nghị", "colour": "red"}, "colour"),
        ("POST", {"zoom": URL}, "zoom"),
        ("PATCH", {"conference_url": "javascript:alert(1)"}, "conference_url"),
        ("PATCH", {"conference_url": "meet.example/room"}, "conference_url"),
        ("PATCH", {"technician_phone": "gọi 113"}, "technician_phone"),
        ("PATCH", {"line_test_at": "2031-01-01T08:00:00+07:00"}, "line_test_at"),
    ],
)
def test_an_unknown_or_wrong_field_is_a_400_naming_it(
    secretariat: TestClient[Litestar], method: str, body: dict[str, object], field: str
) -> None:
    meeting_id = create_meeting(secretariat)
    before = secretariat.get(f"/api/v1/meetings/{meeting_id}").json()
    if method == "POST":
        answer = secretariat.post(
            "/api/v1/meetings",
            json={
                "title": "Hội nghị",
                "province_code": 38,
                "starts_at": TOMORROW.isoformat(),
                "ends_at": (TOMORROW + timedelta(hours=1)).isoformat(),
                **body,
            },
        )
    else:
        answer = secretariat.patch(f"/api/v1/meetings/{meeting_id}", json=body)
    assert answer.status_code == 400, answer.text
    assert field in answer.text, answer.text
    if field in ("conference_link", "colour", "zoom"):
        # `detail` itself names a field the API does not take.
        assert answer.json()["detail"].startswith(f"{field}: unknown field"), answer.text
    assert secretariat.get(f"/api/v1/meetings/{meeting_id}").json() == before


def test_the_private_feed_carries_the_details_and_no_anonymous_feed_does(
    secretariat: TestClient[Litestar],
    chair: TestClient[Litestar],
    feeds: TestClient[Litestar],
) -> None:
    meeting_id = create_meeting(
        secretariat,
        unit_codes=[CAM_TU],
        line_test_at=(TOMORROW - timedelta(minutes=20)).isoformat(),
        **DETAILS,
    )
    uid = meeting_uid(meeting_id)

    private = get_feed(chair, private_feed_path(chair)).content
    event = events_by_uid(private)[uid]
    conference = event["CONFERENCE"]
    assert str(conference) == URL
    assert conference.params["VALUE"] == "URI"
    description = str(event["DESCRIPTION"])
    assert URL in description and ROOM in description and "02373852468" in description
    line_test = (TOMORROW - timedelta(minutes=20)).astimezone(ZONE_VN)
    assert f"{line_test:%H:%M}" in description
    # The strict `ical` parser reads the event too, with the link in DESCRIPTION.
    (parsed,) = [e for e in with_ical(private) if e.uid == uid]
    assert URL in parsed.description

    for path in (
        "/calendar/provinces/38.ics",
        f"/calendar/units/{CAM_TU}.ics",
        f"/calendar/meetings/{meeting_id}.ics",
    ):
        body = get_feed(feeds, path).content
        assert uid in unfolded(body), path
        text = unfolded(body)
        assert "CONFERENCE" not in text, path
        assert "meet.thanhhoa.gov.vn" not in text and "2468" not in text, path
