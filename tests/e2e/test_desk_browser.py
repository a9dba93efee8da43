"""The desk in Chromium (issue #19): a chair on a 390 px phone taps "Mất tiếng", the board on a
desktop lists it in the technician's queue, the technician takes it on and resolves it with a
note, and the phone shows each step; an announcement to every point stands on top of the phone's
page until the chair acknowledges it, and the board counts it live (screenshots kept)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from confhub.demo import DemoSeed
from tests.e2e.conftest import LiveServer
from tests.e2e.test_live_browser import (
    CAM_TU_POINT,
    _expect,
    api,
    cam_tu_point_id,
    no_script_errors,
    open_board,
    open_phone,
)

pytestmark = pytest.mark.e2e

__all__ = ["api", "no_script_errors"]  # fixtures: the secretariat's client; no page may throw


def incidents(api: httpx.Client, meeting_id: int) -> list[dict[str, Any]]:
    """The meeting's incidents not yet resolved, as the technician's API lists them."""
    response = api.get(f"/api/v1/meetings/{meeting_id}/incidents")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_an_incident_and_an_announcement_between_a_phone_and_the_board(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    expect = _expect()
    board = open_board(browser, live_server, demo_seed, demo_seed.upcoming_meeting_id)
    phone = open_phone(browser, live_server, demo_seed.cam_tu_token)

    phone.fill("#incident-note", "Loa hội trường không nghe được")
    phone.click("#incident-form button[value=no_audio]")
    mine = phone.locator("#incident-list li")
    expect(mine).to_contain_text("Mất tiếng — Đang chờ xử lý", timeout=5000)
    expect(phone.locator("#incident-status")).to_have_text("Bộ phận kỹ thuật đã nhận báo sự cố.")
    phone.screenshot(path=str(screenshot_dir / "incident-phone-reported.png"), full_page=True)

    queued = board.locator("#incident-queue li")
    expect(queued).to_contain_text("Mất tiếng", timeout=5000)
    expect(queued).to_contain_text("Loa hội trường không nghe được")
    expect(board.locator("#incident-count")).to_have_text("1")
    board.locator("#incidents").scroll_into_view_if_needed()
    board.screenshot(path=str(screenshot_dir / "incident-board-queue.png"))
    queued.get_by_role("button", name="Tiếp nhận").click()
    expect(mine).to_contain_text("Kỹ thuật đang xử lý", timeout=5000)
    board.once("dialog", lambda dialog: dialog.accept("Đã thay dây loa"))
    queued.get_by_role("button", name="Đã khắc phục").click()
    expect(mine).to_contain_text("Đã khắc phục · ghi chú của kỹ thuật: Đã thay dây loa")
    expect(board.locator("#incident-none")).to_be_visible()

    board.fill("#announcement-text", "5 phút nữa bắt đầu, các điểm cầu tắt micrô")
    board.click("#announcement-form button[type=submit]")
    shown = phone.locator("#announcements .announcement")
    expect(shown).to_contain_text("5 phút nữa bắt đầu, các điểm cầu tắt micrô", timeout=5000)
    counts = board.locator("#announcement-list li .announcement-counts")
    expect(counts).to_contain_text("1 đã xem, 0 đã xác nhận / 166 điểm cầu", timeout=5000)
    phone.screenshot(path=str(screenshot_dir / "announcement-phone.png"))
    shown.get_by_role("button", name="Đã nhận thông báo").click()
    expect(phone.locator("#announcements")).to_be_hidden(timeout=5000)
    expect(counts).to_contain_text("1 đã xem, 1 đã xác nhận / 166 điểm cầu", timeout=5000)
    board.locator("#announcements-panel").scroll_into_view_if_needed()
    board.screenshot(path=str(screenshot_dir / "announcement-board.png"))
    # Reloaded, the phone does not show it again.
    phone.reload()
    phone.wait_for_selector("#connection[data-state=live]", timeout=10_000)
    expect(phone.locator("#announcements")).to_be_hidden()


def test_an_incident_reported_offline_is_kept_on_the_phone_and_sent_once_back_online(
    browser: Any,
    live_server: LiveServer,
    demo_seed: DemoSeed,
    api: httpx.Client,
    screenshot_dir: Path,
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    point_id = cam_tu_point_id(api, meeting_id)
    board = open_board(browser, live_server, demo_seed, meeting_id)
    phone = open_phone(browser, live_server, demo_seed.cam_tu_token)
    expect = _expect()
    outbox = f"confhub.incidents.v1.{meeting_id}.{point_id}"

    # The hall's Wi-Fi is gone: the tap is kept on the phone and nothing reaches the server.
    phone.context.set_offline(True)
    expect(phone.locator("#connection")).to_have_attribute("data-state", "offline", timeout=5000)
    phone.fill("#incident-note", "Mất mạng cả hội trường")
    phone.click("#incident-form button[value=disconnected]")
    waiting = phone.locator("#incident-list li[data-state=sending]")
    expect(waiting).to_contain_text("Mất kết nối — đang chờ gửi")
    expect(phone.locator("#incident-status")).to_contain_text("được giữ trên điện thoại này")
    kept = phone.evaluate(f"JSON.parse(localStorage.getItem('{outbox}'))")
    assert [entry["kind"] for entry in kept] == ["disconnected"]
    time.sleep(1.5)  # nothing may leak out while offline
    assert incidents(api, meeting_id) == []
    expect(board.locator("#incident-none")).to_be_visible()
    phone.locator("#incidents").scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshot_dir / "incident-phone-offline.png"))

    # Back online: sent by itself, stored once, in the technician's queue.
    phone.context.set_offline(False)
    mine = phone.locator("#incident-list li")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Mất kết nối — Đang chờ xử lý", timeout=10_000)
    queued = board.locator("#incident-queue li")
    expect(queued).to_contain_text(CAM_TU_POINT, timeout=5000)
    expect(queued).to_contain_text("Mất mạng cả hội trường")
    expect(phone.locator("#connection")).to_have_attribute("data-state", "live", timeout=10_000)
    time.sleep(1.5)  # let any retry over the socket and over HTTP both arrive
    stored = incidents(api, meeting_id)
    assert [(i["incident_id"], i["kind"]) for i in stored] == [
        (kept[0]["incident_id"], "disconnected")
    ]
    assert phone.evaluate(f"localStorage.getItem('{outbox}')") in (None, "[]")
    expect(board.locator("#incident-count")).to_have_text("1")

    # Offline again while the technician fixes it: the phone catches up when it is back,
    # without a reload.
    phone.context.set_offline(True)
    expect(phone.locator("#connection")).to_have_attribute("data-state", "offline", timeout=5000)
    fixed = api.patch(
        f"/api/v1/meetings/{meeting_id}/incidents/{kept[0]['incident_id']}",
        json={"state": "resolved", "note": "Đã khởi động lại bộ phát Wi-Fi"},
    )
    assert fixed.status_code == 200, fixed.text
    phone.context.set_offline(False)
    expect(mine).to_contain_text(
        "Đã khắc phục · ghi chú của kỹ thuật: Đã khởi động lại bộ phát Wi-Fi", timeout=10_000
    )
    phone.locator("#incidents").scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshot_dir / "incident-phone-back-online.png"))


def test_the_phone_reaches_speaking_and_incidents_from_the_top_of_its_page(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    expect = _expect()
    phone = open_phone(browser, live_server, demo_seed.cam_tu_token)
    menu = phone.get_by_role("navigation", name="Trên trang này")
    expect(menu).to_be_in_viewport()
    phone.screenshot(path=str(screenshot_dir / "phone-menu.png"))
    for link, section in (
        ("Báo sự cố", "#incidents"),
        ("Phát biểu", "#speaking"),
        ("Điểm danh", "#answer"),
    ):
        menu.get_by_role("link", name=link).click()
        expect(phone.locator(f"{section} h2")).to_be_in_viewport()
    menu.get_by_role("link", name="Báo sự cố").click()
    phone.click("#incident-form button[value=no_video]")  # one tap from the top, then one more
    expect(phone.locator("#incident-list li")).to_contain_text("Mất hình", timeout=5000)
    phone.screenshot(path=str(screenshot_dir / "phone-menu-incidents.png"))
