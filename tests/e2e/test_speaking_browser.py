"""Speaking requests in the browsers that use them: a chair on a 390 px phone asks to speak
while offline (kept on the phone, sent when the network returns), the secretariat's board on a
desktop orders the queue from the keyboard and by dragging, gives the floor with a countdown,
and the phone follows its place ("còn 1 lượt…", next, on air). Screenshots kept for a look."""

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
SECRETARIAT = {"width": 1280, "height": 900}
__all__ = ["api", "no_script_errors"]  # fixtures: the secretariat's client; no page may throw


def speaking_list(api: httpx.Client, meeting_id: int) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/meetings/{meeting_id}/speaking")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_phone_asks_to_speak_and_the_board_orders_and_gives_the_floor(
    browser: Any,
    live_server: LiveServer,
    demo_seed: DemoSeed,
    api: httpx.Client,
    screenshot_dir: Path,
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    own = cam_tu_point_id(api, meeting_id)
    points = api.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500}).json()
    others = [p for p in points["items"] if p["point_id"] != own][:2]
    board = open_board(browser, live_server, demo_seed, meeting_id, viewport=SECRETARIAT)
    phone = open_phone(browser, live_server, demo_seed.cam_tu_token)
    expect = _expect()

    # Offline: the request waits on the phone, and nothing reaches the server.
    phone.context.set_offline(True)
    expect(phone.locator("#connection")).to_have_attribute("data-state", "offline", timeout=5000)
    phone.fill("#speaking-topic", "Khắc phục sạt lở đường tỉnh 530")
    phone.fill("#speaking-minutes", "3")
    phone.click("#speaking-form button[type=submit]")
    expect(phone.locator("#speaking-mine li[data-state=pending]")).to_contain_text(
        "Đang giữ trên điện thoại"
    )
    time.sleep(1)
    assert speaking_list(api, meeting_id) == []
    phone.locator("#speaking").scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshot_dir / "speaking-phone-offline.png"), full_page=True)
    phone.context.set_offline(False)
    expect(phone.locator("#speaking-mine li[data-state=requested]")).to_contain_text(
        "Chờ duyệt", timeout=10_000
    )
    queue = board.locator("#speaking-queue > li")
    expect(queue).to_have_count(1, timeout=5000)
    expect(queue.first).to_contain_text(CAM_TU_POINT)

    # Two more points ask (by the API, as their own phones would); Cẩm Tú is first of three.
    for n, other in enumerate(others):
        token = other["checkin_url"].rsplit("/", 1)[-1]
        asked = httpx.post(
            f"{live_server.url}/api/v1/meetings/{meeting_id}/speaking",
            json={"request_id": f"other-{n}", "topic": f"Ý kiến {n + 1}", "minutes": 2},
            headers={"X-Checkin-Token": token},
        )
        assert asked.status_code == 201, asked.text
    expect(queue).to_have_count(3, timeout=5000)

    # From the keyboard: the last request moves up twice and is first; Cẩm Tú is second.
    last = queue.nth(2)
    last.focus()
    board.keyboard.press("Alt+ArrowUp")
    expect(queue.nth(1)).to_contain_text("Ý kiến 2")
    expect(board.locator("#speaking-message")).to_contain_text("nay ở vị trí số 2")
    board.keyboard.press("Alt+ArrowUp")  # the focus stayed on the moved request
    expect(queue.first).to_contain_text("Ý kiến 2")
    expect(queue.nth(1)).to_contain_text(CAM_TU_POINT)
    expect(phone.locator("#speaking-place")).to_contain_text("Còn 1 lượt trước điểm cầu của bạn")

    # Dragging: Cẩm Tú's request onto the first place.
    queue.nth(1).drag_to(queue.first)
    expect(queue.first).to_contain_text(CAM_TU_POINT)
    expect(phone.locator("#speaking-place")).to_contain_text("phát biểu tiếp theo")
    board.screenshot(path=str(screenshot_dir / "speaking-board-queue.png"), full_page=True)
    phone.screenshot(path=str(screenshot_dir / "speaking-phone-next.png"), full_page=True)

    # The secretariat accepts and gives the floor: a countdown on both screens.
    queue.first.get_by_role("button", name="Chấp nhận").click()
    expect(queue.first).to_contain_text("Đã chấp nhận")
    queue.first.get_by_role("button", name="Mời phát biểu").click()
    expect(board.locator("#speaking-current")).to_contain_text(CAM_TU_POINT)
    expect(board.locator("#speaking-current .speaking-clock")).to_contain_text("Còn lại")
    expect(phone.locator("#speaking-place")).to_contain_text("Đến lượt điểm cầu của bạn phát biểu")
    expect(phone.locator("#speaking-place .speaking-clock")).to_contain_text("Còn lại 2:")
    phone.screenshot(path=str(screenshot_dir / "speaking-phone-on-air.png"), full_page=True)
    board.screenshot(path=str(screenshot_dir / "speaking-board-on-air.png"), full_page=True)

    # A refusal with its reason, read on the board's dialog; then the turn ends.
    queue.nth(1).get_by_role("button", name="Từ chối").click()
    board.fill("#refuse-reason", "Trùng nội dung")
    board.click("#refuse-form button[type=submit]")
    expect(queue).to_have_count(1)
    board.locator("#speaking-current").get_by_role("button", name="Kết thúc lượt").click()
    expect(board.locator("#speaking-current")).to_contain_text("Chưa có ai đang phát biểu")
    expect(phone.locator("#speaking-mine")).to_contain_text("Đã phát biểu")
    states = {i["request_id"]: i["state"] for i in speaking_list(api, meeting_id)}
    assert sorted(states.values()) == ["done", "refused", "requested"]


