"""`confhub serve` as systemd runs it: proxy headers believed only from trusted proxies, JSON
logs with request ids and no secrets, a SIGTERM that lets in-flight requests finish, and
`--workers` sharing one port (and one /metrics) through Redis."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from confhub.demo import DemoSeed
from tests.conftest import TEST_SECRET, free_port
from tests.helpers.databases import TemplateDb
from tests.helpers.processes import ServedProcess, clean_env, confhub_script
from tests.helpers.services import exclusive_redis_db

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]


def serve_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a served process on a test database, logging JSON."""
    return clean_env(
        CONFHUB_DATABASE_URL=database_url,
        CONFHUB_SECRET_KEY=TEST_SECRET,
        CONFHUB_MEDIA_DIR=str(tmp_path / "media"),
        CONFHUB_LOG_FORMAT="json",
        CONFHUB_SHUTDOWN_TIMEOUT="15",
        **extra,
    )


def trusting_process(database_url: str, tmp_path: Path) -> Iterator[ServedProcess]:
    """One process trusting 127.0.0.1 as its proxy, stopped afterwards."""
    process = ServedProcess(
        "trusting",
        free_port(),
        serve_env(database_url, tmp_path, CONFHUB_TRUSTED_PROXIES="127.0.0.1"),
        tmp_path,
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def served(demo_db: str, tmp_path: Path) -> Iterator[ServedProcess]:
    """A trusting process of the test's own (which the test may stop)."""
    yield from trusting_process(demo_db, tmp_path)


@pytest.fixture(scope="module")
def shared_served(
    demo_template: TemplateDb, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedProcess]:
    """One trusting process for the module's tests that only send it requests and read what it
    answered, logged and measured (a process start costs more than each of them)."""
    folder = tmp_path_factory.mktemp("served")
    yield from trusting_process(demo_template.copy_to(folder), folder)


def test_proxy_headers_are_believed_from_trusted_proxies_only(
    shared_served: ServedProcess, demo_db: str, tmp_path: Path
) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    response = httpx.get(f"{shared_served.url}/healthz", headers=forwarded)
    access = shared_served.access_entry(response.headers["x-request-id"])
    assert (access["client"], access["scheme"]) == ("203.0.113.7", "https")

    env = serve_env(demo_db, tmp_path, CONFHUB_TRUSTED_PROXIES="10.9.8.7, 192.168.50.0/24")
    distrusting = ServedProcess("distrusting", free_port(), env, tmp_path)
    distrusting.start()
    try:
        response = httpx.get(f"{distrusting.url}/healthz", headers=forwarded)
        access = distrusting.access_entry(response.headers["x-request-id"])
        assert (access["client"], access["scheme"]) == ("127.0.0.1", "http")
    finally:
        distrusting.stop()


def test_logs_are_json_lines_with_request_ids_and_no_secrets(
    shared_served: ServedProcess, demo_seed: DemoSeed
) -> None:
    token = demo_seed.cam_tu_token
    page = httpx.get(f"{shared_served.url}/checkin/{token}")
    assert page.status_code == 200
    api = httpx.get(
        f"{shared_served.url}/api/v1/meetings/{demo_seed.upcoming_meeting_id}/attendance?token={token}&lang=en"
    )
    login = httpx.post(
        f"{shared_served.url}/api/v1/auth/login",
        json={"email": demo_seed.organizer_email, "password": demo_seed.organizer_password},
    )
    assert login.status_code == 200
    for response in (page, api, login):
        entry = shared_served.access_entry(response.headers["x-request-id"])
        assert entry["level"] == "info" and entry["logger"] == "confhub.access"
        assert entry["status"] == response.status_code
        assert entry["duration_ms"] >= 0 and entry["time"].endswith("+00:00")
    assert shared_served.access_entry(page.headers["x-request-id"])["path"] == "/checkin/[redacted]"
    assert (
        "token=[redacted]&lang=en"
        in shared_served.access_entry(api.headers["x-request-id"])["path"]
    )
    log = shared_served.log_text()
    assert token not in log and demo_seed.organizer_password not in log
    assert all(line.startswith("{") for line in log.splitlines() if line.strip()), log[-2000:]


def test_garbage_collector_pauses_are_measured(shared_served: ServedProcess) -> None:
    """A serving process times its collector (startup ends with one full collection)."""
    text = httpx.get(f"{shared_served.url}/metrics").text
    full = re.search(r'^confhub_gc_pause_seconds_count\{generation="2"\} (\S+)$', text, re.M)
    assert full is not None, text[:2000]
    assert float(full.group(1)) >= 1
    assert re.search(r'^confhub_gc_pause_seconds_sum\{generation="2"\} (\S+)$', text, re.M)


def test_sigterm_lets_an_in_flight_request_finish(
    served: ServedProcess, demo_seed: DemoSeed
) -> None:
    body = (
        f'{{"email": "{demo_seed.organizer_email}", "password": "{demo_seed.organizer_password}"}}'
    ).encode()
    head = (
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", served.port), timeout=20) as client:
        client.sendall(head + body[:10])
        time.sleep(0.3)  # the request is in flight, its body half sent
        assert served.process is not None
        served.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # New connections are refused at once, so a balancer moves on to another process...
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", served.port), timeout=2).close()
        # ...while the request in flight is still answered.
        client.sendall(body[10:])
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = client.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert served.process.wait(timeout=30) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in served.log_text()


def test_workers_share_one_port_and_one_metrics(
    demo_db: str, redis_url: str, tmp_path: Path
) -> None:
    with exclusive_redis_db(redis_url) as own_redis:
        env = serve_env(demo_db, tmp_path, CONFHUB_REDIS_URL=own_redis)
        workers = ServedProcess("workers", free_port(), env, tmp_path, args=("--workers", "2"))
        workers.start()
        try:
            pids = asyncio.run(_hit(workers.url, 60))
            counts = {_healthz_count(workers.url) for _ in range(8)}
        finally:
            workers.stop()
    # Whichever worker answers the scrape, it reports every worker's requests.
    assert counts == {60.0}, (counts, pids)
    assert len(pids) == 2, f"one worker took every request: {pids}"


async def _hit(url: str, count: int) -> set[str]:
    async def one() -> str:
        async with httpx.AsyncClient() as client:  # a connection each, spread by the kernel
            response = await client.get(f"{url}/healthz")
            assert response.status_code == 200
            return response.headers["x-confhub-process"]

    return set(await asyncio.gather(*(one() for _ in range(count))))


def _healthz_count(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    match = re.search(
        r'^confhub_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$',
        text,
        re.M,
    )
    return float(match.group(1)) if match else 0.0


def test_workers_need_redis(demo_db: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(confhub_script()), "serve", "--port", str(free_port()), "--workers", "2"],
        env=serve_env(demo_db, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("confhub: CONFHUB_REDIS_URL: required with --workers 2")


def test_idle_connections_are_closed(demo_db: str, demo_seed: DemoSeed, tmp_path: Path) -> None:
    env = serve_env(demo_db, tmp_path, CONFHUB_HEADER_TIMEOUT="2")
    process = ServedProcess("deadline", free_port(), env, tmp_path)
    process.start()
    try:
        # Opens and sends nothing: closed once its 2 s for a request's headers are over (the
        # client's own 30 s timeout would fail the test first if the server kept it).
        with socket.create_connection(("127.0.0.1", process.port), timeout=30) as idle:
            assert idle.recv(1) == b""
        # Sends its headers a line a second, for ever: closed all the same.
        with socket.create_connection(("127.0.0.1", process.port), timeout=30) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            assert _lines_until_closed(slow) < 30
        # A request whose headers came in time is answered, and a live socket outlives the
        # deadline: it ends with the headers.
        assert httpx.get(f"{process.url}/healthz").status_code == 200
        asyncio.run(_live_socket_outlives_the_deadline(process, demo_seed))
    finally:
        process.stop()


def _lines_until_closed(slow: socket.socket) -> int:
    """Send a header line a second until the server hangs up; how many were sent."""
    for line in range(30):
        try:
            slow.sendall(f"X-Slow-{line}: 1\r\n".encode())
            if slow.recv(1, socket.MSG_DONTWAIT) == b"":
                return line
        except BlockingIOError:
            pass  # nothing to read: still open
        except OSError:
            return line  # reset by the server
        time.sleep(1)
    return 30


async def _live_socket_outlives_the_deadline(process: ServedProcess, seed: DemoSeed) -> None:
    url = process.url.replace("http://", "ws://", 1)
    url += f"/ws/meetings/{seed.upcoming_meeting_id}?token={seed.cam_tu_token}"
    async with websockets.connect(url) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
        await asyncio.sleep(3)
        await ws.send(json.dumps({"type": "heartbeat", "sent_at": 9}))
        while (reply := json.loads(await ws.recv()))["type"] != "pong":
            pass
        assert reply["sent_at"] == 9
