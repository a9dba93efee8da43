"""A subscriber's calendar stays right: a reschedule moves the event (same UID, higher SEQUENCE),
a cancellation keeps it as CANCELLED, a commune's chair shows in that chair's private feed only,
and a change alters the ETag of exactly the feeds that hold the meeting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.calendar.conftest import (
    CAM_TU,
    TOMORROW,
    create_meeting,
    etag,
    events_by_uid,
    get_feed,
    meeting_uid,
    private_feed_path,
)
from tests.integration.calendar.parsers import parse_three_ways

pytestmark = pytest.mark.integration

THACH_LAP = 15085
BA_DINH = 4  # Hà Nội


def _cam_tu_point(client: TestClient[Litestar], meeting_id: int) -> int:
    points = client.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500}).json()
    return int(next(p["point_id"] for p in points["items"] if p["unit_code"] == CAM_TU))


def test_reschedule_moves_the_event_with_a_higher_sequence(
    feeds: TestClient[Litestar], secretariat: TestClient[Litestar], tmp_path: Path
) -> None:
    meeting_id = create_meeting(secretariat, unit_codes=[CAM_TU])
    uid = meeting_uid(meeting_id)
    paths = ["/calendar/provinces/38.ics", f"/calendar/units/{CAM_TU}.ics"]
    paths.append(f"/calendar/meetings/{meeting_id}.ics")
    before = {p: events_by_uid(get_feed(feeds, p).content)[uid] for p in paths}

    later = TOMORROW + timedelta(days=2, hours=3)
    moved = secretariat.patch(
        f"/api/v1/meetings/{meeting_id}", json={"starts_at": later.isoformat()}
    )
    assert moved.status_code == 200, moved.text

    for path in paths:
        events = {e.uid: e for e in parse_three_ways(get_feed(feeds, path).content, tmp_path)}
        assert uid in events, f"the UID changed on {path}"
        event = events[uid]
        assert event.sequence > int(before[path]["SEQUENCE"])
        assert event.start == later
        assert event.end == later + timedelta(hours=2)
        assert event.status == "CONFIRMED"

    # A new place (another main point) is also a change a subscriber sees.
    sequence = events_by_uid(get_feed(feeds, paths[0]).content)[uid]["SEQUENCE"]
    point_id = _cam_tu_point(secretariat, meeting_id)
    assert secretariat.patch(
        f"/api/v1/meetings/{meeting_id}", json={"host_point_id": point_id}
    ).is_success
    event = events_by_uid(get_feed(feeds, paths[0]).content)[uid]
    assert int(event["SEQUENCE"]) > int(sequence)
    assert str(event["LOCATION"]) == "Hội trường UBND xã Cẩm Tú"


def test_cancelling_keeps_the_event_as_cancelled(
    feeds: TestClient[Litestar],
    secretariat: TestClient[Litestar],
    demo_seed: DemoSeed,
    tmp_path: Path,
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    uid = meeting_uid(meeting_id)
    paths = ["/calendar/provinces/38.ics", f"/calendar/units/{CAM_TU}.ics"]
    paths.append(f"/calendar/meetings/{meeting_id}.ics")
    before = {p: events_by_uid(get_feed(feeds, p).content)[uid] for p in paths}

    cancelled = secretariat.post(
        f"/api/v1/meetings/{meeting_id}/status",
        json={"status": "cancelled", "reason": "Bão số 6 đổ bộ; hoãn hội nghị"},
    )
    assert cancelled.status_code == 200, cancelled.text

    for path in paths:
        body = get_feed(feeds, path).content
        events = {e.uid: e for e in parse_three_ways(body, tmp_path)}
        assert uid in events, f"the cancelled meeting vanished from {path}"
        event = events[uid]
        assert event.status == "CANCELLED"
        assert event.sequence > int(before[path]["SEQUENCE"])
        assert event.start == before[path].start, "cancelling does not move it"
        assert event.summary.startswith("[Đã hủy] ")
        assert "Hội nghị đã bị hủy: Bão số 6 đổ bộ; hoãn hội nghị" in event.description
        component = events_by_uid(body)[uid]
        assert component.walk("VALARM") == [], "nobody is reminded of a cancelled meeting"
        assert str(component["TRANSP"]) == "TRANSPARENT"


def test_naming_a_chair_changes_that_chairs_private_feed_only(
    feeds: TestClient[Litestar],
    secretariat: TestClient[Litestar],
    chair: TestClient[Litestar],
    demo_seed: DemoSeed,
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    paths = [
        f"/calendar/units/{CAM_TU}.ics",
        f"/calendar/units/{THACH_LAP}.ics",
        "/calendar/provinces/38.ics",
        f"/calendar/meetings/{meeting_id}.ics",
    ]
    before = {path: get_feed(feeds, path) for path in paths}

    point_id = _cam_tu_point(secretariat, meeting_id)
    named = secretariat.put(
        f"/api/v1/meetings/{meeting_id}/points/{point_id}/chair",
        json={"name": "Lê Văn Hùng", "title": "Chủ tịch UBND xã", "phone": "0912 345 678"},
    )
    assert named.status_code == 200, named.text

    after = {path: get_feed(feeds, path) for path in paths}
    # A chair's name is personal data: the public feeds, the commune's included, never carry it.
    private = get_feed(chair, private_feed_path(chair))
    description = str(events_by_uid(private.content)[meeting_uid(meeting_id)]["DESCRIPTION"])
    assert "Lê Văn Hùng (Chủ tịch UBND xã)" in description
    assert "Phạm Thị Nhàn" not in description
    for path in paths:
        assert "Lê Văn Hùng" not in after[path].content.decode().replace("\r\n ", ""), path
    for path in paths[1:]:
        assert after[path].headers["etag"] == before[path].headers["etag"], path
        assert after[path].content == before[path].content, path


def test_a_change_changes_the_etag_of_exactly_the_feeds_that_hold_it(
    feeds: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = create_meeting(secretariat, title="Chỉ Cẩm Tú", unit_codes=[CAM_TU])
    holding = [
        "/calendar/provinces/38.ics",
        f"/calendar/units/{CAM_TU}.ics",
        f"/calendar/meetings/{meeting_id}.ics",
    ]
    not_holding = [
        f"/calendar/units/{THACH_LAP}.ics",
        f"/calendar/meetings/{demo_seed.upcoming_meeting_id}.ics",
        f"/calendar/meetings/{demo_seed.past_meeting_id}.ics",
        "/calendar/provinces/1.ics",
        f"/calendar/units/{BA_DINH}.ics",
    ]
    before = {path: etag(feeds, path) for path in holding + not_holding}
    assert len(set(before.values())) == len(before), "every feed has its own ETag"
    assert {path: etag(feeds, path) for path in before} == before, "stable while nothing changes"

    changed = secretariat.patch(f"/api/v1/meetings/{meeting_id}", json={"title": "Tên mới"})
    assert changed.status_code == 200, changed.text

    after = {path: etag(feeds, path) for path in before}
    assert [p for p in before if after[p] != before[p]] == holding
