"""Fit and finish for Xã Cẩm Tú's chair on a 390 px phone (issue 18), in Debian's Chromium: each
test does what the chair did and checks what the chair should have seen. Screenshots go to
`test-artifacts/`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from confhub.app import create_app
from confhub.demo import DemoSeed
from tests.conftest import free_port, make_settings
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
CONTACT = "Văn phòng Tỉnh ủy Thanh Hóa, 0237 3852 123"


def _phone(browser: Any, locale: str = "vi-VN") -> Any:
    context = browser.new_context(
        viewport=PHONE, locale=locale, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


@pytest.fixture
def server(demo_db: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The demo with the secretariat's contact set."""
    port = free_port()
    settings = make_settings(
        demo_db, tmp_path, base_url=f"http://127.0.0.1:{port}", secretariat_contact=CONTACT
    )
    with LiveServer(create_app(settings), port) as live:
        yield live


def _secretariat(server: LiveServer, seed: DemoSeed) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    signed_in = client.post(
        "/api/v1/auth/login",
        json={"email": seed.organizer_email, "password": seed.organizer_password},
    )
    assert signed_in.status_code == 200
    return client


def _cam_tu_point(client: httpx.Client, meeting_id: int) -> int:
    points = client.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500}).json()
    return next(p["point_id"] for p in points["items"] if p["unit_code"] == 15148)


def test_a_replaced_link_says_so_and_whom_to_ask_without_naming_the_meeting(
    browser: Any, server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    clerk = _secretariat(server, demo_seed)
    point_id = _cam_tu_point(clerk, meeting_id)
    title = clerk.get(f"/api/v1/meetings/{meeting_id}").json()["title"]
    reissue = f"/api/v1/meetings/{meeting_id}/points/{point_id}/checkin-link/reissue"
    assert clerk.post(reissue).status_code == 200
    clerk.close()

    page = _phone(browser)
    answer = page.goto(f"{server.url}/checkin/{demo_seed.cam_tu_token}")
    assert answer is not None and answer.status == 404
    expect(page.locator("h1")).to_have_text("Đường dẫn điểm danh này không còn dùng được")
    main = page.locator("main")
    expect(main).to_contain_text("thay bằng đường dẫn mới hoặc đã thu hồi")
    expect(main).to_contain_text(CONTACT)
    assert title not in page.content()
    assert "Cẩm Tú" not in page.content()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.screenshot(path=str(screenshot_dir / "replaced-link.png"), full_page=True)

    # A mistyped link is answered with the very same page.
    other = page.goto(f"{server.url}/checkin/{'A' * 22}")
    assert other is not None and other.status == 404
    expect(page.locator("main")).to_contain_text(CONTACT)
    assert not page.errors, page.errors


def test_a_citizen_finds_the_news_and_a_communes_own_calendar_feed(
    browser: Any, server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    page = _phone(browser)
    page.goto(f"{server.url}/")
    # On a phone the header's menu is folded behind its button (item 8).
    page.get_by_role("button", name="Danh mục").click()
    page.get_by_role("link", name="Tin tức", exact=True).first.click()
    page.wait_for_url(f"{server.url}/news**")
    page.goto(f"{server.url}/units/15148/news")
    feed = page.locator("#calendar-feed")
    expect(feed).to_contain_text("Xã Cẩm Tú")
    subscribe = feed.get_by_role("link", name="Đăng ký theo dõi lịch")
    expect(subscribe).to_have_attribute(
        "href", re.compile(r"^webcal://.*/calendar/units/15148\.ics$")
    )
    ics = feed.get_by_role("link", name="Tải tệp .ics").get_attribute("href")
    assert ics is not None
    answer = httpx.get(ics if ics.startswith("http") else f"{server.url}{ics}")
    assert answer.status_code == 200 and "BEGIN:VCALENDAR" in answer.text
    feed.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "commune-calendar.png"))

    # A signed-in chair finds the personal feed page from the header.
    page.goto(f"{server.url}/login")
    page.fill("#email", demo_seed.chair_email)
    page.fill("#password", demo_seed.chair_password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    page.get_by_role("button", name="Danh mục").click()
    page.get_by_role("link", name="Lịch của tôi").click()
    page.wait_for_url(f"{server.url}/profile")
    expect(page.locator("main")).to_contain_text(".ics")
    assert not page.errors, page.errors
