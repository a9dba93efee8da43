"""Floods of live-channel handshakes without a usable credential: refused before any database
work, a point checking in meanwhile is answered, one address's handshakes are limited per
minute, and a link remembered by the process stops opening sockets once revoked.

Statements are counted on the served app's own engine and told apart by the request id each
socket sends (`X-Request-Id`), which confhub keeps for all the work done for that socket.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from litestar import Litestar
from sqlalchemy import event

from confhub.app import create_app
from confhub.demo import DemoSeed
from confhub.system.logs import REQUEST_ID
from tests.conftest import free_port, make_settings
from tests.e2e.conftest import LiveServer
from tests.helpers.services import exclusive_redis_db
from tests.integration.attendance.conftest import (
    SESSION_COOKIE,
    Served,
    close_code,
    login_cookie,
    recv_frame,
    recv_message,
)

pytestmark = pytest.mark.integration

MADE_UP_TOKEN = "A" * 22  # well-formed, and no link's


@dataclass
class Statements:
    """SQL statements the served app ran, by the request id of the socket they were run for."""

    by_request: list[tuple[str, str]] = field(default_factory=list)

    def listen(self, app: Litestar) -> None:
        """Count every statement of `app`'s engine from now on."""
        engine = app.state.db_config.get_engine().sync_engine
        event.listen(engine, "before_cursor_execute", lambda *a: self._count(a[2]))

    def _count(self, statement: str) -> None:
        self.by_request.append((REQUEST_ID.get() or "", statement))

    def of(self, prefix: str, reading: str = "") -> int:
        """How many were run for sockets whose request id starts with `prefix` (those whose
        SQL has `reading` in it)."""
        return sum(
            request_id.startswith(prefix) and reading in statement
            for request_id, statement in self.by_request
        )


@dataclass
class App:
    """A served app, its statements counted."""

    served: Served
    app: Litestar
    statements: Statements


Serve = Callable[..., AbstractContextManager[App]]


@pytest.fixture
def serve(demo_db: str, demo_seed: DemoSeed, tmp_path: Path) -> Serve:
    """Serve the demo app (settings overridden by keywords), counting its statements."""

    @contextmanager
    def served(**overrides: Any) -> Iterator[App]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        app = create_app(make_settings(demo_db, tmp_path, base_url=url, **overrides))
        statements = Statements()
        with LiveServer(app, port):
            statements.listen(app)
            yield App(Served(url=url, seed=demo_seed, database_url=demo_db), app, statements)

    return served


async def refused_with(
    url: str, request_id: str, headers: dict[str, str] | None = None, origin: str | None = None
) -> int | None:
    """Open a socket as a client would and read how the server ends it: a close code, or the
    HTTP status of a refused upgrade."""
    try:
        ws = await websockets.connect(
            url,
            additional_headers={"X-Request-Id": request_id, **(headers or {})},
            origin=origin,  # type: ignore[arg-type]
            open_timeout=30,
        )
    except websockets.InvalidStatus as refused:
        return refused.response.status_code
    return await close_code(ws, within=30)


def flood_sockets(served: Served, count: int) -> list[tuple[str, dict[str, Any]]]:
    """`count` sockets that cannot watch, of every kind the gate refuses without I/O."""
    base = served.url.replace("http://", "ws://", 1) + "/ws/meetings"
    meeting = served.meeting_id
    kinds: list[tuple[str, dict[str, Any]]] = [
        (f"{base}/{meeting}", {}),  # no credential
        (f"{base}/{meeting}?token=not-a-token", {}),
        (f"{base}/{meeting}?token={'x' * 300}", {}),
        (f"{base}/{meeting}", {"headers": {"Cookie": f"{SESSION_COOKIE}=forged"}}),
        (f"{base}/{meeting}?token={served.seed.cam_tu_token}", {"origin": "https://evil.example"}),
        (f"{base}/{2**63}?token={served.seed.cam_tu_token}", {}),  # no such id
        (f"{base}/0?token={served.seed.cam_tu_token}", {}),
        (f"{base}/987654321", {}),  # an unknown meeting, without a credential
    ]
    return [kinds[n % len(kinds)] for n in range(count)]


