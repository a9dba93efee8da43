"""Errors carry their own words (issue #15): one refused action per domain, sent by a page form
and by the API in the same state. The page shows the refusal in Vietnamese (from the catalog,
through the error's message id); the API's `detail` stays English."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}


def page_post(client: TestClient[Litestar], path: str, **fields: str) -> str:
    """Send a page's form (with the CSRF token of a page shown first); the page answered."""
    client.get("/", headers=HTML)
    token = str(client.cookies.get("confhub_csrf"))
    answer = client.post(
        path, data={**fields, "_csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert answer.status_code in (400, 403, 404, 409), answer.text
    return answer.text


def test_news_publishing_unwritten_minutes(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.past_meeting_id
    api = secretariat.post(f"/api/v1/meetings/{meeting_id}/minutes/publish")
    assert api.status_code == 409
    assert api.json()["detail"] == "Write the minutes before publishing them"
    page = page_post(secretariat, f"/meetings/{meeting_id}/minutes/publish")
    assert "Hãy viết và lưu biên bản trước khi đăng." in page
