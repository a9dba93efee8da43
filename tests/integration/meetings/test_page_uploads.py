"""Uploads through the pages past their limit: the form again, in Vietnamese, typed text kept
(the API keeps its 413)."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


def _csrf(client: TestClient[Litestar], path: str) -> str:
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    token = client.cookies.get("confhub_csrf")
    assert token
    return str(token)


def test_an_over_limit_photo_shows_the_form_again_with_its_caption(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    path = f"/meetings/{demo_seed.upcoming_meeting_id}/minutes"
    token = _csrf(secretariat, path)
    answer = secretariat.post(
        f"{path}/photos",
        files={"file": ("anh.jpg", b"0" * (21 * MIB), "image/jpeg")},
        data={"caption": "Quang cảnh hội nghị", "_csrf_token": token},
        headers={"Accept-Language": "vi", "Accept": "text/html"},
    )
    assert answer.status_code == 413
    assert "Tệp lớn hơn giới hạn 20 MB" in answer.text
    assert 'value="Quang cảnh hội nghị"' in answer.text


def test_the_api_keeps_its_413(secretariat: TestClient[Litestar], demo_seed: DemoSeed) -> None:
    url = f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}/documents"
    answer = secretariat.post(url, files={"data": ("a.pdf", b"0" * (21 * MIB), "application/pdf")})
    assert answer.status_code == 413
    assert answer.json()["detail"] == "The file is larger than the limit of 20 MB"


def test_an_upload_form_without_its_token_is_refused(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    path = f"/meetings/{demo_seed.upcoming_meeting_id}/documents"
    _csrf(secretariat, f"/meetings/{demo_seed.upcoming_meeting_id}")
    answer = secretariat.post(
        path,
        files={"file": ("a.pdf", b"%PDF-1.4\n", "application/pdf")},
        data={"_csrf_token": "forged"},
        headers={"Accept": "text/html"},
    )
    assert answer.status_code == 403
