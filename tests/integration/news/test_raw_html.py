"""Raw HTML typed (or pasted) into the minutes: the editor's page warns about it, naming the
tags, and no reader ever sees a literal `<tag>`: the public pages and feeds show its text only.
(The paste itself, from Word-style HTML, is driven in Chromium by tests/e2e/test_editor_browser.py.)
"""

from __future__ import annotations

import re

import feedparser
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.news.conftest import CAM_TU, HTML, cam_tu_article, write_and_publish

pytestmark = pytest.mark.integration

RAW = (
    "## Kết luận\n\n"
    'Đồng chí Bí thư <b>nhấn mạnh</b> <span style="mso-bidi-font-weight:bold">ba nội dung</span>.'
    "\n\n<table><tr><td>Xã Cẩm Tú</td><td>32</td></tr></table>\n\n"
    "Cuối <script>alert(1)</script> văn bản<o:p></o:p>\n"
)
# An escaped "<" followed by a tag's name (or a comment) is a literal tag a reader would see.
LITERAL_TAG = re.compile(r"&lt;/?(?:[a-z][a-z0-9:-]*|!--)", re.IGNORECASE)


def _article_body(page: str) -> str:
    found = re.search(r'<div class="article-body[^"]*">(.*?)</div>', page, re.DOTALL)
    assert found, "no article body on the page"
    return found.group(1)


def test_public_pages_show_raw_html_as_its_text_only(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    client: TestClient[Litestar],
    demo_seed: DemoSeed,
) -> None:
    province = write_and_publish(secretariat, demo_seed.past_meeting_id, RAW)["province_article"]
    draft = cam_tu_article(cam_tu_chair)
    cam_tu = cam_tu_chair.post(f"/api/v1/articles/{draft['id']}/publish").json()
    client.cookies.clear()
    for path in (province["url"], cam_tu["url"]):
        page = client.get(path, headers=HTML)
        assert page.status_code == 200, path
        body = _article_body(page.text)
        assert "nhấn mạnh" in body and "ba nội dung" in body and "Xã Cẩm Tú" in body, path
        assert "alert(1)" not in page.text, path
        assert not LITERAL_TAG.findall(page.text), (path, LITERAL_TAG.findall(page.text))
    for feed in ("/news/feed.atom", f"/units/{CAM_TU}/news/feed.atom"):
        for entry in feedparser.parse(client.get(feed).content).entries:
            content = entry.content[0].value
            assert not LITERAL_TAG.findall(content), feed
            assert "<span" not in content and "<script" not in content, feed


def test_the_editor_page_names_the_raw_html_before_publishing(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    page = secretariat.get(f"/meetings/{meeting}/minutes", headers=HTML).text
    warning = re.search(r'<p class="alert alert-warn raw-html-warning"[^>]*>', page)
    assert warning and " hidden" in warning.group(0)  # nothing to say yet
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": RAW})
    page = secretariat.get(f"/meetings/{meeting}/minutes", headers=HTML).text
    shown = re.search(r'<p class="alert alert-warn raw-html-warning"([^>]*)>(.*?)</p>', page, re.S)
    assert shown and " hidden" not in shown.group(1)
    assert "&lt;b&gt;, &lt;o:p&gt;, &lt;script&gt;, &lt;span&gt;, &lt;table&gt;" in shown.group(2)
    assert "chỉ hiển thị phần chữ" in shown.group(2)  # Vietnamese, from the catalog
    preview = secretariat.post("/api/v1/news/preview", json={"markdown": RAW}).json()
    assert preview["raw_html"] == ["b", "o:p", "script", "span", "table", "td", "tr"]
