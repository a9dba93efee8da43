"""The iCalendar exporter on plain data: stable identities and stamps, the zone, statuses,
reminders, and Vietnamese text surviving escaping and folding byte for byte."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from confhub.calendar.builder import (
    DAY_BEFORE,
    REMINDER,
    AgendaLine,
    FeedEvent,
    FeedInfo,
    IcsExporter,
    OwnPoint,
    build_calendar,
    serialize,
)

pytestmark = pytest.mark.unit

ZONE = "Asia/Ho_Chi_Minh"
FEED = FeedInfo(
    uid="calendar-unit-15148@confhub.example",
    name="Hội nghị trực tuyến – Xã Cẩm Tú",
    timezone=ZONE,
    modified_at=datetime(2025, 9, 9, 3, 0, tzinfo=UTC),
    source_url="https://confhub.example/calendar/units/15148.ics",
    reminders=(DAY_BEFORE, REMINDER),
)
MEETING = FeedEvent(
    uid="meeting-1@confhub.example",
    title="Hội nghị trực tuyến đánh giá chính quyền địa phương 2 cấp",
    starts_at=datetime(2025, 9, 10, 7, 0, tzinfo=UTC),
    ends_at=datetime(2025, 9, 10, 10, 0, tzinfo=UTC),
    status="scheduled",
    sequence=3,
    modified_at=datetime(2025, 9, 8, 1, 2, 3, tzinfo=UTC),
    url="https://confhub.example/meetings/1",
    organizer_name="Thường trực Tỉnh ủy Thanh Hóa",
    organizer_uri="https://confhub.example/?province=38",
    location="Hội trường UBND xã Cẩm Tú",
    categories=("Hội nghị trực tuyến", "Thanh Hóa"),
    convening_body="Thường trực Tỉnh ủy Thanh Hóa",
    presiding_official="Đồng chí Nguyễn Doãn Anh, Bí thư Tỉnh ủy",
    description="Kết nối 166 xã, phường.",
    host_point="Điểm cầu chính Thanh Hóa",
    agenda=(
        AgendaLine("Khai mạc", "Chánh Văn phòng", datetime(2025, 9, 10, 7, 10, tzinfo=UTC)),
        AgendaLine("Thảo luận"),
    ),
    own_points=(OwnPoint("Hội trường UBND xã Cẩm Tú", "Phạm Thị Nhàn", "Bí thư Đảng uỷ"),),
)


def _event(body: bytes) -> icalendar.Event:
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    return event


def _lines(body: bytes) -> list[bytes]:
    assert body.endswith(b"\r\n")
    return body[:-2].split(b"\r\n")


def test_the_same_data_gives_the_same_bytes() -> None:
    first = serialize(build_calendar(FEED, [MEETING]))
    assert serialize(build_calendar(FEED, [MEETING])) == first
    event = _event(first)
    assert str(event["UID"]) == "meeting-1@confhub.example"
    assert event["DTSTAMP"].dt == MEETING.modified_at
    assert event["LAST-MODIFIED"].dt == MEETING.modified_at
    assert b"UID:calendar-unit-15148@confhub.example\r\n" in first


def test_calendar_properties() -> None:
    lines = _lines(serialize(build_calendar(FEED, [MEETING], method="PUBLISH")))
    assert lines[0] == b"BEGIN:VCALENDAR"
    assert lines[-1] == b"END:VCALENDAR"
    for line in (
        b"VERSION:2.0",
        b"CALSCALE:GREGORIAN",
        b"METHOD:PUBLISH",
        b"REFRESH-INTERVAL;VALUE=DURATION:PT15M",
        b"X-PUBLISHED-TTL:PT15M",
        b"X-WR-TIMEZONE:Asia/Ho_Chi_Minh",
        "X-WR-CALNAME:Hội nghị trực tuyến – Xã Cẩm Tú".encode(),
        "NAME:Hội nghị trực tuyến – Xã Cẩm Tú".encode(),
        b"SOURCE:https://confhub.example/calendar/units/15148.ics",
        b"LAST-MODIFIED:20250909T030000Z",
    ):
        assert line in lines, line


def test_method_is_left_out_or_set_for_an_invitation() -> None:
    assert b"METHOD:" not in serialize(build_calendar(FEED, [MEETING]))
    calendar = IcsExporter(FEED).build([MEETING], method="request")
    assert isinstance(calendar, icalendar.Calendar)
    assert b"METHOD:REQUEST\r\n" in serialize(calendar)


def test_event_properties() -> None:
    body = serialize(build_calendar(FEED, [MEETING]))
    event = _event(body)
    assert b"DTSTART;TZID=Asia/Ho_Chi_Minh:20250910T140000\r\n" in body
    assert b"DTEND;TZID=Asia/Ho_Chi_Minh:20250910T170000\r\n" in body
    assert event.start == MEETING.starts_at
    assert int(event["SEQUENCE"]) == 3
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["TRANSP"]) == "OPAQUE"
    assert str(event["URL"]) == MEETING.url
    assert str(event["LOCATION"]) == "Hội trường UBND xã Cẩm Tú"
    assert str(event["ORGANIZER"]) == MEETING.organizer_uri
    assert event["ORGANIZER"].params["CN"] == MEETING.organizer_name
    assert [str(c) for c in event.categories] == ["Hội nghị trực tuyến", "Thanh Hóa"]
    triggers = [alarm["TRIGGER"].dt for alarm in event.walk("VALARM")]
    assert triggers == [-DAY_BEFORE, -REMINDER]
    assert {str(alarm["ACTION"]) for alarm in event.walk("VALARM")} == {"DISPLAY"}


def test_description_is_plain_text_with_everything_a_client_may_not_show() -> None:
    description = str(_event(serialize(build_calendar(FEED, [MEETING])))["DESCRIPTION"])
    assert description == "\n".join(
        [
            "Kết nối 166 xã, phường.",
            "",
            "Cơ quan triệu tập: Thường trực Tỉnh ủy Thanh Hóa",
            "Chủ trì: Đồng chí Nguyễn Doãn Anh, Bí thư Tỉnh ủy",
            "Điểm cầu trung tâm: Điểm cầu chính Thanh Hóa",
            "Điểm cầu của đơn vị: Hội trường UBND xã Cẩm Tú",
            "Chủ trì tại điểm cầu của đơn vị: Phạm Thị Nhàn (Bí thư Đảng uỷ)",
            "",
            "Chương trình hội nghị:",
            "1. 14:10 Khai mạc (Chánh Văn phòng)",
            "2. Thảo luận",
            "",
            "https://confhub.example/meetings/1",
        ]
    )
    english = replace(FEED, language="en")
    text = str(_event(serialize(build_calendar(english, [MEETING])))["DESCRIPTION"])
    assert "Convened by: Thường trực Tỉnh ủy Thanh Hóa" in text
    assert "Your connection point: Hội trường UBND xã Cẩm Tú" in text


def test_a_cancelled_meeting_stays_marked_cancelled() -> None:
    cancelled = replace(MEETING, status="cancelled", status_reason="Bão số 6", sequence=4)
    event = _event(serialize(build_calendar(FEED, [cancelled])))
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 4
    assert str(event["SUMMARY"]) == f"[Đã hủy] {MEETING.title}"
    assert str(event["DESCRIPTION"]).startswith("Hội nghị đã bị hủy: Bão số 6\n")
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert event.walk("VALARM") == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("draft", "TENTATIVE"),
        ("scheduled", "CONFIRMED"),
        ("live", "CONFIRMED"),
        ("ended", "CONFIRMED"),
    ],
)
def test_status(status: str, expected: str) -> None:
    event = _event(serialize(build_calendar(FEED, [replace(MEETING, status=status)])))
    assert str(event["STATUS"]) == expected
    assert str(event["SUMMARY"]).startswith("[Bản nháp] ") == (status == "draft")


def test_vtimezone_is_trimmed_to_the_years_of_the_feed() -> None:
    next_year = replace(
        MEETING,
        uid="meeting-2@confhub.example",
        starts_at=datetime(2026, 12, 31, 16, 30, tzinfo=UTC),  # 23:30 on 31 December, local
        ends_at=datetime(2026, 12, 31, 18, 0, tzinfo=UTC),  # 01:00 on 1 January 2027, local
    )
    calendar = build_calendar(FEED, [MEETING, next_year])
    (timezone,) = calendar.timezones
    assert timezone.tz_name == ZONE
    assert calendar.get_missing_tzids() == set()
    starts = [sub["DTSTART"].dt for sub in timezone.subcomponents]
    assert min(starts).year == 2025
    assert b"from 2025-01-01 to 2028-01-01" in serialize(calendar)
    # Empty, the calendar still defines its zone (RFC 5545 wants at least one component).
    empty = serialize(build_calendar(FEED, []))
    assert b"TZID:Asia/Ho_Chi_Minh" in empty
    assert b"from 2025-01-01 to 2026-01-01" in empty
    assert IcsCalendarStream.calendar_from_ics(empty.decode()).events == []


# Diacritics (precomposed and combining), the characters iCalendar escapes, and lines far longer
# than the 75-octet fold.
VIETNAMESE = (
    "Hội nghị trực tuyến đánh giá hoạt động chính quyền địa phương 2 cấp và công tác khắc phục "
    'hậu quả do bão số 5 gây ra; kết nối 166 xã, phường: "điểm cầu" Cẩm Tú \\ Thạch Lập, '
    + unicodedata.normalize("NFD", "Nghị quyết số 202/2025/QH15, Đảng uỷ")
    + " – ổn định, bền vững; ưu tiên! Ngày 10/9/2025."
)


def test_vietnamese_text_survives_escaping_and_folding_byte_for_byte() -> None:
    text_event = replace(
        MEETING,
        title=VIETNAMESE,
        description=f"{VIETNAMESE}\n{VIETNAMESE}",
        location=VIETNAMESE,
        organizer_name=VIETNAMESE,
        presiding_official="",
        convening_body="",
        host_point="",
        agenda=(),
        own_points=(),
    )
    body = serialize(build_calendar(FEED, [text_event]))
    for line in _lines(body):
        assert len(line) <= 75, line
        line.decode("utf-8")  # never folded inside a character

    event = _event(body)
    expected_description = f"{VIETNAMESE}\n{VIETNAMESE}\n\n{MEETING.url}"
    for value, expected in [
        (str(event["SUMMARY"]), VIETNAMESE),
        (str(event["LOCATION"]), VIETNAMESE),
        (event["ORGANIZER"].params["CN"], VIETNAMESE),
        (str(event["DESCRIPTION"]), expected_description),
    ]:
        assert value.encode("utf-8") == expected.encode("utf-8")

    (strict,) = IcsCalendarStream.calendar_from_ics(body.decode("utf-8")).events
    assert strict.summary is not None and strict.summary.encode() == VIETNAMESE.encode()
    assert strict.location is not None and strict.location.encode() == VIETNAMESE.encode()
    assert strict.description is not None
    assert strict.description.encode() == expected_description.encode()
    assert strict.organizer is not None and strict.organizer.common_name == VIETNAMESE


def test_times_are_written_in_the_feeds_zone_whatever_zone_they_come_in() -> None:
    paris = replace(
        MEETING,
        starts_at=datetime(2025, 9, 10, 14, 0, tzinfo=ZoneInfo(ZONE)),
        ends_at=datetime(2025, 9, 10, 12, 0, tzinfo=ZoneInfo("Europe/Paris")),  # 17:00 in Hà Nội
    )
    body = serialize(build_calendar(FEED, [paris]))
    assert b"DTEND;TZID=Asia/Ho_Chi_Minh:20250910T170000\r\n" in body
    event = _event(body)
    assert (event.start, event.end) == (MEETING.starts_at, MEETING.ends_at)


def test_published_ttl_says_the_refresh_interval() -> None:
    from confhub.calendar import builder

    assert icalendar.vDuration.from_ical(builder._REFRESH_TEXT) == builder.REFRESH_INTERVAL
