"""Fixtures of the calendar tests: clients on the demo database with the past window wide open
(so the 10 Sept 2025 meeting is in the feeds whatever today's date), signed-in clients, and
helpers to read feeds and create meetings and accounts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.conftest import login
from tests.helpers import accounts

WIDE_WINDOW = 36_500  # days: a century, so no demo meeting has left the feeds
CAM_TU = 15148
HOI_TRUONG_CAM_TU = "Hội trường UBND xã Cẩm Tú"
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(
    hour=1, minute=30, second=0, microsecond=0
)

ClientFactory = Callable[..., TestClient[Litestar]]


@pytest.fixture
def open_client(make_client: ClientFactory) -> ClientFactory:
    """Open clients on their own apps over the demo database (settings may be overridden)."""
    return lambda **overrides: make_client(**{"calendar_past_days": WIDE_WINDOW, **overrides})


@pytest.fixture
def feeds(open_client: ClientFactory) -> TestClient[Litestar]:
    """An anonymous client, as a calendar app is."""
    return open_client()


@pytest.fixture
def secretariat(open_client: ClientFactory, demo_seed: DemoSeed) -> TestClient[Litestar]:
    """Thanh Hóa's secretariat, signed in."""
    client = open_client()
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    return client


@pytest.fixture
def chair(open_client: ClientFactory, demo_seed: DemoSeed) -> TestClient[Litestar]:
    """Xã Cẩm Tú's chair, signed in."""
    client = open_client()
    login(client, demo_seed.chair_email, demo_seed.chair_password)
    return client


def create_account(database_url: str, email: str, role: str, **scope: int) -> str:
    """Create an account directly in the database; returns its password."""
    return accounts.create_account(database_url, email, role, "a long enough password 123", **scope)


def create_meeting(
    client: TestClient[Litestar],
    *,
    title: str = "Hội nghị giao ban trực tuyến",
    status: str = "scheduled",
    starts_at: datetime = TOMORROW,
    hours: int = 2,
    unit_codes: list[int] | None = None,
    province_code: int = 38,
    **fields: Any,
) -> int:
    """Create a meeting through the API (inviting the given units) and return its id."""
    body = {
        "title": title,
        "province_code": province_code,
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=hours)).isoformat(),
        "status": status,
        "convening_body": "Thường trực Tỉnh ủy",
        "presiding_official": "Bí thư Tỉnh ủy",
        **fields,
    }
    response = client.post("/api/v1/meetings", json=body)
    assert response.status_code == 201, response.text
    meeting_id = int(response.json()["id"])
    if unit_codes:
        invited = client.post(
            f"/api/v1/meetings/{meeting_id}/invitations", json={"unit_codes": unit_codes}
        )
        assert invited.status_code in (200, 201), invited.text
    return meeting_id


def get_feed(client: TestClient[Litestar], path: str, **headers: str) -> Any:
    """GET a feed, expecting 200 and a calendar."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return response


def etag(client: TestClient[Litestar], path: str) -> str:
    """The current ETag of a feed."""
    return str(get_feed(client, path).headers["etag"])


def events_by_uid(body: bytes) -> dict[str, Any]:
    """The VEVENTs of a feed (parsed by icalendar), by UID."""
    return {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}


def meeting_uid(meeting_id: int) -> str:
    """The UID the feeds give a meeting (the test apps' base URL is 127.0.0.1)."""
    return f"meeting-{meeting_id}@127.0.0.1"


def private_feed_path(client: TestClient[Litestar]) -> str:
    """The private feed's path, read from the profile page."""
    page = client.get("/profile", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    match = re.search(r"https?://[^/\"]+(/calendar/private/[A-Za-z0-9_-]+\.ics)", page.text)
    assert match, "the profile page shows no private feed address"
    return match.group(1)
