"""The Atom feeds of the contract: they parse with feedparser, keep RFC 4287's rules, carry the
full content, ids that never change, and an `updated` that moves when an article is edited."""

from __future__ import annotations

import time

import feedparser
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.news.atom_rules import atom_problems
from tests.integration.news.conftest import CAM_TU, cam_tu_article, jpeg_bytes, write_and_publish

pytestmark = pytest.mark.integration

FEEDS = ("/news/feed.atom", f"/units/{CAM_TU}/news/feed.atom")


def parse(client: TestClient[Litestar], path: str) -> tuple[feedparser.FeedParserDict, bytes]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed, response.content


@pytest.mark.parametrize("path", FEEDS)
def test_an_empty_feed_is_valid(client: TestClient[Litestar], path: str) -> None:
    parsed, raw = parse(client, path)
    assert parsed.entries == []
    assert atom_problems(raw) == []


def test_the_feeds_carry_the_published_articles(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    client: TestClient[Litestar],
    demo_seed: DemoSeed,
) -> None:
    secretariat.post(
        f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes/photos",
        data={"caption": "Quang cảnh <hội nghị> & điểm cầu"},
        files={"data": ("p.jpg", jpeg_bytes(), "image/jpeg")},
    )
    result = write_and_publish(secretariat, demo_seed.past_meeting_id)
    draft = cam_tu_article(cam_tu_chair)
    cam_tu_chair.post(f"/api/v1/articles/{draft['id']}/publish")
    client.cookies.clear()

    province, raw = parse(client, "/news/feed.atom")
    assert atom_problems(raw) == []
    assert province.feed.title == "Tin tức – Tỉnh Thanh Hóa"
    assert province.feed.id.startswith("urn:uuid:")
    assert province.feed.links[0].href == "http://127.0.0.1:8000/news/feed.atom"
    (entry,) = province.entries
    article = result["province_article"]
    assert entry.title == article["title"]
    assert entry.link == f"http://127.0.0.1:8000{article['url']}"
    assert entry.summary == article["lead"]
    html = entry.content[0].value
    assert entry.content[0].type == "text/html"
    assert "Chiều 10/9" in html
    assert "<h3>Nội dung hội nghị</h3>" in html  # the full text, not a teaser
    assert "<figcaption>Quang cảnh &lt;hội nghị&gt; &amp; điểm cầu</figcaption>" in html
    assert "http://127.0.0.1:8000/news/photos/" in html

    unit, raw = parse(client, f"/units/{CAM_TU}/news/feed.atom")
    assert atom_problems(raw) == []
    (unit_entry,) = unit.entries
    assert "Phạm Thị Nhàn" in unit_entry.content[0].value
    assert unit_entry.id != entry.id
    assert unit_entry.link == f"http://127.0.0.1:8000/units/{CAM_TU}/news/{draft['slug']}"
    assert unit.feed.id != province.feed.id


def test_ids_stay_and_updated_moves_when_an_article_is_edited(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    client: TestClient[Litestar],
    demo_seed: DemoSeed,
) -> None:
    write_and_publish(secretariat, demo_seed.past_meeting_id)
    draft = cam_tu_article(cam_tu_chair)
    cam_tu_chair.post(f"/api/v1/articles/{draft['id']}/publish")
    path = f"/units/{CAM_TU}/news/feed.atom"
    before, _ = parse(client, path)
    first = client.get(path)
    etag = first.headers["etag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304

    time.sleep(1.1)  # Atom dates have whole seconds
    edited = cam_tu_chair.patch(
        f"/api/v1/articles/{draft['id']}", json={"title": "Xã Cẩm Tú dự hội nghị của Tỉnh ủy"}
    )
    assert edited.json()["revised_at"] is not None
    after, raw = parse(client, path)
    assert atom_problems(raw) == []
    assert after.feed.id == before.feed.id
    assert after.entries[0].id == before.entries[0].id
    assert after.entries[0].title == "Xã Cẩm Tú dự hội nghị của Tỉnh ủy"
    assert after.entries[0].updated_parsed > before.entries[0].updated_parsed
    assert after.entries[0].published == before.entries[0].published
    assert after.feed.updated_parsed > before.feed.updated_parsed
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_the_checker_catches_broken_feeds() -> None:
    broken = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>not an iri</id>'
        b"<updated>10/09/2025</updated><entry><title>a</title></entry></feed>"
    )
    problems = atom_problems(broken)
    assert any("absolute IRI" in p for p in problems)
    assert any("RFC 3339" in p for p in problems)
    assert any("entry 1: atom:id is required" in p for p in problems)
    assert any("rel=self" in p for p in problems)


def test_unknown_units_have_no_feed(client: TestClient[Litestar]) -> None:
    assert client.get("/units/99999999/news/feed.atom").status_code == 404
