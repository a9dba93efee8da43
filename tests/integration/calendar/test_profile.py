"""The profile page (the private feed's address, its QR code and its reset) and the calendar links
on the province and meeting pages."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.calendar.conftest import ClientFactory, create_meeting, private_feed_path
from tests.integration.meetings.test_pages import assert_accessible_basics

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


def test_anonymous_visitors_are_sent_to_sign_in(feeds: TestClient[Litestar]) -> None:
    response = feeds.get("/profile", headers=HTML, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=%2Fprofile"


def test_profile_shows_the_private_feed_and_its_qr_code(chair: TestClient[Litestar]) -> None:
    page = chair.get("/profile", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert_accessible_basics(html)
    assert "<h1>Lịch của bạn</h1>" in html
    match = re.search(r"http://127\.0\.0\.1:8000/calendar/private/([A-Za-z0-9_-]+)\.ics", html)
    assert match, "no https address"
    token = match.group(1)
    assert len(token) >= 22, "128 bits, URL-safe"
    assert f"webcal://127.0.0.1:8000/calendar/private/{token}.ics" in html
    assert "<svg" in html and 'aria-label="Mã QR của địa chỉ lịch riêng của bạn"' in html
    links = re.findall(r'href="([^"]+)"', html.replace("&amp;", "&"))
    google = next(link for link in links if link.startswith("https://calendar.google.com/"))
    assert parse_qs(urlsplit(google).query)["cid"] == [
        f"webcal://127.0.0.1:8000/calendar/private/{token}.ics"
    ]
    outlook = next(link for link in links if link.startswith("https://outlook.live.com/"))
    assert parse_qs(urlsplit(outlook).query)["url"] == [
        f"http://127.0.0.1:8000/calendar/private/{token}.ics"
    ]
    assert re.search(r"/calendar/private/[A-Za-z0-9_-]+\.ics", chair.get("/profile").text)
    assert private_feed_path(chair) == f"/calendar/private/{token}.ics", "made once, then kept"


def test_reset_makes_a_new_address_and_kills_the_old_one(
    chair: TestClient[Litestar], feeds: TestClient[Litestar]
) -> None:
    old = private_feed_path(chair)
    assert feeds.get(old).status_code == 200
    page = chair.get("/profile", headers=HTML).text
    refused = chair.post("/profile/calendar-token", data={}, follow_redirects=False)
    assert refused.status_code == 403, "no reset without the form's CSRF token"
    assert feeds.get(old).status_code == 200

    reset = chair.post(
        "/profile/calendar-token", data={"_csrf_token": _csrf(page)}, follow_redirects=False
    )
    assert reset.status_code == 303
    assert reset.headers["location"] == "/profile?reset=1"
    notice = chair.get("/profile?reset=1", headers=HTML).text
    assert "Địa chỉ cũ không còn hoạt động" in notice
    new = private_feed_path(chair)
    assert new != old
    assert feeds.get(old).status_code == 404, "a reset token is a 404"
    assert feeds.get(new).status_code == 200


def test_every_user_has_a_token_of_their_own(
    chair: TestClient[Litestar], secretariat: TestClient[Litestar]
) -> None:
    assert private_feed_path(chair) != private_feed_path(secretariat)


def test_province_page_offers_the_province_feed(feeds: TestClient[Litestar]) -> None:
    html = feeds.get("/?province=38", headers=HTML).text.replace("&amp;", "&")
    assert 'href="webcal://127.0.0.1:8000/calendar/provinces/38.ics"' in html
    assert 'href="http://127.0.0.1:8000/calendar/provinces/38.ics" download="38.ics"' in html
    assert "https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2F127.0.0.1" in html
    assert "https://outlook.live.com/calendar/0/addfromweb?url=http%3A%2F%2F127.0.0.1" in html
    assert "Đăng ký theo dõi lịch" in html
    assert_accessible_basics(html)


def test_meeting_page_offers_its_feed_and_the_event(
    feeds: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    html = feeds.get(f"/meetings/{meeting_id}", headers=HTML).text.replace("&amp;", "&")
    assert f'href="webcal://127.0.0.1:8000/calendar/meetings/{meeting_id}.ics"' in html
    assert f'/calendar/meetings/{meeting_id}.ics" download="{meeting_id}.ics"' in html
    google = re.search(r'href="(https://calendar\.google\.com/[^"]+)"', html)
    assert google
    query = parse_qs(urlsplit(google.group(1)).query)
    assert query["action"] == ["TEMPLATE"]
    assert re.fullmatch(r"\d{8}T\d{6}Z/\d{8}T\d{6}Z", query["dates"][0])
    assert "https://outlook.live.com/calendar/0/deeplink/compose?" in html
    assert_accessible_basics(html)


def test_a_draft_page_offers_no_calendar_links(
    open_client: ClientFactory, secretariat: TestClient[Litestar]
) -> None:
    draft = create_meeting(secretariat, status="draft")
    html = secretariat.get(f"/meetings/{draft}", headers=HTML).text
    assert f"/calendar/meetings/{draft}.ics" not in html
