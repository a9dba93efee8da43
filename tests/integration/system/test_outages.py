"""Outages of Redis and PostgreSQL under two `confhub serve` processes, for real.

Each test runs its own PostgreSQL cluster and its own Redis server on free ports (never the
machine's services: tests/helpers/private_services.py), starts processes A and B on them, then
takes one dependency away mid-test and brings it back. What a user notices is asserted: public
pages keep answering while Redis is away, a check-in is stored and never answered with a 500,
signed-in requests get 503 with `Retry-After` and a Vietnamese page, live sockets stay open, and
everything works again once the dependency is back, without restarting the processes.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from confhub.attendance.hub import channel_name
from confhub.attendance.runtime import live_namespace
from confhub.demo import DemoSeed
from tests.conftest import TEST_SECRET, skip_or_fail
from tests.helpers.private_services import (
    PrivatePostgres,
    PrivateRedis,
    clone_database,
    free_port,
    postgres_bin_dir,
    seeded_template,
)
from tests.helpers.processes import ServedProcess, clean_env
from tests.integration.attendance.conftest import (
    connect,
    login_cookie,
    point_tokens,
    recv_frame,
    recv_message,
)

pytestmark = [pytest.mark.integration, pytest.mark.services, pytest.mark.slow]

TEMPLATE = "confhub_outage_template"
SESSION_COOKIE = "confhub_session"
HTML = {"Accept": "text/html"}
PUBLIC_PATHS = ("/", "/news", "/news/feed.atom", "/calendar/provinces/38.ics")


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[tuple[PrivatePostgres, DemoSeed]]:
    """This module's own PostgreSQL cluster with a seeded template database."""
    if postgres_bin_dir() is None:
        skip_or_fail("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        yield cluster, seeded_template(cluster, TEMPLATE)
    finally:
        cluster.destroy()


@dataclass
class Deployment:
    """Processes A and B over a private PostgreSQL database and a private Redis."""

    postgres: PrivatePostgres
    redis: PrivateRedis
    database: str
    a: ServedProcess
    b: ServedProcess
    seed: DemoSeed

    @property
    def meeting_id(self) -> int:
        """The upcoming conference (scheduled, 166 points)."""
        return self.seed.upcoming_meeting_id

    def ws_url(self, process: ServedProcess, token: str | None = None) -> str:
        """A process's live channel of the meeting."""
        query = f"?token={token}" if token else ""
        return f"ws://127.0.0.1:{process.port}/ws/meetings/{self.meeting_id}{query}"

    async def wait_ready(self) -> None:
        """Until both processes' /readyz answer 200 again."""
        deadline = time.monotonic() + 20
        async with httpx.AsyncClient(timeout=3) as client:
            for process in (self.a, self.b):
                while (await _status(client, f"{process.url}/readyz")) != 200:
                    assert time.monotonic() < deadline, f"{process.name} not ready again"
                    await asyncio.sleep(0.1)

    def server_errors(self) -> list[dict[str, Any]]:
        """Access lines of either process that answered 500 (there must be none)."""
        return [
            entry
            for process in (self.a, self.b)
            for entry in process.log_entries()
            if entry.get("logger") == "confhub.access" and entry.get("status") == 500
        ]


async def _status(client: httpx.AsyncClient, url: str) -> int:
    try:
        return (await client.get(url)).status_code
    except httpx.HTTPError:
        return 0


@pytest.fixture
async def deployment(
    private_postgres: tuple[PrivatePostgres, DemoSeed], tmp_path: Path
) -> AsyncIterator[Deployment]:
    """A fresh copy of the template, a fresh Redis, processes A and B; all stopped afterwards."""
    cluster, seed = private_postgres
    if not cluster.running:  # an earlier test failed during its outage
        cluster.start()
    database_url = await clone_database(cluster, TEMPLATE, "confhub_outage")
    redis = PrivateRedis()
    redis.start()
    port_a, port_b = free_port(), free_port()
    env = clean_env(
        CONFHUB_DATABASE_URL=database_url,
        CONFHUB_REDIS_URL=redis.url(),
        CONFHUB_SECRET_KEY=TEST_SECRET,
        CONFHUB_BASE_URL=f"http://127.0.0.1:{port_a}",
        CONFHUB_MEDIA_DIR=str(tmp_path / "media"),
        CONFHUB_DEFAULT_PROVINCE="38",
        CONFHUB_LOG_FORMAT="json",
    )
    a = ServedProcess("a", port_a, env, tmp_path)
    b = ServedProcess("b", port_b, env, tmp_path)
    try:
        await asyncio.gather(asyncio.to_thread(a.start), asyncio.to_thread(b.start))
        yield Deployment(cluster, redis, database_url, a, b, seed)
    finally:
        if not cluster.running:
            cluster.start()
        await asyncio.gather(asyncio.to_thread(a.stop), asyncio.to_thread(b.stop))
        redis.destroy()


async def session_keys(redis: PrivateRedis) -> list[bytes]:
    """The sessions stored in Redis."""
    client = Redis.from_url(redis.url())
    try:
        return list(await client.keys("confhub:sessions*"))
    finally:
        await client.aclose()


async def checkin(
    client: httpx.AsyncClient, meeting_id: int, point: tuple[int, str], key: str, n: int
) -> httpx.Response:
    """A check-in through a check-in link, over HTTP."""
    point_id, token = point
    return await client.post(
        f"/api/v1/meetings/{meeting_id}/checkins",
        json={
            "point_id": point_id,
            "status": "present",
            "delegates_present": n,
            "idempotency_key": key,
        },
        headers={"X-Checkin-Token": token},
    )


def is_checkin_of(point_id: int) -> Any:
    """Accepts the board's check-in delta of one point."""
    return lambda m: m.get("type") == "checkin" and m.get("point_id") == point_id


def assert_unavailable(response: httpx.Response) -> None:
    """503 with a Retry-After in seconds."""
    assert response.status_code == 503, (response.status_code, response.text[:500])
    assert int(response.headers["retry-after"]) > 0


def assert_unavailable_page(response: httpx.Response) -> None:
    """The browser's 503: a Vietnamese page saying to try again shortly."""
    assert_unavailable(response)
    assert response.headers["content-type"].startswith("text/html")
    assert "Dịch vụ tạm thời gián đoạn" in response.text, response.text[:2000]


def assert_unavailable_json(response: httpx.Response) -> None:
    """The API's 503: the contract's error body."""
    assert_unavailable(response)
    body = response.json()
    assert body["status_code"] == 503 and body["detail"], body


async def test_redis_outage_keeps_public_pages_and_checkins_and_recovers(
    deployment: Deployment,
) -> None:
    d = deployment
    meeting = d.meeting_id
    cookie = await login_cookie(d.a.url, d.seed.organizer_email, d.seed.organizer_password)
    tokens = await point_tokens(d.a.url, cookie, meeting)
    p1, p2, p3 = sorted(tokens.items())[:3]
    board = await connect(d.ws_url(d.b), cookie=cookie)
    assert (await recv_frame(board))["type"] == "snapshot"

    # Anonymous visitors and check-in links neither get a session cookie nor make one in Redis.
    async with httpx.AsyncClient(base_url=d.a.url, timeout=10) as anonymous:
        for path in (*PUBLIC_PATHS, f"/checkin/{p1[1]}"):
            response = await anonymous.get(path, headers=HTML)
            assert response.status_code == 200, (path, response.status_code)
            assert SESSION_COOKIE not in response.headers.get("set-cookie", ""), path
        answer = await checkin(anonymous, meeting, p1, "before-outage", 3)
        assert answer.status_code == 201, answer.text
        assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    assert len(await session_keys(d.redis)) == 1  # the organizer's, and nobody else's

    d.redis.kill()

    # Public pages and check-ins need only PostgreSQL.
    for process in (d.a, d.b):
        async with httpx.AsyncClient(base_url=process.url, timeout=10) as anonymous:
            for path in (*PUBLIC_PATHS, f"/checkin/{p2[1]}"):
                response = await anonymous.get(path, headers=HTML)
                assert response.status_code == 200, (process.name, path, response.status_code)
    async with httpx.AsyncClient(base_url=d.a.url, timeout=10) as anonymous:
        answer = await checkin(anonymous, meeting, p2, "during-redis-outage", 7)
        assert answer.status_code == 201, answer.text
        again = await checkin(anonymous, meeting, p2, "during-redis-outage", 7)
        assert again.status_code == 200, again.text
    # The board on B still hears of it (from the database, without Redis's fan-out).
    delta = await recv_message(board, is_checkin_of(p2[0]), within=10)
    assert delta["delegates_present"] == 7

    # A point's socket opened during the outage gets its snapshot and its answers stored.
    point = await connect(d.ws_url(d.a, p3[1]))
    assert (await recv_frame(point))["type"] == "snapshot"
    answer = {"type": "checkin", "point_id": p3[0], "status": "present",
              "delegates_present": 5, "idempotency_key": "socket-outage"}  # fmt: skip
    await point.send(json.dumps(answer))
    ack = await recv_message(point, lambda m: m.get("type") == "ack", within=10)
    assert ack["idempotency_key"] == "socket-outage"
    await recv_message(board, is_checkin_of(p3[0]), within=10)

    # Signed-in requests need their session, which lives in Redis: 503, not 500.
    async with httpx.AsyncClient(
        base_url=d.b.url, cookies={SESSION_COOKIE: cookie}, timeout=10
    ) as staff:
        assert_unavailable_json(await staff.get(f"/api/v1/meetings/{meeting}/attendance"))
        assert_unavailable_page(await staff.get("/meetings", headers=HTML))
    async with httpx.AsyncClient(base_url=d.a.url, timeout=10) as anonymous:
        sign_in = await anonymous.post(
            "/api/v1/auth/login",
            json={"email": d.seed.organizer_email, "password": d.seed.organizer_password},
        )
        assert_unavailable_json(sign_in)

    d.redis.start()
    await d.wait_ready()

    # Sessions were in the Redis that died (without persistence): sign in again, and everything
    # stored during the outage is there.
    cookie = await login_cookie(d.b.url, d.seed.organizer_email, d.seed.organizer_password)
    async with httpx.AsyncClient(
        base_url=d.a.url, cookies={SESSION_COOKIE: cookie}, timeout=10
    ) as staff:
        state = (await staff.get(f"/api/v1/meetings/{meeting}/attendance")).json()
    stored = {p["point_id"]: p["delegates_present"] for p in state["points"]}
    assert (stored[p1[0]], stored[p2[0]], stored[p3[0]]) == (3, 7, 5)

    # Both processes subscribe to the meeting's channel in the new Redis, and the board on B
    # gets later deltas.
    channel = channel_name(meeting, live_namespace(d.redis.url()))
    client = Redis.from_url(d.redis.url())
    try:
        deadline = time.monotonic() + 15
        while dict(await client.pubsub_numsub(channel)).get(channel.encode(), 0) < 2:
            assert time.monotonic() < deadline, "the live channel was not subscribed again"
            await asyncio.sleep(0.2)
    finally:
        await client.aclose()
    async with httpx.AsyncClient(base_url=d.a.url, timeout=10) as anonymous:
        answer = await checkin(anonymous, meeting, p1, "after-outage", 4)
        assert answer.status_code == 201, answer.text
    delta = await recv_message(board, is_checkin_of(p1[0]), within=5)
    assert delta["delegates_present"] == 4
    await board.close()
    await point.close()
    assert d.server_errors() == []
    # Deltas that could not be published during the outage left nothing pending: both
    # processes stop on SIGTERM, as systemd stops them, well within its shutdown budget
    # (uvicorn ends by raising the signal again once it has shut down gracefully).
    for code in await asyncio.gather(*(stopped(p) for p in (d.a, d.b))):
        assert code in (0, -signal.SIGTERM)


async def stopped(process: ServedProcess, within: float = 15) -> int:
    """SIGTERM; the exit code, or a failure when it does not stop within `within` seconds."""
    assert process.process is not None
    process.process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.to_thread(process.process.wait, within)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"{process.name} still runs {within} s after SIGTERM:\n{process.log_text()[-3000:]}"
        )


