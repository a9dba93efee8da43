"""What an operator watches: `/metrics` (requests by route and status, latencies, websockets,
check-ins, fan-out lag, the database pool), request ids, `/readyz` failing with its backing
services, and the hub closing every socket with 1012 when the process stops."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from confhub.app import create_app
from confhub.demo import DemoSeed
from tests.conftest import free_port, login, make_settings

pytestmark = pytest.mark.integration

CHECKINS_ROUTE = "/api/v1/meetings/{meeting_id}/checkins"


def sample(client: TestClient[Litestar], name: str, **labels: str) -> float:
    """One sample of the app's /metrics (0 when absent)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    for line in response.text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(3))
    return 0.0


def test_requests_are_counted_by_route_and_status(client: TestClient[Litestar]) -> None:
    ok = {"method": "GET", "route": "/healthz", "status": "200"}
    lost = {"method": "GET", "route": "<unmatched>", "status": "404"}
    by_id = {"method": "GET", "route": "/api/v1/meetings/{meeting_id}", "status": "401"}
    before = [
        sample(client, "confhub_http_requests_total", **labels) for labels in (ok, lost, by_id)
    ]
    latency_before = sample(client, "confhub_http_request_duration_seconds_count", route="/healthz")
    client.get("/healthz")
    client.get("/healthz")
    client.get(f"/no-such-page-{uuid.uuid4().hex}")
    client.get("/api/v1/meetings/12345")
    after = [
        sample(client, "confhub_http_requests_total", **labels) for labels in (ok, lost, by_id)
    ]
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 1, 1]
    latency_after = sample(client, "confhub_http_request_duration_seconds_count", route="/healthz")
    assert latency_after - latency_before == 2
    assert sample(client, "confhub_http_requests_in_progress") >= 1  # this very scrape
    assert sample(client, "confhub_db_pool_size") > 0


def test_the_request_id_comes_from_the_proxy_or_is_made(client: TestClient[Litestar]) -> None:
    made = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz").headers["x-request-id"] != made
    given = "0f3c9a7e1b2d4c5e6f708192a3b4c5d6"
    assert client.get("/healthz", headers={"X-Request-Id": given}).headers["x-request-id"] == given
    forged = client.get("/healthz", headers={"X-Request-Id": "<script>"}).headers["x-request-id"]
    assert forged != "<script>" and re.fullmatch(r"[0-9a-f]{32}", forged)
    missing = client.get(f"/missing-{uuid.uuid4().hex}")
    assert missing.status_code == 404 and missing.headers["x-request-id"]


def test_checkins_websockets_and_fan_out_are_measured(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    meeting_id = demo_seed.upcoming_meeting_id
    point_id = client.get(f"/api/v1/meetings/{meeting_id}/points").json()["items"][0]["point_id"]
    present = sample(client, "confhub_checkins_total", status="present")
    boards = sample(client, "confhub_websockets_open", kind="board")
    accepted = sample(client, "confhub_websockets_accepted_total", kind="board")
    lag = sample(client, "confhub_live_fanout_lag_seconds_count")
    turns = sample(client, "confhub_writer_wait_seconds_count", priority="checkin")
    held = sample(client, "confhub_writer_held_seconds_count", priority="checkin")
    posted = {"method": "POST", "route": CHECKINS_ROUTE, "status": "201"}
    posts = sample(client, "confhub_http_requests_total", **posted)

    with client.websocket_connect(f"/ws/meetings/{meeting_id}") as board:
        assert board.receive_json()["type"] == "snapshot"
        assert sample(client, "confhub_websockets_open", kind="board") == boards + 1
        answer = {"point_id": point_id, "status": "present", "delegates_present": 2}
        key = {"idempotency_key": uuid.uuid4().hex}
        response = client.post(f"/api/v1/meetings/{meeting_id}/checkins", json=answer | key)
        assert response.status_code == 201
        assert (
            client.post(f"/api/v1/meetings/{meeting_id}/checkins", json=answer | key).status_code
            == 200
        )
        delta = board.receive_json()
        assert delta["type"] == "checkin" and delta["version"] == response.json()["version"]
    # The repeat (same idempotency key) is not a second check-in.
    assert sample(client, "confhub_checkins_total", status="present") == present + 1
    assert sample(client, "confhub_http_requests_total", **posted) == posts + 1
    assert sample(client, "confhub_websockets_accepted_total", kind="board") == accepted + 1
    assert sample(client, "confhub_live_fanout_lag_seconds_count") >= lag + 1
    # The check-in's transaction took its turn in the meeting's writer queue and gave it back.
    assert sample(client, "confhub_writer_wait_seconds_count", priority="checkin") >= turns + 1
    assert sample(client, "confhub_writer_held_seconds_count", priority="checkin") >= held + 1
    assert sample(client, "confhub_websockets_open", kind="board") == boards
    assert sample(client, "confhub_db_pool_checked_out") >= 0


def test_the_hub_closes_every_socket_with_service_restart(
    demo_app: Litestar, demo_seed: DemoSeed
) -> None:
    with TestClient(demo_app) as client:
        login(client, demo_seed.organizer_email, demo_seed.organizer_password)
        with client.websocket_connect(f"/ws/meetings/{demo_seed.upcoming_meeting_id}") as board:
            assert board.receive_json()["type"] == "snapshot"
            closed = client.blocking_portal.call(demo_app.state.live_hub.close_all)
            assert closed == 1
            with pytest.raises(WebSocketDisconnect) as disconnect:
                board.receive_json()
            assert disconnect.value.code == 1012
        deadline = time.monotonic() + 5
        while demo_app.state.live_hub.rooms and time.monotonic() < deadline:
            time.sleep(0.05)  # the handler leaves the hub once the client has gone
        assert demo_app.state.live_hub.rooms == {}


def test_metrics_are_not_in_the_openapi_document(client: TestClient[Litestar]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "/metrics" not in paths and "/readyz" in paths


@pytest.mark.parametrize("broken", ["database", "redis"])
def test_readyz_fails_when_a_backing_service_does(
    demo_db: str, tmp_path: Path, broken: str
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    overrides: dict[str, object] = (
        {"database_url": f"postgresql+asyncpg://confhub@{dead}/confhub"}
        if broken == "database"
        else {"redis_url": f"redis://{dead}/0"}
    )
    settings = make_settings(demo_db, tmp_path).with_overrides(**overrides)
    app = create_app(settings)
    with TestClient(app) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status_code"] == 503
        assert f"{broken}:" in response.json()["detail"]
        assert client.get("/healthz").status_code == 200  # alive, only not ready
