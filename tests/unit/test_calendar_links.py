"""Subscribe, download, Google and Outlook links of feeds and meetings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from confhub.calendar.links import CalendarLinkFactory, webcal_url
from confhub.calendar.services import FeedPolicy

pytestmark = pytest.mark.unit

POLICY = FeedPolicy("https://confhub.example", "Asia/Ho_Chi_Minh")
FACTORY = CalendarLinkFactory(POLICY)


@dataclass
class Place:
    code: int
    name: str


@dataclass
class MeetingStub:
    id: int
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/calendar/x.ics", "webcal://a.example/calendar/x.ics"),
        ("http://127.0.0.1:8000/c.ics", "webcal://127.0.0.1:8000/c.ics"),
        ("webcal://a.example/x.ics", "webcal://a.example/x.ics"),
    ],
)
def test_webcal(url: str, expected: str) -> None:
    assert webcal_url(url) == expected


def test_province_links() -> None:
    links = FACTORY.province(Place(38, "Thanh Hóa"))
    assert links.https == "https://confhub.example/calendar/provinces/38.ics"
    assert links.webcal == "webcal://confhub.example/calendar/provinces/38.ics"
    assert links.filename == "38.ics"
    assert links.is_feed
    assert links.google.startswith("https://calendar.google.com/calendar/render?")
    assert _query(links.google) == {"cid": [links.webcal]}
    assert links.outlook.startswith("https://outlook.live.com/calendar/0/addfromweb?")
    assert _query(links.outlook) == {"url": [links.https], "name": ["Thanh Hóa"]}


def test_unit_and_private_links() -> None:
    unit = FACTORY.unit(Place(15148, "Xã Cẩm Tú"))
    assert unit.https == "https://confhub.example/calendar/units/15148.ics"
    private = FACTORY.private("a-B_c", "Lịch của tôi")
    assert private.https == "https://confhub.example/calendar/private/a-B_c.ics"
    assert private.webcal == "webcal://confhub.example/calendar/private/a-B_c.ics"


def test_meeting_links_add_the_event_itself() -> None:
    meeting = MeetingStub(
        7,
        "Hội nghị, giao ban & tổng kết",
        "scheduled",
        datetime(2025, 9, 10, 7, 0, tzinfo=UTC),
        datetime(2025, 9, 10, 10, 0, tzinfo=UTC),
    )
    links = FACTORY.meeting(meeting)
    assert links is not None
    assert not links.is_feed
    assert links.webcal == "webcal://confhub.example/calendar/meetings/7.ics"
    google = _query(links.google)
    assert google["action"] == ["TEMPLATE"]
    assert google["text"] == ["Hội nghị, giao ban & tổng kết"]
    assert google["dates"] == ["20250910T070000Z/20250910T100000Z"]
    assert google["details"] == ["https://confhub.example/meetings/7"]
    outlook = _query(links.outlook)
    assert outlook["subject"] == ["Hội nghị, giao ban & tổng kết"]
    assert outlook["startdt"] == ["2025-09-10T07:00:00Z"]
    assert outlook["enddt"] == ["2025-09-10T10:00:00Z"]
    assert "+" not in links.google, "spaces are %20, which every calendar reads"
    meeting.status = "draft"
    assert FACTORY.meeting(meeting) is None
