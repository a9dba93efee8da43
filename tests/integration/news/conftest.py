"""Helpers of the news tests: signed-in clients of the demo's secretariat and Cẩm Tú chair, the
minutes of the ended 10 Sept meeting, and a photo to attach."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from confhub.demo import DemoSeed
from tests.conftest import login

HTML = {"Accept": "text/html"}
CAM_TU = 15148
MINUTES = (
    "## Nội dung hội nghị\n\n"
    "Hội nghị đã nghe báo cáo đánh giá hoạt động của chính quyền địa phương 2 cấp.\n\n"
    "- Các xã, phường báo cáo tình hình khắc phục hậu quả bão số 5.\n"
    "- Đồng chí Bí thư Tỉnh ủy kết luận hội nghị.\n"
)


def jpeg_bytes(size: tuple[int, int] = (1200, 800)) -> bytes:
    """A small photo."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def cam_tu_chair(
    make_client: Callable[[], TestClient[Litestar]], demo_seed: DemoSeed
) -> TestClient[Litestar]:
    """Cẩm Tú's chair (the unit's editor), signed in on a client of its own."""
    chair = make_client()
    login(chair, demo_seed.chair_email, demo_seed.chair_password)
    return chair


def write_and_publish(client: TestClient[Litestar], meeting_id: int, text: str = MINUTES) -> dict:
    """Save the minutes and publish them; the publication's answer."""
    saved = client.put(f"/api/v1/meetings/{meeting_id}/minutes", json={"markdown": text})
    assert saved.status_code == 200, saved.text
    published = client.post(f"/api/v1/meetings/{meeting_id}/minutes/publish")
    assert published.status_code == 200, published.text
    result: dict = published.json()
    return result


def cam_tu_article(client: TestClient[Litestar]) -> dict:
    """Cẩm Tú's article of the 10 Sept meeting, as its editors see it."""
    found = client.get("/api/v1/articles", params={"unit": CAM_TU}).json()
    assert found["total"] == 1, found
    article: dict = found["items"][0]
    return article
