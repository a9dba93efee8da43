"""Photos that declare more pixels than is safe to decode are refused from their header, with a
message saying the limit (in Vietnamese on the minutes page); a large camera JPEG is still taken,
decoded at a reduced scale. bench/hostile_uploads.py measures what each refusal costs."""

from __future__ import annotations

import io

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from confhub.demo import DemoSeed
from tests.helpers import hostile_files as hostile
from tests.integration.meetings.test_schedule_pages import post_form

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            hostile.png_header(100_000, 100_000),
            "the photo has too many pixels (at most 16 megapixels)",
            id="png-100k-by-100k",
        ),
        pytest.param(
            hostile.png_flood(7000),
            "the photo has too many pixels (at most 16 megapixels)",
            id="png-7000-by-7000-decodable",
        ),
        pytest.param(
            hostile.jpeg_header(65_535, 65_535),
            "the photo has too many pixels (at most 50 megapixels)",
            id="jpeg-65535-by-65535",
        ),
        pytest.param(
            hostile.jpeg_header(10_000, 6000),
            "the photo has too many pixels (at most 50 megapixels)",
            id="jpeg-60-megapixels",
        ),
        pytest.param(
            hostile.jpeg_header(5000, 4000, progressive=True),
            "the photo has too many pixels (at most 16 megapixels)",
            id="progressive-jpeg-20-megapixels",
        ),
        pytest.param(
            hostile.jpeg_header(1000, 1000, progressive=True, scans=500),
            "the photo has too many scans (at most 100)",
            id="jpeg-500-scans",
        ),
    ],
)
def test_photos_too_large_to_decode_are_refused_from_their_header(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, data: bytes, message: str
) -> None:
    url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes/photos"
    answer = secretariat.post(url, files={"data": ("anh.png", data, "image/png")})
    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["extra"] == [{"key": "file", "message": message}]
    minutes = secretariat.get(f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes").json()
    assert minutes["photos"] == []


def test_the_minutes_page_says_the_limit_in_vietnamese(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    page = post_form(
        secretariat,
        f"/meetings/{demo_seed.past_meeting_id}/minutes/photos",
        {"caption": "Hội trường"},
        files={"file": ("anh.png", hostile.png_header(100_000, 100_000), "image/png")},
    )
    assert page.status_code == 400
    assert "Ảnh có quá nhiều điểm ảnh: tối đa 16 megapixel." in page.text


def test_a_large_camera_jpeg_is_taken_at_1600_px(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (6000, 4000), (40, 120, 60)).save(buffer, "JPEG", quality=60)  # 24 MP
    url = f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes/photos"
    answer = secretariat.post(url, files={"data": ("anh.jpg", buffer.getvalue(), "image/jpeg")})
    assert answer.status_code == 201, answer.text[:300]
    photo = secretariat.get(answer.json()["url"])
    with Image.open(io.BytesIO(photo.content)) as stored:
        assert stored.size == (1600, 1067)
        pixel = stored.getpixel((800, 500))
        assert isinstance(pixel, tuple)
        assert all(abs(got - sent) <= 6 for got, sent in zip(pixel, (40, 120, 60), strict=True))
