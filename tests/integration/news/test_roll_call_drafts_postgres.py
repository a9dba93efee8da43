"""Drafts follow the roll call on PostgreSQL, the production path (issue #17): the publication
writes exactly the drafts the roll call allows, a late answer rewrites a waiting draft and a
correction to absent removes an untouched one, and bulk publishing publishes exactly the number
its confirmation promised."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.app import create_app
from tests.conftest import PostgresDemo, login, make_settings
from tests.integration.news.conftest import write_and_publish

pytestmark = [pytest.mark.integration, pytest.mark.services]


@pytest.fixture
def pg_secretariat(postgres_demo: PostgresDemo, tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    """The organizer, signed in to the app on the demo's PostgreSQL database."""
    with TestClient(create_app(make_settings(postgres_demo.url, tmp_path))) as client:
        seed = postgres_demo.seed
        login(client, seed.organizer_email, seed.organizer_password)
        yield client


def unit_articles(client: TestClient[Litestar], meeting: int) -> dict[int, dict]:
    """The meeting's unit articles by unit code."""
    items = client.get("/api/v1/articles", params={"meeting": meeting, "limit": 500}).json()
    return {a["unit_code"]: a for a in items["items"] if a["unit_code"]}


def test_drafts_follow_the_roll_call_and_bulk_publishing_keeps_its_promise(
    pg_secretariat: TestClient[Litestar], postgres_demo: PostgresDemo
) -> None:
    client, meeting = pg_secretariat, postgres_demo.seed.past_meeting_id
    points = client.get(f"/api/v1/meetings/{meeting}/attendance").json()["points"]
    by_status: dict[str, list[dict]] = {}
    for point in points:
        if point["unit_code"]:
            by_status.setdefault(point["status"], []).append(point)
    assert {s: len(p) for s, p in by_status.items()} == {"present": 156, "absent": 6, "pending": 4}

    first = write_and_publish(client, meeting)
    assert (first["drafts_created"], first["drafts_waiting"], first["absent_units"]) == (160, 4, 6)
    articles = unit_articles(client, meeting)
    assert {a["state"] for a in articles.values()} == {"draft", "needs_confirmation"}

    # A silent point answers late; a present one is corrected to absent (by the secretariat).
    late, gone = by_status["pending"][0], by_status["present"][0]
    for key, point, answer in (
        (
            "late",
            late,
            {"status": "present", "delegates_present": 9, "presiding_name": "Vũ Văn An"},
        ),
        ("gone", gone, {"status": "absent", "reason": "Mất điện"}),
    ):
        stored = client.post(
            f"/api/v1/meetings/{meeting}/checkins",
            json={"point_id": point["point_id"], "idempotency_key": key, **answer},
        )
        assert stored.status_code == 201, stored.text
    second = write_and_publish(client, meeting)
    assert (second["drafts_removed"], second["drafts_waiting"], second["absent_units"]) == (1, 3, 7)
    articles = unit_articles(client, meeting)
    assert gone["unit_code"] not in articles
    assert articles[late["unit_code"]]["state"] == "draft"
    assert "đồng chí Vũ Văn An; cùng dự có 9 đại biểu" in articles[late["unit_code"]]["body"]

    # 156 ready: 156 present, one corrected to absent, one answered late.
    stale = client.post(f"/api/v1/meetings/{meeting}/articles/publish-drafts?expected=160")
    assert stale.status_code == 409
    assert "156 are ready now, not 160" in stale.json()["detail"]
    assert not [a for a in unit_articles(client, meeting).values() if a["state"] == "published"]
    published = client.post(f"/api/v1/meetings/{meeting}/articles/publish-drafts?expected=156")
    assert published.status_code == 200, published.text
    assert published.json() == {"published": 156, "waiting": 3, "absent_units": 7}
    states = [a["state"] for a in unit_articles(client, meeting).values()]
    assert (states.count("published"), states.count("needs_confirmation")) == (156, 3)
