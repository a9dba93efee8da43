"""A chair answers the invitation on a 390 px phone, and the secretariat's board and points page
show it live; the outbox and a meeting's notices page on a desktop (screenshots kept for a
look)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from confhub.demo import DemoSeed
from tests.e2e.conftest import LiveServer
from tests.e2e.test_live_browser import (
    CAM_TU_POINT,
    DESKTOP,
    _expect,
    no_script_errors,
    open_board,
    open_phone,
    secretariat_api,
    tile,
    watch,
)

pytestmark = pytest.mark.e2e
__all__ = ["no_script_errors"]  # the autouse fixture: no page may throw


def test_a_chair_acknowledges_on_a_phone_and_the_board_shows_it_live(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    board = open_board(browser, live_server, demo_seed, meeting_id)
    notice = tile(board, CAM_TU_POINT).locator("[data-field=notice]")
    expect = _expect()
    # The demo has no mail server: the invitation waits on the outbox.
    expect(notice).to_have_text("Đang chờ gửi")
    phone = open_phone(browser, live_server, demo_seed.cam_tu_token)
    expect(phone.locator("#ack-current")).to_contain_text("Chưa trả lời")
    phone.screenshot(path=str(screenshot_dir / "invitation-phone-before.png"), full_page=True)

    phone.check("#ack-received")
    phone.fill("#ack-expected", "12")
    phone.click("#ack-form button[type=submit]")
    phone.wait_for_url("**acknowledged=saved**")
    expect(phone.locator("#invitation")).to_contain_text("Câu trả lời đã được gửi đến văn phòng.")
    expect(phone.locator("#ack-current")).to_contain_text("Đã nhận · dự kiến 12 đại biểu")
    # The board heard of it over its live channel, without a reload.
    expect(notice).to_have_text("Đã nhận · dự kiến 12 đại biểu", timeout=5000)
    phone.locator("#invitation").scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshot_dir / "invitation-phone-answered.png"), full_page=True)
    board.screenshot(path=str(screenshot_dir / "board-acknowledged.png"))

    # Then the chair cannot come after all: a reason is required, then the board says so.
    phone.check("#ack-declined")
    phone.click("#ack-form button[type=submit]")
    expect(phone.locator("#ack-error")).to_contain_text("Nêu lý do không tham dự được.")
    phone.fill("#ack-reason", "Bão lũ, mất điện")
    phone.click("#ack-form button[type=submit]")
    phone.wait_for_url("**acknowledged=saved**")
    expect(notice).to_have_text("Không tham dự được: Bão lũ, mất điện", timeout=5000)


def test_the_outbox_and_the_notices_page_on_a_desktop(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    board = open_board(browser, live_server, demo_seed, meeting_id)  # signs in
    page = watch(board.context.new_page())
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/outbox")
    expect = _expect()
    expect(page.locator("#outbox-only")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "outbox-desktop.png"))
    page.locator("table.outbox tbody a").first.click()
    expect(page.locator(".message-ics")).to_contain_text("METHOD:REQUEST")
    page.screenshot(path=str(screenshot_dir / "outbox-message-desktop.png"), full_page=True)
    page.goto(f"{live_server.url}/meetings/{meeting_id}/notices")
    expect(page.locator("#unconfirmed-heading")).to_contain_text("Chưa xác nhận (166)")
    page.screenshot(path=str(screenshot_dir / "notices-desktop.png"))


def test_the_points_page_shows_each_answer_live(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    board = open_board(browser, live_server, demo_seed, meeting_id)  # signs in
    page = watch(board.context.new_page())
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/meetings/{meeting_id}/points")
    page.wait_for_selector("table.points-table[data-live=true]", timeout=10_000)
    row = page.locator("tbody tr", has_text=CAM_TU_POINT)
    notice = row.locator("[data-field=notice]")
    expect = _expect()
    expect(notice).to_have_text("Đang chờ gửi")
    api = secretariat_api(live_server, demo_seed)
    points = api.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500}).json()
    point_id = next(p["point_id"] for p in points["items"] if p["point_name"] == CAM_TU_POINT)
    # The chair answers from the check-in link; the clerk's table changes without a reload.
    answer = httpx.post(
        f"{live_server.url}/api/v1/meetings/{meeting_id}/acknowledgements",
        json={"point_id": point_id, "status": "received", "delegates_expected": 7},
        headers={"X-Checkin-Token": demo_seed.cam_tu_token},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    expect(notice).to_have_text("Đã nhận · dự kiến 7 đại biểu", timeout=5000)
    expect(row.locator("[data-notice]")).to_have_attribute("data-notice", "acknowledged")
    row.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "points-notices-live.png"))
