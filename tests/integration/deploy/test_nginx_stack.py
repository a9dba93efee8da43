"""Through nginx, with the project's site template, in front of two `confhub serve` processes on
PostgreSQL and Redis: any process serves any user, a board hears check-ins handled by the other
process, a SIGTERM sends the board to the surviving process without losing an update, and each
process's /metrics counts what happened.

Which process answered is read from `X-Confhub-Process` (its pid). nginx balances with
`least_conn`, so while a board's websocket is open on one process, new requests go to the other.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import time
import uuid
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from confhub.settings import Settings
from tests.integration.deploy.conftest import LOGIN_RATE_LIMIT, NGINX_LIMITS, Stack

pytestmark = [pytest.mark.integration, pytest.mark.services, pytest.mark.e2e, pytest.mark.slow]

SESSION_COOKIE = "confhub_session"
PROCESS_HEADER = "x-confhub-process"
CHECKIN_ROUTE = "/api/v1/meetings/{meeting_id}/checkins"


async def sign_in(client: httpx.AsyncClient, stack: Stack) -> httpx.Response:
    """The organizer's sign-in through nginx; the client keeps the cookie."""
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": stack.seed.organizer_email, "password": stack.seed.organizer_password},
    )
    assert response.status_code == 200, response.text
    return response


async def open_board(stack: Stack, cookie: str) -> ClientConnection:
    """The meeting's live board, as a browser opens it: through nginx, with its Origin."""
    return await websockets.connect(
        stack.ws_url(stack.seed.upcoming_meeting_id),
        ssl=stack.ssl_context(),
        additional_headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
        origin=stack.url,  # type: ignore[arg-type]
        open_timeout=15,
        max_size=2**24,
    )


async def next_messages(ws: ClientConnection, within: float = 10.0) -> list[dict[str, Any]]:
    """The next frame, with `batch` frames unpacked."""
    frame = json.loads(await asyncio.wait_for(ws.recv(), within))
    return list(frame["messages"]) if frame.get("type") == "batch" else [frame]


async def checkins_until(ws: ClientConnection, versions: set[int]) -> list[dict[str, Any]]:
    """Check-in deltas until every version in `versions` has arrived."""
    seen: list[dict[str, Any]] = []
    while not versions <= {m["version"] for m in seen}:
        seen.extend(m for m in await next_messages(ws) if m["type"] == "checkin")
    return seen


async def close_code(ws: ClientConnection, within: float = 30.0) -> int | None:
    """Read until the server closes the socket; the code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), within)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def post_checkin(client: httpx.AsyncClient, meeting_id: int, point_id: int) -> httpx.Response:
    """The secretariat answers the roll call for one point."""
    response = await client.post(
        f"/api/v1/meetings/{meeting_id}/checkins",
        json={
            "point_id": point_id,
            "status": "present",
            "delegates_present": 3,
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert response.status_code == 201, response.text
    return response


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(4))
    return 0.0


async def scrape(url: str) -> str:
    """A process's /metrics, read directly as Prometheus does."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{url}/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        return response.text


async def test_signed_in_on_one_process_and_served_by_the_other(shared_stack: Stack) -> None:
    async with shared_stack.client() as client:
        login = await sign_in(client, shared_stack)
        signed_in_at = login.headers[PROCESS_HEADER]
        assert "secure" in login.headers["set-cookie"].lower()  # https through nginx
        served_by = set()
        for _ in range(6):
            me = await client.get("/api/v1/auth/me")
            assert me.status_code == 200, me.text
            assert me.json()["email"] == shared_stack.seed.organizer_email
            served_by.add(me.headers[PROCESS_HEADER])
        assert served_by - {signed_in_at}, "nginx never sent the session to the other process"
        assert {str(p.pid) for p in shared_stack.processes} == served_by | {signed_in_at}

        # One request id from nginx to the app and back: nginx's log, the app's, the header.
        request_id = me.headers["x-request-id"]
        access = shared_stack.process_by_pid(me.headers[PROCESS_HEADER]).access_entry(request_id)
        assert access["scheme"] == "https" and access["client"] == "127.0.0.1"
        assert access["route"] == "/api/v1/auth/me" and access["status"] == 200
        await asyncio.sleep(0.2)  # nginx writes its line once the response is sent
        assert request_id in {e["request_id"] for e in shared_stack.nginx.access_log()}


