"""Minutes to news in a real browser (Debian's Chromium): the secretariat writes the minutes with
a photo and publishes them; Cẩm Tú's chair opens its draft, edits and publishes it; it is then on
/units/15148/news and in its Atom feed. And the XSS corpus, placed everywhere a user can type,
runs nothing in Chromium (no dialog, no script). Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
from PIL import Image

from confhub.demo import DemoSeed
from tests.e2e.conftest import LiveServer
from tests.integration.news.xss import XSS_LINE, XSS_TEXT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CAM_TU = 15148
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MINUTES = (
    "## Nội dung hội nghị\n\n"
    "Hội nghị đã nghe **báo cáo** đánh giá hoạt động của chính quyền địa phương 2 cấp và công "
    "tác khắc phục hậu quả do bão số 5 gây ra.\n\n"
    "- Các xã, phường báo cáo tình hình tại địa phương.\n"
    "- Đồng chí Bí thư Tỉnh ủy kết luận hội nghị.\n"
)


def photo_file(folder: Path) -> Path:
    """A photo of the meeting room (a generated picture) to upload."""
    image = Image.new("RGB", (1600, 1067), (176, 30, 36))
    for x in range(0, 1600, 40):
        for y in range(700, 1067, 2):
            image.putpixel((x, y), (250, 210, 60))
    path = folder / "hoi-nghi.jpg"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def sign_in(page: Any, server: LiveServer, email: str, password: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def api_client(server: LiveServer, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return client


def test_minutes_to_a_communes_published_article(
    live_server: LiveServer,
    browser: Any,
    demo_seed: DemoSeed,
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    meeting = demo_seed.past_meeting_id
    dialogs: list[str] = []
    organizer = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = organizer.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    sign_in(page, live_server, demo_seed.organizer_email, demo_seed.organizer_password)

    page.goto(f"{live_server.url}/meetings/{meeting}/minutes")
    page.fill("#markdown", MINUTES)
    # The live preview (an ES module calling the preview endpoint) renders the heading.
    page.wait_for_selector("#minutes-preview h3:text('Nội dung hội nghị')")
    page.click("text=Lưu phiên bản mới")
    page.wait_for_selector("text=Đã lưu biên bản thành một phiên bản mới.")
    page.set_input_files("#photo-file", str(photo_file(tmp_path)))
    page.fill("#photo-caption", "Quang cảnh điểm cầu xã Cẩm Tú")
    page.click("text=Thêm ảnh")
    page.wait_for_selector("text=Đã thêm ảnh.")
    page.screenshot(path=str(screenshot_dir / "minutes-desktop.png"), full_page=True)
    page.click("text=Đăng thành tin bài")
    page.wait_for_selector("text=đã viết 160 bản nháp")
    organizer.close()

    chair = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = chair.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    sign_in(page, live_server, demo_seed.chair_email, demo_seed.chair_password)
    page.goto(f"{live_server.url}/units/{CAM_TU}/news")
    page.click(".drafts-box a")
    page.wait_for_selector("h1:text('Biên tập tin bài')")
    body = page.input_value("#body")
    assert body.startswith("Chủ trì tại điểm cầu xã Cẩm Tú có đồng chí Phạm Thị Nhàn")
    page.fill("#title", "Xã Cẩm Tú dự hội nghị trực tuyến đánh giá chính quyền địa phương 2 cấp")
    page.fill("#body", body + "\n\nTại điểm cầu xã, các đại biểu đã thảo luận sôi nổi.")
    page.wait_for_selector("#article-preview p:text('thảo luận sôi nổi')")
    page.click("button[value=publish]")
    page.wait_for_selector("text=Tin bài đã được đăng.")
    chair.close()

    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        visitor = browser.new_context(viewport=viewport, locale="vi-VN")
        page = visitor.new_page()
        page.goto(f"{live_server.url}/units/{CAM_TU}/news")
        link = page.locator(".news-list h2 a").first
        assert link.inner_text().startswith("Xã Cẩm Tú dự hội nghị trực tuyến")
        page.screenshot(path=str(screenshot_dir / f"unit-news-{name}.png"), full_page=True)
        link.click()
        page.wait_for_selector("h1")
        assert "Phạm Thị Nhàn" in page.inner_text(".article-body")
        assert page.locator("figcaption").inner_text() == "Quang cảnh điểm cầu xã Cẩm Tú"
        # The photo may load lazily: bring it into view and wait for it, then check it decoded.
        page.locator("figure img").scroll_into_view_if_needed()
        page.wait_for_function(
            "() => document.querySelector('figure img')?.complete === true", timeout=10_000
        )
        assert page.locator("figure img").evaluate("img => img.naturalWidth") > 0
        page.screenshot(path=str(screenshot_dir / f"article-{name}.png"), full_page=True)
        visitor.close()
    assert dialogs == []

    feed = feedparser.parse(httpx.get(f"{live_server.url}/units/{CAM_TU}/news/feed.atom").content)
    assert not feed.bozo
    assert [e.title for e in feed.entries] == [
        "Xã Cẩm Tú dự hội nghị trực tuyến đánh giá chính quyền địa phương 2 cấp"
    ]
    assert "thảo luận sôi nổi" in feed.entries[0].content[0].value


def test_the_xss_corpus_runs_nothing_in_chromium(
    live_server: LiveServer, browser: Any, demo_seed: DemoSeed, tmp_path: Path
) -> None:
    meeting = demo_seed.past_meeting_id
    secretariat = api_client(live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": XSS_TEXT})
    with photo_file(tmp_path).open("rb") as photo:
        added = secretariat.post(
            f"/api/v1/meetings/{meeting}/minutes/photos",
            data={"caption": XSS_LINE},
            files={"data": ("p.jpg", photo, "image/jpeg")},
        )
    assert added.status_code == 201
    province = secretariat.post(f"/api/v1/meetings/{meeting}/minutes/publish").json()
    chair = api_client(live_server, demo_seed.chair_email, demo_seed.chair_password)
    draft = chair.get("/api/v1/articles", params={"unit": CAM_TU}).json()["items"][0]
    chair.patch(
        f"/api/v1/articles/{draft['id']}",
        json={"title": XSS_LINE, "lead": XSS_LINE, "body": XSS_TEXT},
    )
    article = chair.post(f"/api/v1/articles/{draft['id']}/publish").json()

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Any script that did run would set this flag or open a dialog.
    page.add_init_script("window.__xss = 0; window.alert = () => { window.__xss += 1; };")
    sign_in(page, live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    paths = [
        f"/meetings/{meeting}/minutes",
        f"/articles/{draft['id']}/edit",
        f"/units/{CAM_TU}/news",
        article["url"],
        "/news",
        province["province_article"]["url"],
    ]
    for path in paths:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") == 0, path
        handlers = page.evaluate(
            """() => [...document.querySelectorAll('*')].flatMap(el =>
                [...el.attributes].filter(a => a.name.startsWith('on')).map(a => a.name))"""
        )
        assert handlers == [], path
        scripts = page.evaluate("() => [...document.scripts].map(s => s.src)")
        assert all(src.startswith(f"{live_server.url}/static/js/") for src in scripts), path
    # The live preview renders the corpus too: typing it triggers the module's fetch.
    page.goto(f"{live_server.url}/meetings/{meeting}/minutes")
    page.fill("#markdown", XSS_TEXT + "\n\n**xem trước**")
    page.wait_for_selector("#minutes-preview strong:text('xem trước')")
    assert page.evaluate("window.__xss") == 0
    assert (
        page.locator("#minutes-preview script, #minutes-preview svg, #minutes-preview img").count()
        == 0
    )
    assert dialogs == []
    assert errors == []
    context.close()
