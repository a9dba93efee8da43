"""`confhub.app.reset_app_state`: what lets the suite reuse one app over a fresh database per
test (tests/conftest.py, `AppShelf`). A reset app must forget what it served, or tests would
depend on the ones before them."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from confhub.app import create_app, reset_app_state
from confhub.calendar.deps import VERSIONS_KEY
from confhub.demo import DemoSeed
from tests.helpers.apps import login, make_settings


def test_a_reset_app_forgets_sessions_throttles_and_memories_made_on_first_use(
    demo_db: str, demo_seed: DemoSeed, tmp_path: Path
) -> None:
    app = create_app(make_settings(demo_db, tmp_path, login_max_failures_per_account=1))
    built_with = set(app.state)
    email, password = demo_seed.organizer_email, demo_seed.organizer_password
    with TestClient(app) as client:
        login(client, email, password)
        signed_in = dict(client.cookies)
        assert client.get("/api/v1/auth/me").json()["email"] == email
        assert client.get("/calendar/provinces/38.ics").status_code == 200
        assert VERSIONS_KEY in app.state
        client.cookies.clear()
        wrong = {"email": email, "password": "not the password"}
        answers = [client.post("/api/v1/auth/login", json=wrong).status_code for _ in range(2)]
        assert answers == [401, 429]
    reset_app_state(app)
    assert set(app.state) == built_with
    with TestClient(app) as client:
        client.cookies.update(signed_in)
        assert client.get("/api/v1/auth/me").status_code == 401  # the session store is new
        client.cookies.clear()
        login(client, email, password)  # the failure counted before is forgotten
