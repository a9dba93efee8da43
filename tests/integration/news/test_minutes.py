"""The minutes: revisions with author and time, the header from the meeting and its roll call,
locking, photos (by content, re-encoded, size limit), and who may write them."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.app import create_app
from confhub.demo import DemoSeed
from tests.conftest import login, make_settings
from tests.integration.news.conftest import HTML, MINUTES, jpeg_bytes

pytestmark = pytest.mark.integration


def test_every_save_is_a_revision(secretariat: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    meeting = demo_seed.past_meeting_id
    url = f"/api/v1/meetings/{meeting}/minutes"
    empty = secretariat.get(url).json()
    assert (empty["revision"], empty["markdown"], empty["revisions"]) == (0, "", [])
    for number, text in enumerate(["Bản thảo 1", "Bản thảo 2", "Bản thảo 2"], start=1):
        answer = secretariat.put(url, json={"markdown": text})
        assert answer.status_code == 200
        assert answer.json()["revision"] == number
    minutes = secretariat.get(url).json()
    assert minutes["markdown"] == "Bản thảo 2"
    assert [r["number"] for r in minutes["revisions"]] == [3, 2, 1]
    assert {r["author"] for r in minutes["revisions"]} == {"Văn phòng Tỉnh ủy Thanh Hóa"}
    first = secretariat.get(f"{url}/revisions/1").json()
    assert first["markdown"] == "Bản thảo 1"
    assert secretariat.get(f"{url}/revisions/9").status_code == 404


def test_the_header_comes_from_the_meeting_and_its_roll_call(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    minutes = secretariat.get(f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes").json()
    header = minutes["header_markdown"]
    assert "14:00, thứ Tư, 10/09/2025 – 17:00" in header
    assert "Thường trực Tỉnh ủy Thanh Hóa" in header
    assert "Nguyễn Doãn Anh" in header
    assert "Có mặt 156/166 điểm cầu" in header
    assert "vắng 6; chưa điểm danh 4" in header
    assert "Xã Cẩm Tú (32)" in header
    assert "Điểm cầu vắng (lý do) – 6:" in header
    assert "<table>" in minutes["html"]


def test_locked_minutes_refuse_changes(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes"
    assert secretariat.post(f"{url}/lock").status_code == 409  # nothing written yet
    secretariat.put(url, json={"markdown": MINUTES})
    locked = secretariat.post(f"{url}/lock")
    assert locked.status_code == 200
    assert locked.json()["locked"] is True
    assert locked.json()["locked_by"] == "Văn phòng Tỉnh ủy Thanh Hóa"
    refused = secretariat.put(url, json={"markdown": "đổi sau khi duyệt"})
    assert refused.status_code == 409
    assert secretariat.get(url).json()["markdown"] == MINUTES
    photo = secretariat.post(f"{url}/photos", files={"data": ("a.jpg", jpeg_bytes(), "image/jpeg")})
    assert photo.status_code == 409
    # Locking twice is harmless; publishing locked minutes is what approval is for.
    assert secretariat.post(f"{url}/lock").status_code == 200
    assert secretariat.post(f"{url}/publish").status_code == 200


def test_photos_are_re_encoded_and_captioned(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes/photos"
    added = secretariat.post(
        url,
        data={"caption": "Quang cảnh điểm cầu tỉnh"},
        files={"data": ("IMG_0001.PNG", jpeg_bytes((3000, 2000)), "image/png")},
    )
    assert added.status_code == 201, added.text
    photo = added.json()
    assert (photo["width"], photo["height"]) == (1600, 1067)
    assert photo["caption"] == "Quang cảnh điểm cầu tỉnh"
    served = secretariat.get(photo["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert secretariat.get(photo["thumbnail_url"]).status_code == 200
    changed = secretariat.patch(f"{url}/{photo['id']}", json={"caption": "Toàn cảnh hội nghị"})
    assert changed.json()["caption"] == "Toàn cảnh hội nghị"
    assert secretariat.delete(f"{url}/{photo['id']}").status_code == 204
    minutes = secretariat.get(f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes").json()
    assert minutes["photos"] == []
    # The files stay: articles published with the photo keep showing it.
    assert secretariat.get(photo["url"]).status_code == 200


def test_a_non_image_named_jpg_is_refused(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes/photos"
    for content in (b"<html><script>alert(1)</script></html>", b"%PDF-1.4\n0000"):
        refused = secretariat.post(url, files={"data": ("photo.jpg", content, "image/jpeg")})
        assert refused.status_code == 400
        assert "JPEG, PNG" in refused.json()["detail"]


def test_too_large_a_photo_is_refused_with_413(
    demo_db: str, demo_seed: DemoSeed, tmp_path: Path
) -> None:
    app = create_app(make_settings(demo_db, tmp_path, max_upload_mb=1))
    with TestClient(app) as client:
        login(client, demo_seed.organizer_email, demo_seed.organizer_password)
        big = b"\xff\xd8\xff\xe0" + b"\x00" * (1024 * 1024 + 10)
        url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes/photos"
        answer = client.post(url, files={"data": ("big.jpg", big, "image/jpeg")})
        assert answer.status_code == 413
    news = tmp_path / "media" / "news"
    assert not news.exists() or not any(news.iterdir())


def test_only_the_provinces_secretariat_writes_the_minutes(
    cam_tu_chair: TestClient[Litestar], demo_seed: DemoSeed, client: TestClient[Litestar]
) -> None:
    url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes"
    assert client.get(url).status_code == 401
    assert cam_tu_chair.get(url).status_code == 403
    assert cam_tu_chair.put(url, json={"markdown": "x"}).status_code == 403
    assert cam_tu_chair.post(f"{url}/publish").status_code == 403


def test_the_minutes_page_saves_and_shows_revisions(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    page = secretariat.get(f"/meetings/{meeting}/minutes", headers=HTML)
    assert page.status_code == 200
    assert 'data-preview="minutes-preview"' in page.text
    assert '<script type="module" src="/static/js/news/preview.js">' in page.text
    assert "Có mặt 156/166 điểm cầu" in page.text
    token = secretariat.cookies.get("confhub_csrf")
    saved = secretariat.post(
        f"/meetings/{meeting}/minutes",
        data={"markdown": MINUTES, "_csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = secretariat.get(saved.headers["location"], headers=HTML)
    assert "Đã lưu biên bản thành một phiên bản mới." in page.text
    assert "Phiên bản 1" in page.text
    assert "<h3>Nội dung hội nghị</h3>" in page.text  # the preview, rendered by the server


def test_the_preview_renders_like_the_pages(secretariat: TestClient[Litestar]) -> None:
    answer = secretariat.post(
        "/api/v1/news/preview", json={"markdown": "**đậm** <script>alert(1)</script>"}
    )
    assert answer.status_code == 200
    # Raw HTML is reduced to its text (a script's to nothing) and named, for the editor's flag.
    assert answer.json() == {"html": "<p><strong>đậm</strong> </p>\n", "raw_html": ["script"]}
