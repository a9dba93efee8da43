"""Scheduling in a real browser (Debian's Chromium through Playwright), as the secretariat of
Thanh Hóa plans a conference: sign in, create a meeting for tomorrow, invite all 166 communes and
wards, upload a chair sheet with one bad row and see it refused, fix it, schedule the meeting and
find it in the week view. Screenshots of each step go to `test-artifacts/`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from confhub.demo import DemoSeed
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
TITLE = "Hội nghị trực tuyến giao ban công tác chuyển đổi số tháng 12"
HEADER = "Mã đơn vị,Họ và tên,Chức vụ,Điện thoại\n"
GOOD_ROWS = (
    '15148,Phạm Thị Nhàn,"Bí thư Đảng uỷ, Chủ tịch HĐND xã",0912345678\n'
    "Phường Hạc Thành,Lê Văn Hùng,Chủ tịch UBND phường,0987654321\n"
)
BAD_ROW = "Xã Không Tồn Tại,Trần Văn Sai,Chủ tịch UBND xã,0911111111\n"


def _sheet(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _sign_in(page: Any, server: LiveServer, seed: DemoSeed) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#email", seed.organizer_email)
    page.fill("#password", seed.organizer_password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{server.url}/")


def _create_meeting(page: Any, server: LiveServer, day: datetime) -> int:
    page.goto(f"{server.url}/meetings/new")
    page.fill("#title", TITLE)
    page.fill("#convening_body", "Thường trực Tỉnh ủy Thanh Hóa")
    page.fill("#starts_at", f"{day:%d/%m/%Y} 14:00")
    page.fill("#ends_at", f"{day:%d/%m/%Y} 16:30")
    page.click("form.meeting-form button[type=submit]")
    page.wait_for_url(re.compile(r"/meetings/\d+\?done=created"))
    match = re.search(r"/meetings/(\d+)", page.url)
    assert match is not None
    expect(page.locator("h1")).to_have_text(TITLE)
    return int(match.group(1))


def test_secretariat_plans_a_conference(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path, tmp_path: Path
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    tomorrow = datetime.now(VIETNAM) + timedelta(days=1)

    _sign_in(page, live_server, demo_seed)
    meeting_id = _create_meeting(page, live_server, tomorrow)
    expect(page.locator(".facts")).to_contain_text("14:00")
    page.screenshot(path=str(screenshot_dir / "1-created.png"), full_page=True)

    page.goto(f"{live_server.url}/meetings/{meeting_id}/points")
    page.click("form:has(input[name=how][value=all]) button[type=submit]")
    page.wait_for_url(re.compile(r"done="))
    expect(page.locator("main")).to_contain_text("166")
    page.screenshot(path=str(screenshot_dir / "2-invited.png"))

    page.set_input_files("#chair-file", str(_sheet(tmp_path, "chu-tri.csv", GOOD_ROWS + BAD_ROW)))
    page.click("form:has(#chair-file) button[type=submit]")
    bad = page.locator("tr.row-error")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text("Xã Không Tồn Tại")
    expect(page.get_by_role("button", name="Xác nhận nhập")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "3-sheet-refused.png"), full_page=True)

    page.set_input_files("#chair-file", str(_sheet(tmp_path, "chu-tri-sua.csv", GOOD_ROWS)))
    page.click("form:has(#chair-file) button[type=submit]")
    expect(page.locator("tr.row-error")).to_have_count(0)
    page.get_by_role("button", name="Xác nhận nhập").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/points"))
    expect(page.locator("main")).to_contain_text("Phạm Thị Nhàn")
    expect(page.locator("main")).to_contain_text("Lê Văn Hùng")
    page.screenshot(path=str(screenshot_dir / "4-chairs.png"))

    page.goto(f"{live_server.url}/meetings/{meeting_id}")
    page.get_by_role("button", name="Lên lịch (công bố)").click()
    page.wait_for_url(re.compile(r"done="))
    expect(page.locator(".facts")).to_contain_text("Đã lên lịch")

    page.goto(f"{live_server.url}/meetings/week?date={tomorrow:%Y-%m-%d}")
    expect(page.locator("main")).to_contain_text(TITLE)
    expect(page.locator("main")).to_contain_text("14:00")
    page.screenshot(path=str(screenshot_dir / "5-week.png"), full_page=True)
    assert not errors, errors
