"""The directory of contacts and a meeting's connection details in Debian's Chromium (issue #16):
the secretariat edits a point's contacts on a desktop and fills in how points join on the meeting
form; Cẩm Tú's chair sees how to join on the check-in page on a 390 px phone. Screenshots go to
`test-artifacts/`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from confhub.demo import DemoSeed
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ROOM_URL = "https://meet.thanhhoa.gov.vn/room/giao-ban-chuyen-doi-so-thang-12?pwd=246813"


def _page(browser: Any, viewport: dict[str, int], **options: Any) -> Any:
    page = browser.new_context(viewport=viewport, locale="vi-VN", **options).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


def _sign_in(page: Any, server: LiveServer, seed: DemoSeed) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#email", seed.organizer_email)
    page.fill("#password", seed.organizer_password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{server.url}/")


def test_the_secretariat_edits_contacts_and_connection_details_and_the_chair_sees_them(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    desk = _page(browser, DESKTOP)
    _sign_in(desk, live_server, demo_seed)

    # The directory, from the navigation, then Cẩm Tú's entry.
    desk.click("nav a[href='/points']")
    expect(desk.locator("h1")).to_have_text("Danh bạ điểm cầu")
    desk.locator("tr:has-text('Xã Cẩm Tú')").first.locator("a[href$='/contacts']").click()
    desk.fill("#chair_name", "Phạm Thị Nhàn")
    desk.fill("#chair_position", "Chủ tịch UBND xã Cẩm Tú")
    desk.fill("#phones", "0912 345 678\n+84 237 385 2468")
    desk.fill("#email", "sai-dia-chi")
    desk.click("form.form button[type=submit]")
    expect(desk.locator("#email-error")).to_contain_text("không phải địa chỉ thư điện tử")
    desk.fill("#email", "nhan@camtu.thanhhoa.gov.vn")
    desk.fill("#technician_phone", "0987.654.321")
    desk.click("form.form button[type=submit]")
    expect(desk.locator(".alert-ok")).to_be_visible()
    expect(desk.locator(".audit-log")).to_contain_text("0912345678, 02373852468")
    desk.screenshot(path=str(screenshot_dir / "contacts-desktop.png"), full_page=True)
    desk.goto(f"{live_server.url}/points")
    desk.screenshot(path=str(screenshot_dir / "directory-desktop.png"))

    # The upcoming meeting's form: how points join.
    meeting_id = demo_seed.upcoming_meeting_id
    desk.goto(f"{live_server.url}/meetings/{meeting_id}/edit")
    desk.fill("#conference_url", ROOM_URL)
    desk.fill("#conference_room", "MCU 10.38.1.5 · phòng 2025 · PIN 246813")
    desk.fill("#technician_phone", "0237 385 2468")
    desk.locator("fieldset.connection-fields").scroll_into_view_if_needed()
    desk.screenshot(path=str(screenshot_dir / "meeting-form-desktop.png"), full_page=True)
    desk.click("form.meeting-form button[type=submit]")
    desk.wait_for_url(re.compile(rf"/meetings/{meeting_id}\?done=updated"))
    expect(desk.locator("section.join-details")).to_contain_text("02373852468")
    desk.screenshot(path=str(screenshot_dir / "meeting-page-desktop.png"), full_page=True)
    assert desk.errors == []

    # The chair's check-in page on a phone shows how to join.
    phone = _page(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    phone.goto(f"{live_server.url}/checkin/{demo_seed.cam_tu_token}")
    connection = phone.locator("section.join-details")
    expect(connection).to_contain_text("Cách kết nối")
    expect(connection.locator(f"a[href='{ROOM_URL}']")).to_be_visible()
    expect(connection).to_contain_text("PIN 246813")
    connection.scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshot_dir / "checkin-phone.png"), full_page=True)
    # Nothing wider than the phone (a long link must wrap).
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.errors == []

    # The public page of the same meeting, for an anonymous visitor, does not give the room away.
    public = httpx.get(f"{live_server.url}/meetings/{meeting_id}", headers={"Accept": "text/html"})
    assert public.status_code == 200
    assert "meet.thanhhoa.gov.vn" not in public.text and "246813" not in public.text
