"""Fit and finish for a Thanh Hóa secretariat clerk on a desktop (issue 18), in Debian's Chromium:
each test does what the clerk did and checks what the clerk should have seen. Screenshots go to
`test-artifacts/`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from confhub.app import create_app
from confhub.demo import DemoSeed
from tests.conftest import free_port, make_settings
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
    page.fill(f"#{field}", f"{moment:%d/%m/%Y %H:%M}")  # as the form shows it


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


@pytest.fixture
def small_upload_server(demo_db: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The demo with a 1 MB upload limit, so over-limit files stay small."""
    port = free_port()
    settings = make_settings(
        demo_db, tmp_path, base_url=f"http://127.0.0.1:{port}", max_upload_mb=1
    )
    with LiveServer(create_app(settings), port) as server:
        yield server


def _file(folder: Path, name: str, size: int, head: bytes = b"") -> Path:
    path = folder / name
    path.write_bytes(head + b"0" * (size - len(head)))
    return path


def test_uploads_state_their_limit_and_refuse_in_vietnamese_keeping_the_caption(
    browser: Any,
    small_upload_server: LiveServer,
    demo_seed: DemoSeed,
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    server, meeting_id = small_upload_server, demo_seed.upcoming_meeting_id
    big_pdf = _file(tmp_path, "bao-cao.pdf", 3 * 1024 * 1024, b"%PDF-1.4\n")
    page = _desktop(browser)
    _sign_in(page, server, demo_seed)

    # The document field says its limit; a larger file is named before anything is sent.
    page.goto(f"{server.url}/meetings/{meeting_id}")
    expect(page.locator("#document-file-limit")).to_contain_text("tối đa 1 MB")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.set_input_files("#document-file", str(big_pdf))
    problem = page.locator("#document-file-problem")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("3 MB")
    expect(problem).to_contain_text("giới hạn là 1 MB")
    page.locator("form.upload-form button[type=submit]").click()
    expect(page.locator("#document-file")).to_be_focused()
    assert not sent
    page.screenshot(path=str(screenshot_dir / "1-document-refused-in-browser.png"))

    # Without JavaScript the server answers with the form again, in Vietnamese, caption kept.
    plain = browser.new_context(viewport=DESKTOP, locale="vi-VN", java_script_enabled=False)
    plain_page = plain.new_page()
    _sign_in(plain_page, server, demo_seed)
    plain_page.goto(f"{server.url}/meetings/{meeting_id}/minutes")
    expect(plain_page.locator("#photo-file-limit")).to_contain_text("tối đa 1 MB")
    plain_page.set_input_files("#photo-file", str(_file(tmp_path, "anh.jpg", 3 * 1024 * 1024)))
    plain_page.fill("#photo-caption", "Quang cảnh hội nghị tại điểm cầu Cẩm Tú")
    plain_page.locator("form:has(#photo-file) button[type=submit]").click()
    expect(plain_page.locator("h1")).to_have_text("Biên bản hội nghị")
    expect(plain_page.locator("#photo-caption")).to_have_value(
        "Quang cảnh hội nghị tại điểm cầu Cẩm Tú"
    )
    expect(plain_page.locator("form:has(#photo-file) .field-error")).to_contain_text(
        "Tệp lớn hơn giới hạn 1 MB"
    )
    plain_page.locator("form:has(#photo-file)").screenshot(
        path=str(screenshot_dir / "2-photo-refused-by-server.png")
    )
    plain.close()

    # A text file renamed .xlsx is refused as not a spreadsheet.
    page.goto(f"{server.url}/meetings/{meeting_id}/points")
    expect(page.locator("#chair-file-limit")).to_contain_text("tối đa 4 MB")
    fake = tmp_path / "chu-tri.xlsx"
    fake.write_text("Mã đơn vị,Họ và tên\n15148,Phạm Thị Nhàn\n", encoding="utf-8")
    page.set_input_files("#chair-file", str(fake))
    page.locator("form:has(#chair-file) button[type=submit]").click()
    expect(page.locator("#chair_file-error")).to_contain_text("không phải bảng tính")
    page.screenshot(path=str(screenshot_dir / "3-renamed-text-refused.png"))
    assert not page.errors, page.errors


def test_the_change_log_says_who_which_point_and_what_grouped_and_paged(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    page = _desktop(browser)
    _sign_in(page, live_server, demo_seed)
    meeting_id = demo_seed.past_meeting_id
    page.goto(f"{live_server.url}/meetings/{meeting_id}")
    log = page.locator("ol.audit")
    expect(log).to_be_visible()
    assert "roll_call" not in log.inner_text() and "rehearsal" not in log.inner_text()
    height = page.evaluate("document.documentElement.scrollHeight")
    page.screenshot(path=str(screenshot_dir / "1-meeting-page.png"), full_page=True)
    assert height < 5000, height
    assert log.locator(":scope > li").count() <= 5

    page.locator("#history-link").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/history"))
    expect(page.locator("h1")).to_have_text("Nhật ký thay đổi")
    group = page.locator("details.audit-group").filter(has_text="ghi nhận điểm danh của")
    expect(group.first).to_be_visible()
    group.first.locator("summary").click()
    expect(group.first.locator(".audit-items")).to_contain_text("đại biểu")
    expect(group.first.locator(".audit-items")).to_contain_text("xã Cẩm Tú có mặt")
    page.screenshot(path=str(screenshot_dir / "2-history.png"))
    assert not page.errors, page.errors


def test_an_ended_meetings_board_shows_its_final_result(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    page = _desktop(browser)
    _sign_in(page, live_server, demo_seed)
    page.goto(f"{live_server.url}/m/{demo_seed.past_meeting_id}/live")
    result = page.locator("#final-result")
    expect(result).to_be_visible()
    expect(result).to_contain_text("Kết quả điểm danh cuối cùng")
    expect(result).to_contain_text("/166 điểm cầu có mặt")
    main = page.locator("main")
    expect(main).not_to_contain_text("Bắt đầu chạy thử")
    expect(main).not_to_contain_text("Chưa sẵn sàng")
    expect(page.locator(".tile .tile-signal").first).to_be_hidden()
    page.screenshot(path=str(screenshot_dir / "ended-board.png"))
    assert not page.errors, page.errors


def test_secretariat_pages_on_a_phone_show_cards_and_a_folded_menu(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    _sign_in(page, live_server, demo_seed)
    page.goto(f"{live_server.url}/meetings/{demo_seed.upcoming_meeting_id}/points")
    page.screenshot(path=str(screenshot_dir / "0-points.png"))
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 392"
        " && ![...(function*(n){while((n=n.parentElement))yield n})(e)].some("
        "a => getComputedStyle(a).overflowX !== 'visible'))"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    first = page.locator("table.points-table tbody tr").first
    assert first.evaluate("row => getComputedStyle(row).display") == "block"
    box = first.bounding_box()
    assert box is not None and box["width"] <= 390
    expect(first.locator("td[data-label='Điểm cầu']")).to_be_visible()
    new_meeting = page.get_by_role("link", name="Tạo hội nghị")
    expect(new_meeting).to_be_hidden()
    first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "1-points-cards.png"))
    page.get_by_role("button", name="Danh mục").click()
    expect(new_meeting).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "2-menu-open.png"))
    context.close()


def test_inviting_all_shows_that_it_works_and_refuses_a_second_click(
    browser: Any, live_server: LiveServer, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    page = _desktop(browser)
    _sign_in(page, live_server, demo_seed)
    day = datetime.now(VIETNAM) + timedelta(days=3)
    meeting_id = _create_with_agenda(page, live_server, day)
    page.goto(f"{live_server.url}/meetings/{meeting_id}/points")
    # Stands for a slow provincial connection: the page stays while "sending", and counts the
    # submissions that would have left (the last listener to see each one).
    page.evaluate(
        "window.sent = 0; window.addEventListener('submit', e => {"
        " if (!e.defaultPrevented) window.sent += 1; e.preventDefault(); })"
    )
    button = page.locator("form:has(input[name=how][value=all]) button[type=submit]")
    button.click()
    expect(button).to_have_attribute("aria-busy", "true")
    expect(button).to_contain_text("Đang xử lý")
    expect(page.locator("progress.busy-progress")).to_be_visible()  # after a second
    button.click(force=True)
    page.screenshot(path=str(screenshot_dir / "inviting.png"))
    assert page.evaluate("window.sent") == 1
    assert not page.errors, page.errors