def test_a_phone_sends_a_document_with_its_request_and_the_board_offers_it(
    browser: Any,
    live_server: LiveServer,
    demo_seed: DemoSeed,
    api: httpx.Client,
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    board = open_board(browser, live_server, demo_seed, meeting_id, viewport=SECRETARIAT)
    phone = open_phone(browser, live_server, demo_seed.cam_tu_token)
    expect = _expect()
    paper = tmp_path / "Tham luận đê điều.pdf"
    paper.write_bytes(b"%PDF-1.4\n" + b"0" * 30_000)

    phone.fill("#speaking-topic", "Tu bổ đê sông Mã")
    phone.fill("#speaking-minutes", "4")
    phone.set_input_files("#speaking-document", str(paper))
    phone.click("#speaking-form button[type=submit]")
    mine = phone.locator("#speaking-mine li[data-state=requested]")
    expect(mine).to_contain_text("tài liệu: Tham luận đê điều.pdf", timeout=10_000)
    phone.locator("#speaking").scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshot_dir / "speaking-phone-document.png"))

    link = board.locator("#speaking-queue > li a.speaking-document")
    expect(link).to_contain_text("Tham luận: Tham luận đê điều.pdf (29 KB)", timeout=5000)
    board.locator("#speaking").scroll_into_view_if_needed()
    board.screenshot(path=str(screenshot_dir / "speaking-board-document.png"))
    with board.expect_download() as download:
        link.click()
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == paper.read_bytes()
    assert download.value.suggested_filename == "Tham luận đê điều.pdf"

    # A file too large for the limit is refused on the phone, before anything is sent.
    phone.evaluate("document.getElementById('speaking-document').dataset.maxBytes = '10000'")
    phone.fill("#speaking-topic", "Ý kiến khác")
    phone.set_input_files("#speaking-document", str(paper))
    phone.click("#speaking-form button[type=submit]")
    expect(phone.locator("#speaking-document")).to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#speaking")).to_contain_text("MB")
    phone.screenshot(path=str(screenshot_dir / "speaking-phone-document-too-large.png"))
    assert len(speaking_list(api, meeting_id)) == 1