async def test_board_hears_the_other_process_and_survives_its_restart(stack: Stack) -> None:
    meeting_id = stack.seed.upcoming_meeting_id
    async with stack.client() as client:
        await sign_in(client, stack)
        cookie = client.cookies[SESSION_COOKIE]
        points = await client.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 10})
        point_ids = [item["point_id"] for item in points.json()["items"]]

        board = await open_board(stack, cookie)
        board_process = stack.process_by_pid(board.response.headers[PROCESS_HEADER])
        other = next(p for p in stack.processes if p is not board_process)
        (snapshot,) = await next_messages(board)
        assert snapshot["type"] == "snapshot"
        start = snapshot["version"]

        # A check-in handled by the other process reaches the board through Redis.
        first = await post_checkin(client, meeting_id, point_ids[0])
        assert first.headers[PROCESS_HEADER] == str(other.pid), "least_conn chose the board's"
        (delta,) = await checkins_until(board, {first.json()["version"]})
        assert delta["point_id"] == point_ids[0] and delta["version"] == start + 1

        # SIGTERM the board's process: the board is told 1012 (service restart) and the process
        # exits cleanly; meanwhile check-ins keep arriving through nginx.
        stopping = asyncio.create_task(asyncio.to_thread(board_process.terminate))
        assert await close_code(board) == 1012
        during = [await post_checkin(client, meeting_id, p) for p in point_ids[1:3]]
        assert {r.headers[PROCESS_HEADER] for r in during} == {str(other.pid)}
        # uvicorn re-raises the SIGTERM once it has shut down (systemd counts that as clean).
        assert await stopping in (0, -signal.SIGTERM)
        stopped_log = board_process.log_text()
        assert "Application shutdown complete" in stopped_log
        assert "Traceback" not in stopped_log

        # The board reconnects through nginx, lands on the surviving process, and asks for what
        # it missed since the last version it saw: nothing is lost, in order.
        board = await open_board(stack, cookie)
        assert board.response.headers[PROCESS_HEADER] == str(other.pid)
        (snapshot,) = await next_messages(board)
        assert snapshot["version"] == start + 3
        answered = {p["point_id"] for p in snapshot["points"] if p["status"] == "present"}
        assert set(point_ids[:3]) <= answered
        await board.send(json.dumps({"type": "resync", "since": start + 1}))
        missed = await checkins_until(board, {start + 2, start + 3})
        assert [m["version"] for m in missed] == [start + 2, start + 3]
        assert [m["point_id"] for m in missed] == point_ids[1:3]

        # And live again: the next check-in arrives as a delta.
        last = await post_checkin(client, meeting_id, point_ids[3])
        (delta,) = await checkins_until(board, {last.json()["version"]})
        assert delta["version"] == start + 4

        # The surviving process's /metrics counts it all.
        text = await scrape(other.url)
        assert metric(text, "confhub_checkins_total", status="present") == 4
        posts = {"method": "POST", "route": CHECKIN_ROUTE, "status": "201"}
        assert metric(text, "confhub_http_requests_total", **posts) == 4
        assert metric(text, "confhub_http_request_duration_seconds_count", route=CHECKIN_ROUTE) == 4
        assert metric(text, "confhub_websockets_open", kind="board") == 1
        assert metric(text, "confhub_websockets_accepted_total", kind="board") == 1
        # It has fanned out since the board joined it: the last check-in at least.
        assert metric(text, "confhub_live_fanout_lag_seconds_count") >= 1
        assert metric(text, "confhub_live_deltas_delivered_total") >= 1
        assert metric(text, "confhub_db_pool_size") > 0
        assert "confhub_db_pool_checked_out" in text
        await board.close()

    # The stopped process logged the board's socket closing with 1012.
    closes = [
        e
        for e in board_process.log_entries()
        if e.get("logger") == "confhub.access" and e.get("method") == "WEBSOCKET"
    ]
    assert [e["status"] for e in closes] == [1012], closes