async def stored_answers(d: Deployment, key: str) -> int:
    """How many check-in records carry an idempotency key (straight from the database)."""
    connection = await asyncpg.connect(d.postgres.dsn("confhub_outage"))
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM checkin_record WHERE idempotency_key = $1", key
        )
    finally:
        await connection.close()
    return int(count)


async def test_postgres_outage_answers_503_keeps_sockets_open_and_recovers(
    deployment: Deployment,
) -> None:
    d = deployment
    meeting = d.meeting_id
    cookie = await login_cookie(d.a.url, d.seed.organizer_email, d.seed.organizer_password)
    tokens = await point_tokens(d.a.url, cookie, meeting)
    p1, p2 = sorted(tokens.items())[:2]
    board = await connect(d.ws_url(d.a), cookie=cookie)
    assert (await recv_frame(board))["type"] == "snapshot"
    point = await connect(d.ws_url(d.b, p1[1]))
    snapshot = await recv_frame(point)
    assert snapshot["type"] == "snapshot"

    d.postgres.stop()

    async with httpx.AsyncClient(base_url=d.a.url, timeout=10) as anonymous:
        assert_unavailable_page(await anonymous.get("/news", headers=HTML))
        assert_unavailable_json(await checkin(anonymous, meeting, p2, "http-outage", 2))
    async with httpx.AsyncClient(
        base_url=d.b.url, cookies={SESSION_COOKIE: cookie}, timeout=10
    ) as staff:
        assert_unavailable_json(await staff.get(f"/api/v1/meetings/{meeting}/attendance"))

    # The point's socket stays open; its check-in is refused with "send it again".
    answer = {"type": "checkin", "point_id": p1[0], "status": "present",
              "delegates_present": 9, "idempotency_key": "socket-pg-outage"}  # fmt: skip
    await point.send(json.dumps(answer))
    error = await recv_message(point, lambda m: m.get("type") == "error", within=10)
    assert error["idempotency_key"] == "socket-pg-outage"
    assert error["retry"] is True, error
    await point.send(json.dumps({"type": "heartbeat", "sent_at": 1}))
    assert (await recv_message(point, lambda m: m.get("type") == "pong"))["sent_at"] == 1
    await board.send(json.dumps({"type": "resync", "since": 1}))
    error = await recv_message(board, lambda m: m.get("type") == "error", within=10)
    assert error["retry"] is True, error

    d.postgres.start()
    await d.wait_ready()

    # The resend is stored once and acknowledged; a repeat is the same record.
    await point.send(json.dumps(answer))
    ack = await recv_message(point, lambda m: m.get("type") == "ack", within=10)
    assert (ack["idempotency_key"], ack["duplicate"]) == ("socket-pg-outage", False)
    await point.send(json.dumps(answer))
    again = await recv_message(point, lambda m: m.get("type") == "ack", within=10)
    assert (again["version"], again["duplicate"]) == (ack["version"], True)
    assert await stored_answers(d, "socket-pg-outage") == 1
    delta = await recv_message(board, is_checkin_of(p1[0]), within=10)
    assert delta["delegates_present"] == 9

    # Presence is stored and broadcast again: a point connecting now shows online on the board.
    second = await connect(d.ws_url(d.b, p2[1]))
    await recv_frame(second)
    online = await recv_message(
        board,
        lambda m: m.get("type") == "presence" and m.get("point_id") == p2[0],
        within=15,
    )
    assert online["presence"] == "online"
    for socket in (board, point, second):
        await socket.close()
    assert d.server_errors() == []