async def flood(served: Served, count: int, prefix: str = "flood") -> list[int | None]:
    """Open `count` refused sockets, 50 at a time; how each ended."""
    gate = asyncio.Semaphore(50)

    async def one(number: int, url: str, options: dict[str, Any]) -> int | None:
        async with gate:
            return await refused_with(url, f"{prefix}-{number:06d}", **options)

    sockets = flood_sockets(served, count)
    return await asyncio.gather(*(one(n, url, o) for n, (url, o) in enumerate(sockets)))


async def test_a_flood_without_credentials_asks_the_database_nothing(serve: Serve) -> None:
    with serve() as served:
        ended = await flood(served.served, 400)
        assert ended == [1008] * 400
        assert served.statements.of("flood-") == 0
        # The count is real: a point's socket asks for its link and its snapshot.
        link = await websockets.connect(
            served.served.ws_url(served.served.meeting_id, served.served.seed.cam_tu_token),
            additional_headers={"X-Request-Id": "control-000001"},
        )
        assert (await recv_frame(link))["type"] == "snapshot"
        assert served.statements.of("control-") > 0
        await link.close()


async def test_a_made_up_token_sent_again_and_again_is_looked_up_once(serve: Serve) -> None:
    with serve() as served:
        url = served.served.ws_url(served.served.meeting_id, MADE_UP_TOKEN)
        for number in range(30):
            assert await refused_with(url, f"madeup-{number:06d}") == 1008
        assert served.statements.of("madeup-") == 1


async def test_a_point_checks_in_during_a_flood(serve: Serve) -> None:
    with serve() as served:
        site = served.served
        link = await websockets.connect(site.ws_url(site.meeting_id, site.seed.cam_tu_token))
        point_id = (await recv_frame(link))["points"][0]["point_id"]
        flooding = asyncio.create_task(flood(site, 600))
        await asyncio.sleep(0.2)
        key = f"during-flood-{time.time_ns()}"
        await link.send(
            json.dumps(
                {"type": "checkin", "point_id": point_id, "status": "present"}
                | {"delegates_present": 7, "idempotency_key": key}
            )
        )
        ack = await recv_message(link, lambda m: m["type"] in ("ack", "error"), within=60)
        ended = await flooding
        assert (ack["type"], ack["idempotency_key"]) == ("ack", key)
        assert ended == [1008] * 600
        assert served.statements.of("flood-") == 0  # the flood never waited on the database
        await link.send(json.dumps({"type": "heartbeat", "sent_at": 1}))
        assert (await recv_message(link, lambda m: m["type"] == "pong"))["sent_at"] == 1
        await link.close()


async def open_point(served: Served, request_id: str) -> websockets.ClientConnection:
    """A point's socket by its check-in link; fails unless the snapshot arrives."""
    ws = await websockets.connect(
        served.ws_url(served.meeting_id, served.seed.cam_tu_token),
        additional_headers={"X-Request-Id": request_id},
    )
    assert (await recv_frame(ws))["type"] == "snapshot"
    return ws


async def refused_status(served: Served) -> tuple[int, str]:
    """The HTTP status and Retry-After of a handshake refused before the upgrade."""
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    response = refused.value.response
    return response.status_code, response.headers.get("Retry-After", "")


async def test_handshakes_past_the_limit_are_refused_until_the_window_ends(serve: Serve) -> None:
    with serve(ws_handshakes_per_minute=3) as served:
        served.app.state.handshake_throttle.window = 2  # a short minute for the test
        site = served.served
        points = [await open_point(site, f"limit-{n:06d}") for n in range(3)]
        status, retry_after = await refused_status(site)
        assert status == 429 and 1 <= int(retry_after) <= 2
        # Sockets already open are untouched: they still answer.
        await points[0].send(json.dumps({"type": "heartbeat", "sent_at": 5}))
        assert (await recv_message(points[0], lambda m: m["type"] == "pong"))["sent_at"] == 5
        await asyncio.sleep(int(retry_after) + 0.5)
        points.append(await open_point(site, "limit-again1"))
        for ws in points:
            await ws.close()


