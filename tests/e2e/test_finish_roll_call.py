"""Fit and finish of the roll call's limits and forms (issue 18, items 5 and 6), in Debian's
Chromium: Xã Cẩm Tú's chair on a 390 px phone, Thanh Hóa's clerk at a 1280 px desktop. Each test
does what the person did and checks what they should have seen. Screenshots go to
`test-artifacts/`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from confhub.demo import DemoSeed
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CAM_TU = 15148


def _phone(browser: Any, locale: str = "vi-VN") -> Any:
    context = browser.new_context(
        viewport=PHONE, locale=locale, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


def _clerk_api(server: LiveServer, seed: DemoSeed) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    signed_in = client.post(
        "/api/v1/auth/login",
        json={"email": seed.organizer_email, "password": seed.organizer_password},
    )
    assert signed_in.status_code == 200
    return client


def test_before_the_roll_call_opens_the_chair_answers_the_invitation_then_checks_in(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    clerk = _clerk_api(live_server, demo_seed)
    opens = (datetime.now(UTC) + timedelta(minutes=40)).replace(second=0, microsecond=0)
    moved = clerk.patch(
        f"/api/v1/meetings/{meeting_id}",
        json={
            "roll_call_opens_at": opens.isoformat(),
            "starts_at": (opens + timedelta(minutes=20)).isoformat(),
        },
    )
    assert moved.status_code == 200, moved.text
    shown = (opens + timedelta(hours=7)).strftime("%H:%M")  # Vietnam time, no summer time

    page = _phone(browser)
    page.goto(f"{live_server.url}/checkin/{demo_seed.cam_tu_token}")
    notice = page.locator("#roll-call-opens")
    expect(notice).to_contain_text(f"Điểm danh mở lúc {shown}")
    expect(notice).to_contain_text("vui lòng xác nhận giấy mời ở trên")
    expect(page.locator("#checkin-form")).to_have_count(0)
    expect(page.locator("#signal-form")).to_be_visible()  # the line test needs it
    page.screenshot(path=str(screenshot_dir / "before-opening.png"), full_page=True)

    # The invitation: received, 900 expected is more than the meeting allows.
    page.check("#ack-received")
    page.fill("#ack-expected", "900")
    page.click("#ack-form button[type=submit]")
    expect(page.locator("#ack-error")).to_have_text("Nhập số đại biểu từ 1 đến 500.")
    page.fill("#ack-expected", "25")
    page.click("#ack-form button[type=submit]")
    expect(page.locator("#ack-current")).to_contain_text("25")

    # The clerk opens the roll call now; the chair's page shows the form.
    opened = clerk.patch(
        f"/api/v1/meetings/{meeting_id}",
        json={"roll_call_opens_at": datetime.now(UTC).replace(microsecond=0).isoformat()},
    )
    assert opened.status_code == 200, opened.text
    clerk.close()
    page.reload()
    expect(page.locator("#roll-call-opens")).to_have_count(0)
    expect(page.locator("#checkin-form")).to_be_visible()
    expect(page.locator("label[for=delegates]")).to_contain_text("từ 1 đến 500")
    page.check("#status-present")
    page.fill("#delegates", "100000")
    page.click("#checkin-form button[type=submit]")
    expect(page.locator("#client-error")).to_have_text("Nhập số đại biểu từ 1 đến 500.")
    page.screenshot(path=str(screenshot_dir / "too-many-delegates.png"), full_page=True)
    page.fill("#delegates", "25")
    page.click("#checkin-form button[type=submit]")
    expect(page.locator("#current-text")).to_contain_text("25 đại biểu")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.screenshot(path=str(screenshot_dir / "checked-in.png"), full_page=True)
    assert not page.errors, page.errors


def test_an_english_phone_gets_the_check_in_page_in_vietnamese_with_the_switch(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    page = _phone(browser, locale="en-US")
    page.goto(f"{live_server.url}/checkin/{demo_seed.cam_tu_token}")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#answer-heading")).to_have_text("Điểm danh")
    page.screenshot(path=str(screenshot_dir / "english-phone-vietnamese.png"))
    page.get_by_role("link", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#answer-heading")).to_have_text("Roll call")
    page.screenshot(path=str(screenshot_dir / "switched-to-english.png"))
    assert not page.errors, page.errors


def test_the_clerk_types_days_and_times_as_dd_mm_yyyy_and_24_hours_on_an_english_desktop(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="America/New_York")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/login?lang=vi")
    page.fill("#email", demo_seed.organizer_email)
    page.fill("#password", demo_seed.organizer_password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    meeting_id = demo_seed.upcoming_meeting_id
    page.goto(f"{live_server.url}/meetings/{meeting_id}/edit")
    expect(page.locator("#starts_at")).to_have_value(re.compile(r"^\d\d/\d\d/\d{4} \d\d:\d\d$"))

    day = (datetime.now(UTC) + timedelta(days=7)).strftime("%d/%m/%Y")
    page.fill("#starts_at", f"{day} 14:30")
    page.fill("#ends_at", f"{day} 17:00")
    page.uncheck("#shift_agenda")
    page.fill("#agenda-0-time", "14h")
    page.press("#agenda-0-time", "Tab")
    expect(page.locator("#agenda-0-time")).to_have_value("14:00")  # tidied as it is left
    # The whole time shows in its box (a browser's own time box cut it to "02:00 P").
    assert page.eval_on_selector("#agenda-0-time", "e => e.scrollWidth <= e.clientWidth")
    page.fill("#roll_call_opens_at", f"{day} 2 PM")
    page.press("#roll_call_opens_at", "Tab")
    expect(page.locator("#roll_call_opens_at-format")).to_contain_text("dd/mm/yyyy hh:mm (24 giờ)")
    page.fill("#roll_call_opens_at", f"{day} 14:00")
    page.press("#roll_call_opens_at", "Tab")
    expect(page.locator("#roll_call_opens_at-format")).to_have_count(0)
    page.fill("#delegates_max", "60")
    page.locator("fieldset.roll-call-fields").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "meeting-form.png"), full_page=True)
    page.click("form.meeting-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}(\?|$)"))
    expect(page.locator("#roll-call-limits")).to_contain_text("14:00, ")
    expect(page.locator("#roll-call-limits")).to_contain_text(f"{day}; từ 1 đến 60 đại biểu")
    page.screenshot(path=str(screenshot_dir / "meeting-page.png"), full_page=True)

    page.goto(f"{live_server.url}/meetings/{meeting_id}/edit")
    expect(page.locator("#starts_at")).to_have_value(f"{day} 14:30")
    expect(page.locator("#agenda-0-time")).to_have_value("14:00")
    expect(page.locator("#roll_call_opens_at")).to_have_value(f"{day} 14:00")
    # The week and the list take the same days.
    page.goto(f"{live_server.url}/meetings/week?date={day}")
    expect(page.locator("#week-date")).to_have_value(day)
    page.screenshot(path=str(screenshot_dir / "week.png"))
    assert not errors, errors
    context.close()


def test_the_clerk_imports_the_right_rows_of_a_chair_sheet_and_sees_the_rest_with_reasons(
    browser: Any,
    live_server: LiveServer,
    demo_seed: DemoSeed,
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    sheet = tmp_path / "chu-tri.csv"
    sheet.write_text(
        "Mã đơn vị;Họ tên;Chức vụ;Điện thoại\n"
        "15148;Lê Văn An;Bí thư Đảng ủy;0912345678\n"
        "Xa Cam Tuu;Ngô Văn Ba;Chủ tịch UBND;0912345679\n"
        "Phường Hạc Thành;Trịnh Văn Hải;Chủ tịch UBND;0912345670\n"
        "15184;Vũ Thị Tư;Chủ tịch UBND;\n",
        encoding="utf-8",
    )
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/login")
    page.fill("#email", demo_seed.organizer_email)
    page.fill("#password", demo_seed.organizer_password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    meeting_id = demo_seed.upcoming_meeting_id
    page.goto(f"{live_server.url}/meetings/{meeting_id}/points")
    page.set_input_files("#chair-file", str(sheet))
    page.locator("#chair-file").locator("xpath=ancestor::form").locator("button").click()
    page.wait_for_url(re.compile(r"/chairs/preview$"))
    expect(page.locator("#rows-to-leave")).to_contain_text("2 dòng nhập được. 2 dòng có lỗi")
    table = page.locator("table.preview-table")
    expect(table).to_contain_text("có phải là Xã Cẩm Tú (15148)")
    expect(table.locator("tr.row-error")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "preview.png"), full_page=True)

    page.get_by_role("button", name="Nhập 2 dòng hợp lệ").click()
    expect(page.locator("#import-done")).to_contain_text("2 điểm cầu")
    expect(page.locator("#rows-left")).to_contain_text("2 dòng chưa được nhập")
    left = page.locator("table.preview-table tbody tr")
    expect(left).to_have_count(2)
    expect(left.first).to_contain_text("Xa Cam Tuu")
    expect(left.nth(1)).to_contain_text("có phải là Xã Cẩm Tú (15148)")
    page.screenshot(path=str(screenshot_dir / "imported.png"), full_page=True)

    page.goto(f"{live_server.url}/meetings/{meeting_id}/points")
    expect(page.locator("main")).to_contain_text("Lê Văn An")
    expect(page.locator("main")).to_contain_text("Trịnh Văn Hải")
    assert not errors, errors
    context.close()