async def test_a_signed_in_checkin_committed_as_redis_dies_is_answered_as_stored(
    deployment: Deployment,
) -> None:
    """The secretariat enters a point's answer taken by phone; Redis dies after the request read
    its session and before the answer is stored. The answer is stored, so it is answered as
    stored (the session's renewal is what is skipped), never as a failure."""
    d = deployment
    meeting = d.meeting_id
    cookie = await login_cookie(d.a.url, d.seed.organizer_email, d.seed.organizer_password)
    point_id = sorted(await point_tokens(d.a.url, cookie, meeting))[0]
    # Hold the meeting's row, which every check-in's transaction updates, so the request waits
    # between reading its session and committing.
    holder = await asyncpg.connect(d.postgres.dsn("confhub_outage"))
    try:
        hold = holder.transaction()
        await hold.start()
        await holder.execute("SELECT id FROM meeting WHERE id = $1 FOR UPDATE", meeting)
        async with httpx.AsyncClient(
            base_url=d.a.url, cookies={SESSION_COOKIE: cookie}, timeout=20
        ) as staff:
            request = asyncio.create_task(
                staff.post(
                    f"/api/v1/meetings/{meeting}/checkins",
                    json={"point_id": point_id, "status": "present", "delegates_present": 11,
                          "idempotency_key": "by-phone"},
                )
            )  # fmt: skip
            await asyncio.sleep(1.0)
            assert not request.done(), (await request).text
            d.redis.kill()
            await hold.rollback()
            response = await request
    finally:
        await holder.close()
    assert response.status_code == 201, response.text
    assert response.json()["idempotency_key"] == "by-phone"
    assert await stored_answers(d, "by-phone") == 1
    assert d.server_errors() == []