async def test_the_limit_is_counted_across_processes_in_redis(
    demo_db: str, demo_seed: DemoSeed, tmp_path: Path, redis_url: str
) -> None:
    with exclusive_redis_db(redis_url) as own_redis:
        from redis.asyncio import Redis

        redis = Redis.from_url(own_redis)
        await redis.flushdb()
        apps = []
        for _ in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            settings = make_settings(
                demo_db, tmp_path, base_url=url, redis_url=own_redis, ws_handshakes_per_minute=4
            )
            apps.append((LiveServer(create_app(settings), port), Served(url, demo_seed, demo_db)))
        try:
            for server, _ in apps:
                server.__enter__()
            (_, first), (_, second) = apps
            opened = [
                await open_point(site, f"shared-{n:06d}")
                for n, site in enumerate([first, second, first, second])
            ]
            assert (await refused_status(first))[0] == 429
            assert (await refused_status(second))[0] == 429
            for ws in opened:
                await ws.close()
        finally:
            for server, _ in apps:
                server.__exit__(None, None, None)
            await redis.flushdb()
            await redis.aclose()


async def test_handshakes_arriving_together_are_each_counted_in_redis(
    demo_db: str, demo_seed: DemoSeed, tmp_path: Path, redis_url: str
) -> None:
    # Handshakes asked while a count runs in Redis are counted together in the next one: ten at
    # once from one address under a limit of six let exactly six in, however they were grouped.
    with exclusive_redis_db(redis_url) as own_redis:
        from redis.asyncio import Redis

        redis = Redis.from_url(own_redis)
        await redis.flushdb()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = make_settings(
            demo_db, tmp_path, base_url=url, redis_url=own_redis, ws_handshakes_per_minute=6
        )
        site = Served(url, demo_seed, demo_db)
        try:
            with LiveServer(create_app(settings), port):
                outcomes = await asyncio.gather(
                    *(open_point(site, f"together-{n:04d}") for n in range(10)),
                    return_exceptions=True,
                )
                opened = [ws for ws in outcomes if isinstance(ws, websockets.ClientConnection)]
                refused = [
                    exc.response.status_code
                    for exc in outcomes
                    if isinstance(exc, websockets.InvalidStatus)
                ]
                assert (len(opened), refused) == (6, [429] * 4)
                for ws in opened:
                    await ws.close()
        finally:
            await redis.flushdb()
            await redis.aclose()


async def revoke(served: Served, cookie: str, point_id: int, action: str = "revoke") -> str | None:
    """Revoke or re-issue a point's link through the API; the new token, if any."""
    async with httpx.AsyncClient(base_url=served.url, cookies={SESSION_COOKIE: cookie}) as http:
        response = await http.post(
            f"/api/v1/meetings/{served.meeting_id}/points/{point_id}/checkin-link/{action}"
        )
        assert response.status_code == 200, response.text
        url = response.json().get("checkin_url")
        return url.rsplit("/", 1)[-1] if url else None


async def test_a_revoked_link_opens_no_new_socket(serve: Serve) -> None:
    with serve() as served:
        site = served.served
        link = await open_point(site, "before-revoke")  # the process now remembers the link
        await link.close()
        cookie = await login_cookie(
            site.url, site.seed.organizer_email, site.seed.organizer_password
        )
        points = await _points(site, cookie)
        point_id = points[site.seed.cam_tu_token]
        await revoke(site, cookie, point_id)
        url = site.ws_url(site.meeting_id, site.seed.cam_tu_token)
        assert await refused_with(url, "after-revoke1") == 1008

        new_token = await revoke(site, cookie, point_id, "reissue")
        assert new_token and new_token != site.seed.cam_tu_token
        fresh = await websockets.connect(site.ws_url(site.meeting_id, new_token))
        assert (await recv_frame(fresh))["type"] == "snapshot"
        await fresh.close()
        await revoke(site, cookie, point_id, "reissue")  # the remembered new link, replaced
        assert await refused_with(site.ws_url(site.meeting_id, new_token), "replaced-1") == 1008


