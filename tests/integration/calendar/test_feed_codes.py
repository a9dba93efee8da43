"""Province and unit codes live in PostgreSQL INTEGER columns (issue #14, item 7): a feed named
by a larger number is an unknown calendar (404), not a 500 from the driver."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from confhub.app import create_app
from tests.conftest import PostgresDemo, make_settings
from tests.integration.calendar.conftest import get_feed

pytestmark = [pytest.mark.integration, pytest.mark.services]


def test_a_code_beyond_any_province_or_unit_is_an_unknown_calendar(
    postgres_demo: PostgresDemo, tmp_path: Path
) -> None:
    with TestClient(create_app(make_settings(postgres_demo.url, tmp_path))) as client:
        for kind in ("provinces", "units"):
            assert client.get(f"/calendar/{kind}/99999999999.ics").status_code == 404, kind
        assert get_feed(client, "/calendar/provinces/38.ics").status_code == 200