async def test_the_checkin_form_without_script_answers_an_outage_with_the_retry_page(
    deployment: Deployment,
) -> None:
    """A chair without script sends the check-in page's form while PostgreSQL is down: the
    503 page says to try again shortly and nothing is stored; the same form sent again once
    the database is back is stored once, and a double submit is still one answer."""
    d = deployment
    meeting = d.meeting_id
    cookie = await login_cookie(d.a.url, d.seed.organizer_email, d.seed.organizer_password)
    _point_id, token = sorted((await point_tokens(d.a.url, cookie, meeting)).items())[0]
    form = {"status": "present", "delegates_present": "6", "idempotency_key": "form-pg-outage"}
    async with httpx.AsyncClient(base_url=d.b.url, timeout=10) as browser:
        assert (await browser.get(f"/checkin/{token}", headers=HTML)).status_code == 200
        body = {**form, "_csrf_token": str(browser.cookies.get("confhub_csrf"))}

        d.postgres.stop()
        refused = await browser.post(f"/checkin/{token}", data=body, headers=HTML)
        assert_unavailable_page(refused)
        d.postgres.start()
        await d.wait_ready()

        for _ in range(2):
            sent = await browser.post(f"/checkin/{token}", data=body, headers=HTML)
            assert sent.status_code == 303, sent.text[:500]
            assert "stored=form-pg-outage" in sent.headers["location"]
    assert await stored_answers(d, "form-pg-outage") == 1
    assert d.server_errors() == []
