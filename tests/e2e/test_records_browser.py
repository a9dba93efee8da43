"""Honest records in a real browser (Debian's Chromium, issue #17): a chair on a 390 px phone
corrects who presides at check-in, and the commune's draft names that person; the secretariat's
review queue (desktop) groups the drafts by the roll call, its confirmation says exactly what goes
out, and that is what is then published. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from confhub.demo import DemoSeed
from tests.e2e.conftest import LiveServer
from tests.e2e.test_news_browser import DESKTOP, PHONE, api_client, sign_in
from tests.integration.news.conftest import CAM_TU, MINUTES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_the_chair_corrects_who_presides_and_the_article_names_them(
    live_server: LiveServer, browser: Any, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    meeting = demo_seed.upcoming_meeting_id
    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(f"{live_server.url}/checkin/{demo_seed.cam_tu_token}")
    phone.wait_for_selector("#connection[data-state=live]", timeout=15_000)
    # Prefilled with the invited chair, to confirm or correct.
    assert phone.input_value("#presiding-name") == "Phạm Thị Nhàn"
    phone.check("#status-present")
    phone.fill("#delegates", "38")
    assert phone.locator("#presiding-field").is_visible()
    phone.fill("#presiding-name", "Lê Đình Hùng")
    phone.fill("#presiding-position", "Phó Bí thư Đảng ủy xã")
    phone.screenshot(path=str(screenshot_dir / "checkin-presiding-phone.png"), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    phone.click("#checkin-form button[type=submit]")
    phone.wait_for_selector(".save-state-stored", timeout=15_000)
    phone.screenshot(path=str(screenshot_dir / "checkin-presiding-stored.png"), full_page=True)
    phone.check("#status-absent")  # nobody presides at an absent point: the fields step aside
    assert not phone.locator("#presiding-field").is_visible()
    context.close()

    api = api_client(live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    for status in ("live", "ended"):
        assert api.post(f"/api/v1/meetings/{meeting}/status", json={"status": status}).is_success
    assert api.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": MINUTES}).is_success
    assert api.post(f"/api/v1/meetings/{meeting}/minutes/publish").is_success
    found = api.get("/api/v1/articles", params={"unit": CAM_TU, "meeting": meeting}).json()
    (article,) = found["items"]
    assert article["body"].startswith(
        "Chủ trì tại điểm cầu xã Cẩm Tú có đồng chí Lê Đình Hùng – Phó Bí thư Đảng ủy xã; "
        "cùng dự có 38 đại biểu tại điểm cầu."
    )


def test_the_review_queue_publishes_what_its_confirmation_says(
    live_server: LiveServer, browser: Any, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    meeting = demo_seed.past_meeting_id
    api = api_client(live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    assert api.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": MINUTES}).is_success
    assert api.post(f"/api/v1/meetings/{meeting}/minutes/publish").is_success

    dialogs: list[str] = []
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    sign_in(page, live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    page.goto(f"{live_server.url}/meetings/{meeting}/articles")
    for heading in ("Có mặt – 156", "Chưa điểm danh – 4", "Vắng – 6"):
        assert page.locator(f"h2:text('{heading}')").count() == 1
    page.screenshot(path=str(screenshot_dir / "review-queue-desktop.png"))
    page.screenshot(path=str(screenshot_dir / "review-queue-desktop-full.png"), full_page=True)
    page.click(".bulk-publish button")
    page.wait_for_selector("text=Đã đăng 156 bản nháp")
    assert dialogs == [
        "Đăng 156 bài lên 156 trang xã; 4 bài chờ xác nhận; 6 điểm vắng không có bài."
    ]
    promised = int(re.match(r"Đăng (\d+) bài", dialogs[0]).group(1))  # type: ignore[union-attr]
    page.screenshot(path=str(screenshot_dir / "review-queue-after.png"))
    context.close()

    public = httpx.get(
        f"{live_server.url}/api/v1/articles", params={"meeting": meeting, "limit": 500}
    ).json()["items"]
    assert len([a for a in public if a["unit_code"]]) == promised


def test_a_draft_without_roll_call_says_why_it_waits_then_goes_out(
    live_server: LiveServer, browser: Any, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    meeting = demo_seed.past_meeting_id
    api = api_client(live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    assert api.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": MINUTES}).is_success
    assert api.post(f"/api/v1/meetings/{meeting}/minutes/publish").is_success

    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    sign_in(page, live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    page.goto(f"{live_server.url}/meetings/{meeting}/articles")
    page.click("#group-pending tbody tr:first-child a:text('Sửa')")
    page.wait_for_selector("#confirmation-needed")
    page.click("button[value=publish]")
    alert = page.wait_for_selector(".alert-error")
    assert "Bản nháp này đang chờ xác nhận: điểm cầu chưa điểm danh" in alert.inner_text()
    page.screenshot(path=str(screenshot_dir / "draft-waits-desktop.png"), full_page=True)
    page.fill("#presiding_name", "Lê Văn Bình")
    page.fill("#presiding_position", "Chủ tịch UBND xã")
    page.fill("#delegates_present", "21")
    page.click("button[value=publish]")
    page.wait_for_selector("text=Tin bài đã được đăng.")
    page.click("text=Xem tin bài đã đăng")
    page.wait_for_selector("h1")
    assert "đồng chí Lê Văn Bình – Chủ tịch UBND xã" in page.inner_text(".article-body")
    page.screenshot(path=str(screenshot_dir / "draft-confirmed-article.png"), full_page=True)
    context.close()
