"""`CONFHUB_PAGE_MAX_LIMIT`: the most items one page of a JSON list holds. A larger `limit` is a
400 naming `limit`, in the one error format; a server configured below the default page size
serves its own maximum when no `limit` is asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from confhub.app import create_app
from confhub.settings import DEFAULT_PAGE_MAX_LIMIT
from tests.conftest import make_settings

pytestmark = pytest.mark.integration

THANH_HOA = 38
UNITS = "/api/v1/units"


def test_the_default_cap(units_db: str, tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(units_db, tmp_path))) as client:
        at_cap = client.get(UNITS, params={"limit": DEFAULT_PAGE_MAX_LIMIT})
        assert at_cap.status_code == 200, at_cap.text
        assert at_cap.json()["limit"] == DEFAULT_PAGE_MAX_LIMIT
        assert len(at_cap.json()["items"]) == DEFAULT_PAGE_MAX_LIMIT
        over = client.get(UNITS, params={"limit": DEFAULT_PAGE_MAX_LIMIT + 1})
        assert over.status_code == 400, over.text
        assert over.json()["status_code"] == 400
        assert over.json()["extra"] == [
            {"key": "limit", "message": f"at most {DEFAULT_PAGE_MAX_LIMIT}"}
        ]


def test_a_configured_cap(units_db: str, tmp_path: Path) -> None:
    settings = make_settings(units_db, tmp_path, page_max_limit=20)
    with TestClient(create_app(settings)) as client:
        assert client.get(UNITS, params={"limit": 21}).status_code == 400
        page = client.get(UNITS, params={"province": THANH_HOA, "limit": 20}).json()
        assert (page["limit"], len(page["items"])) == (20, 20)
        # Asked for nothing, a page is the server's maximum rather than the usual 50.
        default = client.get(UNITS, params={"province": THANH_HOA}).json()
        assert (default["limit"], len(default["items"])) == (20, 20)
