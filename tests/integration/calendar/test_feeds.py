"""The four feeds of the contract: what each holds, the properties every calendar app relies on,
and three independent parsers reading them alike."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from icalendar import Calendar
from litestar import Litestar
from litestar.testing import TestClient

from confhub.calendar.services import CalendarService, Feed, FeedKind, FeedPolicy
from confhub.db.engine import create_engine, session_maker
from confhub.demo import CONVENING_BODY, SEPT_10_TITLE, DemoSeed
from tests.conftest import login
from tests.integration.calendar.conftest import (
    CAM_TU,
    HOI_TRUONG_CAM_TU,
    ClientFactory,
    create_account,
    create_meeting,
    events_by_uid,
    get_feed,
    meeting_uid,
    private_feed_path,
)
from tests.integration.calendar.parsers import parse_three_ways

pytestmark = pytest.mark.integration

SEPT_10_START = datetime(2025, 9, 10, 7, 0, tzinfo=UTC)  # 14:00 in Hà Nội
THACH_LAP = 15085  # Xã Thạch Lập: another Thanh Hóa unit, invited to both demo meetings
BA_DINH = 4  # Hà Nội's Phường Ba Đình: province 1, invited to nothing
# Diacritics precomposed and combining (NFD), what iCalendar escapes, longer than one line.
VIETNAMESE = (
    "Hội nghị trực tuyến đánh giá hoạt động chính quyền địa phương 2 cấp; khắc phục hậu quả "
    'bão số 5, lũ quét: "điểm cầu" Cẩm Tú \\ Thạch Lập – '
    + unicodedata.normalize("NFD", "Nghị quyết số 202/2025/QH15, Đảng uỷ, ưu tiên")
)


def unfolded_lines(body: bytes) -> list[str]:
    """The content lines of a feed, unfolded (RFC 5545 section 3.1)."""
    return body.decode("utf-8").replace("\r\n ", "").split("\r\n")


def test_province_feed_has_every_property_the_contract_names(
    feeds: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    response = get_feed(feeds, "/calendar/provinces/38.ics")
    assert response.headers["etag"].startswith('"')
    assert parsedate_to_datetime(response.headers["last-modified"]).tzinfo is not None
    assert response.headers["cache-control"] == "public, max-age=300"
    assert "set-cookie" not in response.headers, "a feed must not start a session"
    lines = unfolded_lines(response.content)
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\n")
    for line in (
        "VERSION:2.0",
        "PRODID:-//confhub//Online conferences//VI",
        "X-WR-CALNAME:Hội nghị trực tuyến – Thanh Hóa",
        "X-WR-TIMEZONE:Asia/Ho_Chi_Minh",
        "REFRESH-INTERVAL;VALUE=DURATION:PT15M",
        "X-PUBLISHED-TTL:PT15M",
        "UID:calendar-province-38@127.0.0.1",
        "TZID:Asia/Ho_Chi_Minh",
        "METHOD:PUBLISH",
    ):
        assert line in lines, line
    calendar = Calendar.from_ical(response.content)
    assert calendar.get_missing_tzids() == set()
    events = events_by_uid(response.content)
    assert set(events) == {
        meeting_uid(demo_seed.past_meeting_id),
        meeting_uid(demo_seed.upcoming_meeting_id),
    }
    past = events[meeting_uid(demo_seed.past_meeting_id)]
    for name in ("DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "CATEGORIES", "ORGANIZER", "URL"):
        assert name in past, name
    assert past["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert past["DTEND"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert past.start == SEPT_10_START
    assert str(past["SUMMARY"]) == SEPT_10_TITLE
    assert str(past["STATUS"]) == "CONFIRMED"
    assert str(past["LOCATION"]) == "Điểm cầu chính Thanh Hóa"
    assert str(past["URL"]) == f"http://127.0.0.1:8000/meetings/{demo_seed.past_meeting_id}"
    assert past["ORGANIZER"].params["CN"] == CONVENING_BODY
    assert [str(c) for c in past.categories] == ["Hội nghị trực tuyến", "Thanh Hóa"]
    description = str(past["DESCRIPTION"])
    assert f"Cơ quan triệu tập: {CONVENING_BODY}" in description
    assert "Chủ trì: Đồng chí Nguyễn Doãn Anh" in description
    assert "4. 16:30 Kết luận hội nghị (Bí thư Tỉnh ủy Nguyễn Doãn Anh)" in description
    assert description.endswith(f"/meetings/{demo_seed.past_meeting_id}")
    assert [str(a["TRIGGER"].to_ical(), "ascii") for a in past.walk("VALARM")] == ["-PT30M"]


def test_every_feed_reads_the_same_with_three_parsers(
    feeds: TestClient[Litestar], chair: TestClient[Litestar], demo_seed: DemoSeed, tmp_path: Path
) -> None:
    past, upcoming = demo_seed.past_meeting_id, demo_seed.upcoming_meeting_id
    both = {meeting_uid(past), meeting_uid(upcoming)}
    expected = {
        "/calendar/provinces/38.ics": both,
        f"/calendar/units/{CAM_TU}.ics": both,
        f"/calendar/meetings/{past}.ics": {meeting_uid(past)},
        f"/calendar/meetings/{upcoming}.ics": {meeting_uid(upcoming)},
        private_feed_path(chair): both,
    }
    for path, uids in expected.items():
        events = parse_three_ways(get_feed(feeds, path).content, tmp_path)
        assert {e.uid for e in events} == uids, path
        by_uid = {e.uid: e for e in events}
        if meeting_uid(past) in by_uid:
            event = by_uid[meeting_uid(past)]
            assert (event.start, event.end) == (SEPT_10_START, SEPT_10_START + timedelta(hours=3))
            assert event.status == "CONFIRMED"


def test_unit_feed_holds_exactly_the_meetings_its_points_are_invited_to(
    feeds: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    only_cam_tu = create_meeting(secretariat, title="Chỉ Cẩm Tú", unit_codes=[CAM_TU])
    only_thach_lap = create_meeting(secretariat, title="Chỉ Thạch Lập", unit_codes=[THACH_LAP])
    draft = create_meeting(secretariat, title="Bản nháp", status="draft", unit_codes=[CAM_TU])
    demo = {meeting_uid(demo_seed.past_meeting_id), meeting_uid(demo_seed.upcoming_meeting_id)}

    cam_tu = events_by_uid(get_feed(feeds, f"/calendar/units/{CAM_TU}.ics").content)
    assert set(cam_tu) == demo | {meeting_uid(only_cam_tu)}
    thach_lap = events_by_uid(get_feed(feeds, f"/calendar/units/{THACH_LAP}.ics").content)
    assert set(thach_lap) == demo | {meeting_uid(only_thach_lap)}
    assert events_by_uid(get_feed(feeds, f"/calendar/units/{BA_DINH}.ics").content) == {}
    province = events_by_uid(get_feed(feeds, "/calendar/provinces/38.ics").content)
    assert meeting_uid(draft) not in province
    assert {meeting_uid(only_cam_tu), meeting_uid(only_thach_lap)} <= set(province)

    # On a unit's feed the place is the unit's own point; its chair is personal data, named
    # only in the chair's own private feed.
    upcoming = cam_tu[meeting_uid(demo_seed.upcoming_meeting_id)]
    assert str(upcoming["LOCATION"]) == HOI_TRUONG_CAM_TU
    description = str(upcoming["DESCRIPTION"])
    assert f"Điểm cầu của đơn vị: {HOI_TRUONG_CAM_TU}" in description
    assert "Phạm Thị Nhàn" not in description and "Chủ trì tại điểm cầu" not in description
    assert "Điểm cầu trung tâm: Điểm cầu chính Thanh Hóa" in description
    # A unit's feed reminds a day before as well as 30 minutes before.
    triggers = {str(a["TRIGGER"].to_ical(), "ascii") for a in upcoming.walk("VALARM")}
    assert triggers == {"-P1D", "-PT30M"}


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/provinces/99.ics",
        "/calendar/provinces/38.txt",
        "/calendar/provinces/abc.ics",
        "/calendar/provinces/.ics",
        "/calendar/provinces/38",
        "/calendar/units/99999.ics",
        "/calendar/units/15148.ics.ics",
        "/calendar/meetings/999999.ics",
        f"/calendar/meetings/{'9' * 40}.ics",
        "/calendar/private/not-a-token.ics",
    ],
)
def test_unknown_feeds_are_404(feeds: TestClient[Litestar], path: str) -> None:
    response = feeds.get(path)
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


def test_a_draft_is_in_no_public_feed(
    feeds: TestClient[Litestar], secretariat: TestClient[Litestar]
) -> None:
    draft = create_meeting(secretariat, status="draft", unit_codes=[CAM_TU])
    assert feeds.get(f"/calendar/meetings/{draft}.ics").status_code == 404
    assert secretariat.get(f"/calendar/meetings/{draft}.ics").status_code == 404
    for path in ("/calendar/provinces/38.ics", f"/calendar/units/{CAM_TU}.ics"):
        assert meeting_uid(draft) not in events_by_uid(get_feed(feeds, path).content)


def test_private_feeds_show_what_their_owner_may_see(
    open_client: ClientFactory,
    feeds: TestClient[Litestar],
    secretariat: TestClient[Litestar],
    chair: TestClient[Litestar],
    demo_seed: DemoSeed,
    demo_db: str,
    tmp_path: Path,
) -> None:
    draft_38 = create_meeting(secretariat, title="Dự thảo Thanh Hóa", status="draft")
    password = create_account(demo_db, "thuky@hanoi.example", "secretariat", province_code=1)
    hanoi = open_client()
    login(hanoi, "thuky@hanoi.example", password)
    draft_1 = create_meeting(hanoi, title="Dự thảo Hà Nội", status="draft", province_code=1)
    scheduled_1 = create_meeting(hanoi, title="Hà Nội", province_code=1, unit_codes=[BA_DINH])

    own = events_by_uid(get_feed(feeds, private_feed_path(secretariat)).content)
    assert meeting_uid(draft_38) in own, "the secretariat sees its own province's drafts"
    assert str(own[meeting_uid(draft_38)]["STATUS"]) == "TENTATIVE"
    assert str(own[meeting_uid(draft_38)]["SUMMARY"]) == "[Bản nháp] Dự thảo Thanh Hóa"
    assert meeting_uid(draft_1) not in own
    assert meeting_uid(scheduled_1) not in own

    chair_path = private_feed_path(chair)
    body = get_feed(feeds, chair_path).content
    chairs = events_by_uid(body)
    assert set(chairs) == {
        meeting_uid(demo_seed.past_meeting_id),
        meeting_uid(demo_seed.upcoming_meeting_id),
    }, "a chair sees its unit's published meetings: no drafts, nothing of another province"
    assert get_feed(feeds, chair_path).headers["cache-control"] == "private, no-cache"
    assert b"/calendar/private/" not in body, "the file does not repeat its secret address"
    upcoming = chairs[meeting_uid(demo_seed.upcoming_meeting_id)]
    assert str(upcoming["LOCATION"]) == HOI_TRUONG_CAM_TU
    parse_three_ways(body, tmp_path)

    hanoi_feed = events_by_uid(get_feed(feeds, private_feed_path(hanoi)).content)
    assert set(hanoi_feed) == {meeting_uid(draft_1), meeting_uid(scheduled_1)}


def test_past_meetings_leave_after_the_window(
    open_client: ClientFactory, secretariat: TestClient[Litestar]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    recent = create_meeting(secretariat, title="Gần đây", starts_at=now - timedelta(days=80))
    old = create_meeting(secretariat, title="Đã lâu", starts_at=now - timedelta(days=100))
    default_window = open_client(calendar_past_days=90)
    held = events_by_uid(get_feed(default_window, "/calendar/provinces/38.ics").content)
    assert meeting_uid(recent) in held
    assert meeting_uid(old) not in held
    wider = open_client(calendar_past_days=120)
    assert meeting_uid(old) in events_by_uid(get_feed(wider, "/calendar/provinces/38.ics").content)


async def test_a_feed_holds_at_most_the_latest_starting_meetings(
    demo_db: str, demo_seed: DemoSeed
) -> None:
    engine = create_engine(demo_db)
    try:
        async with session_maker(engine)() as session:
            policy = FeedPolicy("https://confhub.example", "Asia/Ho_Chi_Minh", 36_500, 1)
            service = CalendarService(session, policy)
            events = await service.events(Feed(FeedKind.PROVINCE, 38))
    finally:
        await engine.dispose()
    assert [e.uid for e in events] == [f"meeting-{demo_seed.upcoming_meeting_id}@confhub.example"]


def test_english_feed_on_request(feeds: TestClient[Litestar]) -> None:
    vietnamese = get_feed(feeds, "/calendar/provinces/38.ics")
    english = get_feed(feeds, "/calendar/provinces/38.ics?lang=en")
    assert english.headers["etag"] != vietnamese.headers["etag"]
    assert "X-WR-CALNAME:Online conferences of Thanh Hóa" in unfolded_lines(english.content)
    assert "Convened by: " in english.text
    assert "Cơ quan triệu tập" not in english.text


def test_vietnamese_text_survives_every_parser_byte_for_byte(
    feeds: TestClient[Litestar], secretariat: TestClient[Litestar], tmp_path: Path
) -> None:
    meeting_id = create_meeting(
        secretariat,
        title=VIETNAMESE,
        description=f"{VIETNAMESE}\n{VIETNAMESE}",
        convening_body="",
        presiding_official="",
    )
    body = get_feed(feeds, f"/calendar/meetings/{meeting_id}.ics").content
    for line in body.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # never folded inside a character
    (event,) = parse_three_ways(body, tmp_path)
    assert event.summary.encode("utf-8") == VIETNAMESE.encode("utf-8")
    expected = f"{VIETNAMESE}\n{VIETNAMESE}\n\nhttp://127.0.0.1:8000/meetings/{meeting_id}"
    assert event.description.encode("utf-8") == expected.encode("utf-8")