async def test_a_link_read_with_its_meetings_links_opens_no_socket_once_revoked(
    serve: Serve,
) -> None:
    with serve() as served:
        site = served.served
        cookie = await login_cookie(
            site.url, site.seed.organizer_email, site.seed.organizer_password
        )
        points = await _points(site, cookie)
        other = next(token for token in points if token != site.seed.cam_tu_token)
        first = await open_point(site, "together-1")  # reads every link of the meeting
        await first.close()
        assert served.statements.of("together-", "checkin_token") == 1
        other_url = site.ws_url(site.meeting_id, other)
        read_with_it = await websockets.connect(
            other_url, additional_headers={"X-Request-Id": "other-1"}
        )
        assert (await recv_frame(read_with_it))["type"] == "snapshot"
        await read_with_it.close()
        assert served.statements.of("other-", "checkin_token") == 0  # no lookup of its own

        await revoke(site, cookie, points[other])
        assert await refused_with(other_url, "other-revoked-1") == 1008
        new_token = await revoke(site, cookie, points[other], "reissue")
        assert new_token
        fresh = await websockets.connect(site.ws_url(site.meeting_id, new_token))
        assert (await recv_frame(fresh))["type"] == "snapshot"
        await fresh.close()


async def test_sockets_joining_together_open_the_meetings_room_once(serve: Serve) -> None:
    # A thousand sockets let in together (the storm, their links remembered) each read the
    # meeting's version to open its room while the first was still opening it.
    with serve() as served:
        site = served.served
        first = await open_point(site, "room-first")  # its link is remembered now
        await first.close()
        hub = served.app.state.live_hub
        for _ in range(200):  # until the last client's leaving closed the room
            if not hub.rooms:
                break
            await asyncio.sleep(0.05)
        assert not hub.rooms
        together = await asyncio.gather(*(open_point(site, f"room-{n:06d}") for n in range(10)))
        # One for the first socket's room, one for the ten's.
        assert served.statements.of("room-", "SELECT meeting.attendance_version \nFROM") == 2
        for ws in together:
            await ws.close()


async def _points(served: Served, cookie: str) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=served.url, cookies={SESSION_COOKIE: cookie}) as http:
        response = await http.get(
            f"/api/v1/meetings/{served.meeting_id}/points", params={"limit": 500}
        )
        assert response.status_code == 200, response.text
        return {
            item["checkin_url"].rsplit("/", 1)[-1]: item["point_id"]
            for item in response.json()["items"]
            if item["checkin_url"]
        }


async def test_another_process_forgets_a_revoked_link_within_its_ttl(serve: Serve) -> None:
    with serve() as first, serve() as second:
        second.app.state.checkin_links.ttl = 1.0  # the documented bound, made short
        token = first.served.seed.cam_tu_token
        remembered = await open_point(second.served, "remembered-1")
        await remembered.close()
        cookie = await login_cookie(
            first.served.url,
            first.served.seed.organizer_email,
            first.served.seed.organizer_password,
        )
        point_id = (await _points(first.served, cookie))[token]
        await revoke(first.served, cookie, point_id)
        await asyncio.sleep(1.5)
        url = second.served.ws_url(second.served.meeting_id, token)
        assert await refused_with(url, "forgotten-1") == 1008
        assert second.statements.of("forgotten-") == 1  # asked the database again


async def test_lookups_past_the_bound_are_told_to_come_back(serve: Serve) -> None:
    with serve() as served:
        site = served.served
        remembered = await open_point(site, "bound-000001")
        await remembered.close()
        # A flood of made-up tokens has every lookup slot taken (none free, for the test).
        served.app.state.checkin_links.max_lookups_in_flight = 0
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(site.ws_url(site.meeting_id, MADE_UP_TOKEN))
        assert refused.value.response.status_code == 503
        assert refused.value.response.headers["Retry-After"] == "1"
        assert served.statements.of("bound-") > 0
        # A link the process remembers needs no lookup and still opens.
        again = await open_point(site, "bound-000002")
        await again.close()
