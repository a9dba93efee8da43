"""The HTML of the minutes and of every article is rendered once, when the text is saved, and
stored beside it: pages, feeds and the API show what is stored and never render on a view.

Each test changes the stored HTML directly in the database and looks for the change where the
readers are; a view that rendered the Markdown itself would not show it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import feedparser
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from confhub.news.markdown import render_markdown
from tests.integration.news.conftest import (
    CAM_TU,
    HTML,
    MINUTES,
    cam_tu_article,
    write_and_publish,
)

pytestmark = pytest.mark.integration

STORED = "<p>Bản <strong>đã lưu sẵn</strong> khi soạn</p>\n"


def _write(database_url: str, statement: str, *values: object) -> None:
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    with sqlite3.connect(path) as connection:
        assert connection.execute(statement, values).rowcount >= 1


def _read(database_url: str, statement: str, *values: object) -> list[tuple[object, ...]]:
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    with sqlite3.connect(path) as connection:
        return connection.execute(statement, values).fetchall()


def test_public_pages_feeds_and_the_api_show_the_stored_html(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    client: TestClient[Litestar],
    demo_seed: DemoSeed,
    demo_db: str,
) -> None:
    province = write_and_publish(secretariat, demo_seed.past_meeting_id)["province_article"]
    draft = cam_tu_article(cam_tu_chair)
    cam_tu = cam_tu_chair.post(f"/api/v1/articles/{draft['id']}/publish").json()
    _write(demo_db, "UPDATE article SET body_html = ? WHERE id IN (?, ?)", STORED, *(
        province["id"], cam_tu["id"]
    ))  # fmt: skip
    client.cookies.clear()
    for path in (province["url"], cam_tu["url"]):
        page = client.get(path, headers=HTML)
        assert page.status_code == 200
        assert "Bản <strong>đã lưu sẵn</strong> khi soạn" in page.text, path
        assert "Nội dung hội nghị" not in page.text, path
    for feed in ("/news/feed.atom", f"/units/{CAM_TU}/news/feed.atom"):
        entry = feedparser.parse(client.get(feed).content).entries[0]
        assert "Bản <strong>đã lưu sẵn</strong> khi soạn" in entry.content[0].value, feed
    assert client.get(f"/api/v1/articles/{cam_tu['id']}").json()["html"] == STORED
    listed = client.get("/api/v1/articles", params={"unit": CAM_TU}).json()["items"]
    assert [item["html"] for item in listed] == [STORED]


def test_the_editors_pages_show_the_stored_html(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    demo_seed: DemoSeed,
    demo_db: str,
) -> None:
    meeting = demo_seed.past_meeting_id
    write_and_publish(secretariat, meeting)
    _write(demo_db, "UPDATE minutes SET markdown_html = ? WHERE meeting_id = ?", STORED, meeting)
    draft = cam_tu_article(cam_tu_chair)
    _write(demo_db, "UPDATE article SET body_html = ? WHERE id = ?", STORED, draft["id"])

    minutes = secretariat.get(f"/api/v1/meetings/{meeting}/minutes").json()
    assert minutes["html"].endswith(STORED)
    assert "<table>" in minutes["html"]  # the header, written from the roll call
    page = secretariat.get(f"/meetings/{meeting}/minutes", headers=HTML)
    assert "Bản <strong>đã lưu sẵn</strong> khi soạn" in page.text
    edit = cam_tu_chair.get(f"/articles/{draft['id']}/edit", headers=HTML)
    assert "Bản <strong>đã lưu sẵn</strong> khi soạn" in edit.text


def test_saving_stores_the_html_of_the_text(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    demo_seed: DemoSeed,
    demo_db: str,
) -> None:
    meeting = demo_seed.past_meeting_id
    write_and_publish(secretariat, meeting)
    [(markdown, html)] = _read(
        demo_db, "SELECT markdown, markdown_html FROM minutes WHERE meeting_id = ?", meeting
    )
    assert markdown == MINUTES
    assert html == str(render_markdown(MINUTES))
    assert "<h3>Nội dung hội nghị</h3>" in str(html)

    # Every article written from the minutes stores the HTML of its whole body.
    articles = _read(demo_db, "SELECT body, body_html FROM article WHERE meeting_id = ?", meeting)
    assert len(articles) > 100
    for body, body_html in articles:
        assert body_html == str(render_markdown(str(body)))

    draft = cam_tu_article(cam_tu_chair)
    edited = "Bài **đã sửa** của xã.\n\n- một\n- hai"
    answer = cam_tu_chair.patch(f"/api/v1/articles/{draft['id']}", json={"body": edited})
    assert answer.status_code == 200
    assert answer.json()["html"] == str(render_markdown(edited))
    [(stored,)] = _read(demo_db, "SELECT body_html FROM article WHERE id = ?", draft["id"])
    assert stored == str(render_markdown(edited))