async def test_sign_in_attempts_are_counted_across_processes(stack: Stack) -> None:
    wrong = {"email": stack.seed.organizer_email, "password": "not-the-password"}
    right = {"email": stack.seed.organizer_email, "password": stack.seed.organizer_password}
    async with stack.client() as client:
        answered_by = set()
        for _ in range(LOGIN_RATE_LIMIT):
            response = await client.post("/api/v1/auth/login", json=wrong)
            assert response.status_code == 401, response.text
            answered_by.add(response.headers[PROCESS_HEADER])
        assert len(answered_by) == 2  # both processes took attempts...
        refused = await client.post("/api/v1/auth/login", json=right)
        assert refused.status_code == 429, refused.text  # ...and counted them together
        assert refused.json()["status_code"] == 429
    for process in stack.processes:  # in Redis, so each process refuses on its own port too
        async with httpx.AsyncClient(base_url=process.url) as direct:
            response = await direct.post("/api/v1/auth/login", json=right)
            assert response.status_code == 429


async def test_nginx_serves_static_files_and_guards_the_edges(shared_stack: Stack) -> None:
    async with shared_stack.client() as client:
        css = await client.get("/static/css/confhub.css")
        assert css.status_code == 200
        assert PROCESS_HEADER not in css.headers  # nginx answered from disk
        assert css.headers["cache-control"] == "public, max-age=3600"
        assert "etag" in css.headers and "last-modified" in css.headers

        page = await client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
        assert page.status_code == 200
        assert page.headers["strict-transport-security"].startswith("max-age=")
        assert page.headers["referrer-policy"] == "same-origin"
        process = shared_stack.process_by_pid(page.headers[PROCESS_HEADER])
        access = process.access_entry(page.headers["x-request-id"])
        assert access["client"] == "127.0.0.1"  # nginx replaced the client's forged header

        assert (await client.get("/metrics")).status_code == 404
        too_big = await client.post(
            "/api/v1/meetings", content=b"x" * (22 * 1024 * 1024), headers={"Content-Type": "a/b"}
        )
        assert too_big.status_code == 413

        token_url = f"/checkin/{shared_stack.seed.cam_tu_token}"
        assert (await client.get(token_url)).status_code == 200
    await asyncio.sleep(0.2)
    logged = json.dumps(shared_stack.nginx.access_log()) + "".join(
        p.log_text() for p in shared_stack.processes
    )
    assert shared_stack.seed.cam_tu_token not in logged
    assert "/checkin/[redacted]" in logged


async def test_nginx_allows_exactly_the_request_bodies_the_processes_allow(
    shared_stack: Stack,
) -> None:
    limit = Settings(
        database_url=shared_stack.database_url
    ).max_request_body_bytes  # 20 MiB + 64 KiB
    url = f"/api/v1/meetings/{shared_stack.seed.upcoming_meeting_id}/documents"
    garbage = {"Content-Type": "multipart/form-data; boundary=confhub"}
    async with shared_stack.client(timeout=60) as client:
        await sign_in(client, shared_stack)
        pdf = b"%PDF-1.4\n" + b"0" * (15 * 1024 * 1024)
        accepted = await client.post(url, files={"data": ("bao-cao.pdf", pdf, "application/pdf")})
        assert accepted.status_code == 201, accepted.text[:300]
        assert accepted.json()["size_bytes"] == len(pdf)

        # The largest body a process takes passes nginx (the process then finds no form in it)...
        at_limit = await client.post(url, content=b"x" * limit, headers=garbage)
        assert at_limit.status_code == 400
        assert PROCESS_HEADER in at_limit.headers
        # ...one byte more never reaches a process, and is refused in confhub's own words.
        too_big = await client.post(url, content=b"x" * (limit + 1), headers=garbage)
        assert too_big.status_code == 413
        assert PROCESS_HEADER not in too_big.headers
        assert too_big.json() == {
            "status_code": 413,
            "detail": "The file is larger than the limit of 20 MB",
        }
        # A page's form gets a page, in Vietnamese, with the same limit.
        page_url = f"/meetings/{shared_stack.seed.upcoming_meeting_id}/documents"
        too_big_page = await client.post(page_url, content=b"x" * (limit + 1), headers=garbage)
        assert too_big_page.status_code == 413
        assert PROCESS_HEADER not in too_big_page.headers
        assert too_big_page.headers["content-type"].startswith("text/html")
        assert "Tệp lớn hơn giới hạn 20 MB." in too_big_page.text


