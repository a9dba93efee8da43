"""An XSS corpus in the minutes, photo captions, titles and leads stays inert everywhere it is
shown: the preview, the editors' pages, the public pages and the Atom feeds. (The same corpus is
opened in Chromium by tests/e2e/test_news_browser.py.)"""

from __future__ import annotations

import feedparser
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.news.conftest import CAM_TU, HTML, cam_tu_article, jpeg_bytes
from tests.integration.news.xss import XSS_LINE, XSS_TEXT, page_problems

pytestmark = pytest.mark.integration


def test_the_corpus_is_inert_on_every_page(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    client: TestClient[Litestar],
    demo_seed: DemoSeed,
) -> None:
    meeting = demo_seed.past_meeting_id
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": XSS_TEXT})
    photo = secretariat.post(
        f"/api/v1/meetings/{meeting}/minutes/photos",
        data={"caption": XSS_LINE},
        files={"data": ("p.jpg", jpeg_bytes(), "image/jpeg")},
    )
    assert photo.status_code == 201
    publication = secretariat.post(f"/api/v1/meetings/{meeting}/minutes/publish")
    assert publication.status_code == 200
    province_url = publication.json()["province_article"]["url"]
    draft = cam_tu_article(cam_tu_chair)
    edited = cam_tu_chair.patch(
        f"/api/v1/articles/{draft['id']}",
        json={"title": XSS_LINE, "lead": XSS_LINE, "body": XSS_TEXT},
    )
    assert edited.status_code == 200
    article = cam_tu_chair.post(f"/api/v1/articles/{draft['id']}/publish").json()
    assert article["slug"] == draft["slug"]

    signed_in = {
        f"/meetings/{meeting}/minutes": secretariat,
        f"/meetings/{meeting}/articles": secretariat,
        f"/articles/{draft['id']}/edit": cam_tu_chair,
        f"/units/{CAM_TU}/news": cam_tu_chair,
    }
    for path, who in signed_in.items():
        page = who.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert page_problems(page.text) == [], path
        if not path.endswith("/articles"):  # that table shows no user text
            assert "&lt;script&gt;" in page.text or "&lt;img" in page.text, path
    client.cookies.clear()
    for path in (f"/units/{CAM_TU}/news", article["url"], "/news", province_url):
        page = client.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert page_problems(page.text) == [], path

    for feed in ("/news/feed.atom", f"/units/{CAM_TU}/news/feed.atom"):
        parsed = feedparser.parse(client.get(feed).content)
        assert not parsed.bozo
        for entry in parsed.entries:
            assert page_problems(entry.content[0].value) == [], feed
            # Titles are Atom text constructs: readers show them as text, never as markup.
            assert entry.title_detail.type == "text/plain"


def test_the_preview_keeps_the_corpus_inert(secretariat: TestClient[Litestar]) -> None:
    html = secretariat.post("/api/v1/news/preview", json={"markdown": XSS_TEXT}).json()["html"]
    assert page_problems(html) == []
    assert "<script" not in html
