"""Hostile input to the minutes and the news (issue #14, item 7), on PostgreSQL, which refuses a
NUL in text and holds revision numbers and codes in 32-bit INTEGER columns: a 4xx naming what is
wrong, never a 500, and the minutes typed in the editor are kept on the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.app import create_app
from tests.conftest import PostgresDemo, login, make_settings
from tests.integration.news.conftest import HTML, MINUTES, jpeg_bytes

pytestmark = [pytest.mark.integration, pytest.mark.services]

BEYOND_INT32 = 2**53 - 2  # a valid id, beyond every revision number and code


@pytest.fixture
def pg_secretariat(postgres_demo: PostgresDemo, tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    """The organizer, signed in to the app on the demo's PostgreSQL database."""
    with TestClient(create_app(make_settings(postgres_demo.url, tmp_path))) as client:
        seed = postgres_demo.seed
        login(client, seed.organizer_email, seed.organizer_password)
        yield client


def test_a_nul_in_the_minutes_is_a_400_naming_the_field(
    pg_secretariat: TestClient[Litestar], postgres_demo: PostgresDemo
) -> None:
    meeting_id = postgres_demo.seed.past_meeting_id
    answer = pg_secretariat.put(
        f"/api/v1/meetings/{meeting_id}/minutes", json={"markdown": MINUTES + "\x00"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["extra"] == [
        {"key": "markdown", "message": "must not contain control characters", "source": "body"}
    ]
    # Line breaks and tabs are what minutes are made of.
    kept = pg_secretariat.put(
        f"/api/v1/meetings/{meeting_id}/minutes", json={"markdown": MINUTES + "\tKết luận\r\n"}
    )
    assert kept.status_code == 200, kept.text


def test_the_minutes_editor_keeps_the_text_and_says_what_is_wrong(
    pg_secretariat: TestClient[Litestar], postgres_demo: PostgresDemo
) -> None:
    meeting_id = postgres_demo.seed.past_meeting_id
    pg_secretariat.get(f"/meetings/{meeting_id}/minutes", headers=HTML)
    typed = "## Kết luận\n\nĐồng chí Bí thư\x00 kết luận."
    page = pg_secretariat.post(
        f"/meetings/{meeting_id}/minutes",
        data={"markdown": typed, "_csrf_token": pg_secretariat.cookies.get("confhub_csrf")},
        headers=HTML,
        follow_redirects=False,
    )
    assert page.status_code == 400
    assert "Hãy xóa các ký tự điều khiển (những ký tự ẩn như NUL)." in page.text
    assert "Đồng chí Bí thư" in page.text  # what was typed stays in the editor


def test_a_nul_in_a_photo_caption_is_a_400(
    pg_secretariat: TestClient[Litestar], postgres_demo: PostgresDemo
) -> None:
    meeting_id = postgres_demo.seed.past_meeting_id
    answer = pg_secretariat.post(
        f"/api/v1/meetings/{meeting_id}/minutes/photos",
        files={"data": ("hoi-truong.jpg", jpeg_bytes((64, 48)), "image/jpeg")},
        data={"caption": "Hội trường\x00"},
    )
    assert answer.status_code == 400, answer.text
    assert [e["key"] for e in answer.json()["extra"]] == ["caption"]


def test_a_revision_number_beyond_the_column_is_a_400(
    pg_secretariat: TestClient[Litestar], postgres_demo: PostgresDemo
) -> None:
    meeting_id = postgres_demo.seed.past_meeting_id
    answer = pg_secretariat.get(f"/api/v1/meetings/{meeting_id}/minutes/revisions/{BEYOND_INT32}")
    assert answer.status_code == 400, answer.text
    assert [e["key"] for e in answer.json()["extra"]] == ["number"]


@pytest.mark.parametrize("name", ["province", "unit"])
def test_article_filters_beyond_the_column_are_a_400(
    pg_secretariat: TestClient[Litestar], name: str
) -> None:
    answer = pg_secretariat.get("/api/v1/articles", params={name: BEYOND_INT32})
    assert answer.status_code == 400, answer.text
    assert [e["key"] for e in answer.json()["extra"]] == [name]


def test_news_pages_of_impossible_units_and_slugs_are_not_found(
    pg_secretariat: TestClient[Litestar],
) -> None:
    assert pg_secretariat.get("/news/tin%00bai", headers=HTML).status_code == 404
    for path in (f"/units/{BEYOND_INT32}/news", f"/units/{BEYOND_INT32}/news/feed.atom"):
        assert pg_secretariat.get(path, headers=HTML).status_code == 400, path