async def ws_outcome(stack: Stack, cookie: str | None) -> int | ClientConnection:
    """Open the live channel through nginx: the open socket, or the HTTP status that refused
    it (429 from nginx), or the close code the app sent (1008)."""
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else None
    try:
        ws = await websockets.connect(
            stack.ws_url(stack.seed.upcoming_meeting_id),
            ssl=stack.ssl_context(),
            additional_headers=headers,
            origin=stack.url,  # type: ignore[arg-type]
            open_timeout=30,
            max_size=2**24,
        )
    except websockets.InvalidStatus as refused:
        assert PROCESS_HEADER not in refused.response.headers  # nginx's answer, not the app's
        return refused.response.status_code
    if cookie is None:
        code = await close_code(ws)
        assert code is not None
        return code
    return ws


async def refused_by_reason(stack: Stack, reason: str) -> float:
    """Handshakes the processes refused for `reason`, summed over both."""
    texts = [await scrape(p.url) for p in stack.processes]
    return sum(metric(t, "confhub_websockets_refused_total", reason=reason) for t in texts)


async def test_nginx_limits_live_sockets_per_address(stack: Stack) -> None:
    limits = NGINX_LIMITS
    async with stack.client() as client:
        await sign_in(client, stack)
        cookie = client.cookies[SESSION_COOKIE]

    # A flood without credentials from one address: nginx lets the burst through to the app
    # (which refuses each with 1008, asking nothing of the database), and answers the rest
    # itself with 429.
    flood = 100
    started = time.monotonic()
    ended = await asyncio.gather(*(ws_outcome(stack, None) for _ in range(flood)))
    refilled = (time.monotonic() - started) * limits["ws_handshakes_per_second"]
    assert set(ended) == {1008, 429}, ended
    reached_the_app = ended.count(1008)
    assert reached_the_app <= 1 + limits["ws_handshake_burst"] + refilled
    assert await refused_by_reason(stack, "credentials") == reached_the_app

    # Normal use passes once the burst has refilled: boards open, up to the number one address
    # may hold; the next is refused by nginx, and closing one makes room again.
    await asyncio.sleep(limits["ws_handshake_burst"] / limits["ws_handshakes_per_second"] + 1)
    boards = []
    for _ in range(limits["ws_connections_per_address"]):
        board = await ws_outcome(stack, cookie)
        assert isinstance(board, ClientConnection), board
        (snapshot,) = await next_messages(board)
        assert snapshot["type"] == "snapshot"
        boards.append(board)
    assert await ws_outcome(stack, cookie) == 429
    await boards.pop().close()
    await asyncio.sleep(0.5)
    again = await ws_outcome(stack, cookie)
    assert isinstance(again, ClientConnection)
    for board in [*boards, again]:
        await board.close()


async def test_nginx_limits_sign_in_attempts_per_address(stack: Stack) -> None:
    async with stack.client() as client:
        page = await client.get("/login")
        assert page.status_code == 200
        # Posts without the form's CSRF token: the app refuses each at once (403), nginx counts
        # them all; past the burst nginx answers 429 itself.
        answers = [
            await client.post("/login", data={"email": "x", "password": "y"})
            for _ in range(NGINX_LIMITS["signin_burst"] + 5)
        ]
        by_app = [r for r in answers if PROCESS_HEADER in r.headers]
        by_nginx = [r for r in answers if PROCESS_HEADER not in r.headers]
        assert {r.status_code for r in by_app} == {403}
        assert by_nginx and {r.status_code for r in by_nginx} == {429}
        assert len(by_app) <= NGINX_LIMITS["signin_burst"] + 1 + 1
        # Showing the form is not limited.
        assert (await client.get("/login")).status_code == 200


def test_nginx_closes_a_connection_that_sends_nothing(shared_stack: Stack) -> None:
    port = int(shared_stack.url.rsplit(":", 1)[1])
    # client_header_timeout is 10 s (docs/deploy.md); the client gives up itself after 20 s.
    with socket.create_connection(("127.0.0.1", port), timeout=20) as idle:
        assert idle.recv(1) == b""  # nginx hung up
