"""The upload limit is CONFHUB_MAX_UPLOAD_MB (20 MiB by default) for every multipart upload,
not Litestar's own default of 10,000,000 bytes: a 15 MB document is taken, a 21 MB one refused
with 413 and a message naming the limit, in the API's error format and on the pages.
nginx in front allows exactly the same (tests/integration/deploy)."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.integration.meetings.test_schedule_pages import post_form

pytestmark = pytest.mark.integration

MB = 1024 * 1024
PDF_HEAD = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"


def test_a_15_mb_document_is_accepted_under_the_default_limit(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    url = f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}/documents"
    data = PDF_HEAD + b"0" * (15 * MB)
    answer = secretariat.post(url, files={"data": ("Báo cáo.pdf", data, "application/pdf")})
    assert answer.status_code == 201, answer.text[:500]
    assert answer.json()["size_bytes"] == len(data)


def test_a_21_mb_document_is_refused_with_413_naming_the_limit(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    data = PDF_HEAD + b"0" * (21 * MB)
    api = secretariat.post(
        f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}/documents",
        files={"data": ("Báo cáo.pdf", data, "application/pdf")},
    )
    assert api.status_code == 413
    assert api.json() == {
        "status_code": 413,
        "detail": "The file is larger than the limit of 20 MB",
    }
    page = post_form(
        secretariat,
        f"/meetings/{demo_seed.upcoming_meeting_id}/documents",
        files={"file": ("Báo cáo.pdf", data, "application/pdf")},
    )
    assert page.status_code == 413
    assert "Tệp lớn hơn giới hạn 20 MB." in page.text
    listed = secretariat.get(f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}/documents")
    assert listed.json()["total"] == 0
