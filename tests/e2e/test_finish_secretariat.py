"""Fit and finish for a Thanh Hóa secretariat clerk on a desktop (issue 18), in Debian's Chromium:
each test does what the clerk did and checks what the clerk should have seen. Screenshots go to
`test-artifacts/`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from confhub.demo import DemoSeed
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
DESKTOP = {"width": 1280, "height": 900}


def _desktop(browser: Any, locale: str = "vi-VN") -> Any:
    page = browser.new_context(viewport=DESKTOP, locale=locale).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    page.errors = errors
    return page


def _sign_in(page: Any, server: LiveServer, seed: DemoSeed) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#email", seed.organizer_email)
    page.fill("#password", seed.organizer_password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{server.url}/")


def _set_moment(page: Any, field: str, moment: datetime) -> None:
    page.fill(f"#{field}", f"{moment:%Y-%m-%dT%H:%M}")


def _create_with_agenda(page: Any, server: LiveServer, day: datetime) -> int:
    page.goto(f"{server.url}/meetings/new")
    page.fill("#title", "Giao ban chuyển đổi số")
    _set_moment(page, "starts_at", day.replace(hour=14, minute=0))
    _set_moment(page, "ends_at", day.replace(hour=16, minute=30))
    page.fill("#agenda-0-time", "14:00")
    page.fill("#agenda-0-title", "Khai mạc")
    page.fill("#agenda-1-time", "14:15")
    page.fill("#agenda-1-title", "Báo cáo tình hình")
    page.click("form.meeting-form button[type=submit]")
    page.wait_for_url(re.compile(r"/meetings/\d+\?done=created"))
    match = re.search(r"/meetings/(\d+)", page.url)
    assert match is not None
    return int(match.group(1))


def test_reschedule_moves_the_agenda_and_warns_of_items_outside(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    page = _desktop(browser)
    day = datetime.now(VIETNAM) + timedelta(days=2)
    _sign_in(page, live_server, demo_seed)
    meeting_id = _create_with_agenda(page, live_server, day)

    # Moved by 30 minutes: the agenda moves with it (the box is ticked by default).
    page.goto(f"{live_server.url}/meetings/{meeting_id}/edit")
    expect(page.locator("#shift_agenda")).to_be_checked()
    _set_moment(page, "starts_at", day.replace(hour=14, minute=30))
    _set_moment(page, "ends_at", day.replace(hour=17, minute=0))
    page.click("form.meeting-form button[type=submit]")
    page.wait_for_url(re.compile(r"done=updated"))
    agenda = page.locator("ol.agenda")
    expect(agenda.locator("li").nth(0)).to_contain_text("14:30")
    expect(agenda.locator("li").nth(0)).to_contain_text("Khai mạc")
    expect(agenda.locator("li").nth(1)).to_contain_text("14:45")
    expect(page.locator("#agenda-warning")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "1-moved-with-agenda.png"), full_page=True)
    page.get_by_role("button", name="Lên lịch (công bố)").click()
    page.wait_for_url(re.compile(r"done=status"))
    feed = httpx.get(f"{live_server.url}/calendar/meetings/{meeting_id}.ics").text
    unfolded = feed.replace("\r\n ", "")
    assert "14:30" in unfolded and "Khai mạc" in unfolded
    assert "14:00" not in unfolded

    # Moved again without the box: the clerk is warned that the items now lie outside.
    page.goto(f"{live_server.url}/meetings/{meeting_id}/edit")
    page.uncheck("#shift_agenda")
    _set_moment(page, "starts_at", day.replace(hour=15, minute=0))
    _set_moment(page, "ends_at", day.replace(hour=17, minute=0))
    page.click("form.meeting-form button[type=submit]")
    page.wait_for_url(re.compile(r"done=updated"))
    warning = page.locator("#agenda-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("15:00")
    expect(warning).to_contain_text("2")
    expect(page.locator("ol.agenda li.outside")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "2-agenda-outside.png"), full_page=True)
    assert not page.errors, page.errors
