"""The public news pages, without sign-in: lists with lead and photo, the article page (Open
Graph, description, figures, related and featured articles, print), the portal footer and the
visitor counter."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.news.conftest import (
    CAM_TU,
    HTML,
    cam_tu_article,
    jpeg_bytes,
    write_and_publish,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def published(
    secretariat: TestClient[Litestar], cam_tu_chair: TestClient[Litestar], demo_seed: DemoSeed
) -> dict:
    """The 10 Sept minutes published, with a photo; Cẩm Tú's article published too."""
    secretariat.post(
        f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes/photos",
        data={"caption": "Đồng chí Phạm Thị Nhàn phát biểu tại điểm cầu"},
        files={"data": ("p.jpg", jpeg_bytes(), "image/jpeg")},
    )
    result = write_and_publish(secretariat, demo_seed.past_meeting_id)
    draft = cam_tu_article(cam_tu_chair)
    article: dict = cam_tu_chair.post(f"/api/v1/articles/{draft['id']}/publish").json()
    secretariat.cookies.clear()
    return {"province": result["province_article"], "cam_tu": article}


def test_the_unit_news_page_is_a_portal(published: dict, client: TestClient[Litestar]) -> None:
    page = client.get(f"/units/{CAM_TU}/news", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "Cổng thông tin điện tử" in text
    assert "Xã Cẩm Tú" in text
    assert "Tỉnh Thanh Hóa" in text
    assert published["cam_tu"]["lead"] in text
    assert f'href="{published["cam_tu"]["url"]}"' in text
    assert "-thumb.jpg" in text
    assert "Tin nổi bật" in text
    assert "Thống kê truy cập" in text
    assert "Đảng ủy – HĐND – UBND xã Cẩm Tú" in text  # the governing body, in the footer
    assert "Hội trường UBND xã Cẩm Tú, tỉnh Thanh Hóa" in text
    assert f'href="/units/{CAM_TU}/news/feed.atom"' in text
    assert '<link rel="stylesheet" href="/static/css/news.css">' in text
    assert "<script>" not in text and " style=" not in text and " onclick" not in text


def test_the_article_page(published: dict, client: TestClient[Litestar]) -> None:
    article = published["cam_tu"]
    page = client.get(article["url"], headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert f"<h1>{article['title']}</h1>" in text
    assert '<p class="news-lead article-lead">Chiều 10/9, Thường trực Tỉnh ủy' in text
    assert "Chủ trì tại điểm cầu xã Cẩm Tú có đồng chí Phạm Thị Nhàn" in text
    assert "<figcaption>Đồng chí Phạm Thị Nhàn phát biểu tại điểm cầu</figcaption>" in text
    assert '<meta property="og:type" content="article">' in text
    assert f'<meta property="og:title" content="{article["title"]}">' in text
    assert re.search(
        r'<meta property="og:image" content="http://127\.0\.0\.1:8000/news/photos/[0-9a-f]{32}\.jpg">',
        text,
    )
    assert f'<meta name="description" content="{article["lead"]}">' in text
    canonical = f"http://127.0.0.1:8000{article['url']}"
    assert f'<link rel="canonical" href="{canonical}">' in text
    assert "data-print" in text  # the printable view (print stylesheet in news.css)
    # Related: the province's article on the same meeting.
    assert f'href="{published["province"]["url"]}"' in text
    assert "– Tỉnh Thanh Hóa" in text
    assert "Sửa tin bài này" not in text  # anonymous


def test_the_province_pages(published: dict, client: TestClient[Litestar]) -> None:
    listing = client.get("/news", headers=HTML)
    assert listing.status_code == 200
    assert published["province"]["title"] in listing.text
    assert "Ủy ban nhân dân tỉnh Thanh Hóa" in listing.text
    page = client.get(published["province"]["url"], headers=HTML)
    assert page.status_code == 200
    assert "156/166 điểm cầu tham dự" in page.text
    assert client.get("/news/khong-co-bai-nay", headers=HTML).status_code == 404
    assert client.get("/news?province=1", headers=HTML).status_code == 200  # Hà Nội: empty
    assert client.get(published["province"]["url"] + "?province=1", headers=HTML).status_code == 404


def test_drafts_are_not_public(
    secretariat: TestClient[Litestar], client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    write_and_publish(secretariat, demo_seed.past_meeting_id)
    draft = cam_tu_article(secretariat)
    secretariat.cookies.clear()
    assert client.get(f"/units/{CAM_TU}/news/{draft['slug']}", headers=HTML).status_code == 404
    page = client.get(f"/units/{CAM_TU}/news", headers=HTML)
    assert "Chưa có tin bài nào được đăng." in page.text
    assert "Bản nháp chờ duyệt" not in page.text


def test_the_units_editor_sees_its_drafts_on_its_page(
    secretariat: TestClient[Litestar], cam_tu_chair: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    write_and_publish(secretariat, demo_seed.past_meeting_id)
    draft = cam_tu_article(cam_tu_chair)
    page = cam_tu_chair.get(f"/units/{CAM_TU}/news", headers=HTML)
    assert "Bản nháp chờ duyệt" in page.text
    assert f'href="/articles/{draft["id"]}/edit"' in page.text
    other = cam_tu_chair.get("/units/14797/news", headers=HTML)
    assert "Bản nháp chờ duyệt" not in other.text


def test_the_visitor_counter(published: dict, client: TestClient[Litestar]) -> None:
    def counts() -> list[str]:
        page = client.get(f"/units/{CAM_TU}/news", headers={**HTML, "User-Agent": "Mozilla/5.0"})
        return re.findall(r"<dd>([\d.]+)</dd>", page.text)

    assert counts() == ["1", "1", "1", "1"]
    assert counts() == ["1", "1", "1", "1"]  # the same visitor, again today
    bot = client.get(f"/units/{CAM_TU}/news", headers={**HTML, "User-Agent": "Googlebot/2.1"})
    assert bot.status_code == 200
    assert counts() == ["1", "1", "1", "1"]


def test_pagination_is_bounded(published: dict, client: TestClient[Litestar]) -> None:
    assert client.get("/news?page=2", headers=HTML).status_code == 200
    assert client.get("/news?page=0", headers=HTML).status_code == 400
    assert client.get("/news?page=abc", headers=HTML).status_code == 400
    assert client.get("/units/99999999/news", headers=HTML).status_code == 404


def test_photos_are_served_only_by_their_stored_names(
    published: dict, client: TestClient[Litestar]
) -> None:
    figure = published["province"]["figures"][0]
    photo = client.get(figure["url"])
    assert photo.status_code == 200
    assert photo.headers["cache-control"] == "public, max-age=31536000, immutable"
    for name in ("..%2Fconfhub.sqlite3", "x.jpg", "0" * 32 + ".jpg"):
        assert client.get(f"/news/photos/{name}").status_code == 404
