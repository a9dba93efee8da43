"""A request's transaction is committed before its answer starts: when the commit fails the
client is told so (503 with `Retry-After` for a database that went away), never "created" for
something that was not stored; and a refused request leaves nothing behind.

The failure is real: at the commit of one chosen request, its PostgreSQL connection is
terminated by the server (`pg_terminate_backend` on its own backend), as when PostgreSQL
restarts between a request's writes and its commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from confhub.app import create_app
from tests.conftest import PostgresDemo, login, make_settings

pytestmark = pytest.mark.integration

TITLE = "Hội nghị mà cơ sở dữ liệu không kịp lưu"


def new_meeting(title: str) -> dict[str, object]:
    """A meeting to create through the API."""
    return {
        "title": title,
        "province_code": 38,
        "starts_at": "2026-03-02T08:00:00+07:00",
        "ends_at": "2026-03-02T10:00:00+07:00",
    }


@pytest.fixture
def pg_secretariat(
    postgres_demo_db: PostgresDemo, tmp_path: Path
) -> Iterator[TestClient[Litestar]]:
    """The organizer, signed in to the app on a PostgreSQL database of this test's own."""
    with TestClient(create_app(make_settings(postgres_demo_db.url, tmp_path))) as client:
        seed = postgres_demo_db.seed
        login(client, seed.organizer_email, seed.organizer_password)
        yield client


class ConnectionLostAtCommit:
    """While armed, the next commit of a session that wrote a meeting loses its connection."""

    def __init__(self) -> None:
        self.armed = False
        self.fired = 0

    def __call__(self, session: Session) -> None:
        if not self.armed or not session.info.pop("wrote_meeting", False):
            return
        self.armed = False
        self.fired += 1
        session.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")


@pytest.fixture
def connection_lost_at_commit() -> Iterator[ConnectionLostAtCommit]:
    """Listens to every session's commit for the length of the test."""
    fault = ConnectionLostAtCommit()

    def mark_meeting_writes(session: Session, flush_context: Any, instances: Any) -> None:
        if any(type(obj).__name__ == "Meeting" for obj in session.new):
            session.info["wrote_meeting"] = True

    event.listen(Session, "before_flush", mark_meeting_writes)
    event.listen(Session, "before_commit", fault)
    try:
        yield fault
    finally:
        event.remove(Session, "before_commit", fault)
        event.remove(Session, "before_flush", mark_meeting_writes)


@pytest.mark.services
def test_a_commit_that_fails_is_a_503_and_nothing_was_created(
    pg_secretariat: TestClient[Litestar], connection_lost_at_commit: ConnectionLostAtCommit
) -> None:
    connection_lost_at_commit.armed = True
    response = pg_secretariat.post("/api/v1/meetings", json=new_meeting(TITLE))

    assert connection_lost_at_commit.fired == 1
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["detail"], "the error says what happened"

    # The next requests work (a fresh connection) and the meeting was never stored.
    listed = pg_secretariat.get("/api/v1/meetings", params={"limit": 200})
    assert listed.status_code == 200
    assert TITLE not in {item["title"] for item in listed.json()["items"]}
    again = pg_secretariat.post("/api/v1/meetings", json=new_meeting(TITLE))
    assert again.status_code == 201, again.text
    listed = pg_secretariat.get("/api/v1/meetings", params={"limit": 200})
    assert [item["title"] for item in listed.json()["items"]].count(TITLE) == 1


def test_a_refused_request_leaves_nothing_behind(
    secretariat: TestClient[Litestar],
) -> None:
    # Refused after the service wrote: a meeting that ends before it starts.
    body = new_meeting(TITLE) | {"ends_at": "2026-03-02T07:00:00+07:00"}
    refused = secretariat.post("/api/v1/meetings", json=body)
    assert 400 <= refused.status_code < 500, refused.text
    listed = secretariat.get("/api/v1/meetings", params={"limit": 200})
    assert TITLE not in {item["title"] for item in listed.json()["items"]}
