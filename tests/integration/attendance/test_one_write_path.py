"""One write path for a check-in, whatever the door (issue #15): the JSON API, the live channel
and the check-in page's plain form store their answers the same way, so a board sees the same
deltas in one gap-free version order, a key repeated through another door is the same answer,
and a burst of answers from the page without script waits its turn without taking the
process's database connections from everyone else.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from confhub.app import create_app
from tests.conftest import PostgresDemo, free_port, make_settings
from tests.e2e.conftest import LiveServer
from tests.integration.attendance.conftest import (
    SESSION_COOKIE,
    Frame,
    Served,
    connect,
    login_cookie,
    point_tokens,
    quiet,
    recv_frame,
    recv_message,
    recv_messages_until,
)

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
DELTAS = {"checkin", "presence", "signal", "meeting"}


def versions_of(messages: list[Frame]) -> list[int]:
    """The versions of the deltas among `messages`."""
    return [int(m["version"]) for m in messages if m.get("type") in DELTAS]


async def page_client(base_url: str) -> httpx.AsyncClient:
    """A browser without script: it has read a page, so it holds the CSRF cookie."""
    client = httpx.AsyncClient(base_url=base_url, timeout=60)
    await client.get("/login", headers=HTML)
    return client


async def post_page_form(
    client: httpx.AsyncClient, path: str, fields: dict[str, str]
) -> httpx.Response:
    """Submit a page's form as a browser does (no redirect followed)."""
    body = {**fields, "_csrf_token": str(client.cookies.get("confhub_csrf"))}
    return await client.post(path, data=body, headers=HTML, follow_redirects=False)


async def api_checkin(
    base_url: str, meeting_id: int, token: str, body: dict[str, Any]
) -> httpx.Response:
    """A check-in over the JSON API, by a check-in link's token."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        return await client.post(
            f"/api/v1/meetings/{meeting_id}/checkins",
            json=body,
            headers={"X-Checkin-Token": token},
        )


async def socket_checkin(url: str, answer: dict[str, Any]) -> Frame:
    """A check-in over the live channel of a check-in link; the server's reply to it."""
    ws = await connect(url)
    try:
        assert (await recv_frame(ws))["type"] == "snapshot"
        await ws.send(json.dumps({"type": "checkin", **answer}))
        return await recv_message(ws, lambda m: m.get("type") in ("ack", "error"))
    finally:
        await ws.close()


async def stored(base_url: str, cookie: str, meeting_id: int) -> list[dict[str, Any]]:
    """Every check-in record of the meeting, oldest first."""
    async with httpx.AsyncClient(base_url=base_url, cookies={SESSION_COOKIE: cookie}) as client:
        response = await client.get(
            f"/api/v1/meetings/{meeting_id}/checkins", params={"limit": 500}
        )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def attendance(base_url: str, cookie: str, meeting_id: int) -> dict[str, Any]:
    """The attendance state as the secretariat reads it."""
    async with httpx.AsyncClient(base_url=base_url, cookies={SESSION_COOKIE: cookie}) as client:
        response = await client.get(f"/api/v1/meetings/{meeting_id}/attendance")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


async def test_the_three_doors_store_answers_alike_in_one_version_order(served: Served) -> None:
    meeting = served.meeting_id
    cookie = await login_cookie(
        served.url, served.seed.organizer_email, served.seed.organizer_password
    )
    tokens = await point_tokens(served.url, cookie, meeting)
    by_api, by_socket, by_form = sorted(tokens)[:3]
    board = await connect(served.ws_url(meeting), cookie=cookie)
    start = (await recv_frame(board))["version"]

    answer = {"status": "present"}
    api = await api_checkin(
        served.url,
        meeting,
        tokens[by_api],
        {**answer, "point_id": by_api, "delegates_present": 11, "idempotency_key": "door-api"},
    )
    assert api.status_code == 201, api.text
    ack = await socket_checkin(
        served.ws_url(meeting, tokens[by_socket]),
        {**answer, "point_id": by_socket, "delegates_present": 12, "idempotency_key": "door-ws"},
    )
    assert ack["type"] == "ack" and ack["duplicate"] is False, ack
    page = await page_client(served.url)
    form = {**answer, "delegates_present": "13", "idempotency_key": "door-form"}
    posted = await post_page_form(page, f"/checkin/{tokens[by_form]}", form)
    assert posted.status_code == 303, posted.text[:500]
    assert "stored=door-form" in posted.headers["location"]

    # The board sees each door's answer as the same delta, in one version order without a hole.
    seen = await recv_messages_until(
        board, lambda got: sum(m["type"] == "checkin" for m in got) >= 3
    )
    assert versions_of(seen) == list(range(start + 1, start + 1 + len(versions_of(seen))))
    deltas = {m["point_id"]: m for m in seen if m["type"] == "checkin"}
    assert set(deltas) == {by_api, by_socket, by_form}
    assert len({frozenset(delta) for delta in deltas.values()}) == 1, "one shape of delta"
    assert [deltas[p]["delegates_present"] for p in (by_api, by_socket, by_form)] == [11, 12, 13]

    # The records carry those versions: the API's answer, the socket's ack, the form's record.
    records = {r["idempotency_key"]: r for r in await stored(served.url, cookie, meeting)}
    assert set(records) == {"door-api", "door-ws", "door-form"}
    assert records["door-api"]["version"] == api.json()["version"] == deltas[by_api]["version"]
    assert records["door-ws"]["version"] == ack["version"] == deltas[by_socket]["version"]
    assert records["door-form"]["version"] == deltas[by_form]["version"]
    assert {r["source"] for r in records.values()} == {"link"}
    state = await attendance(served.url, cookie, meeting)
    shown = {p["point_id"]: p for p in state["points"]}
    assert [shown[p]["delegates_present"] for p in (by_api, by_socket, by_form)] == [11, 12, 13]
    assert state["totals"]["present"] == 3

    # A key sent again through another door is the same answer: same record, same version.
    again = await api_checkin(
        served.url,
        meeting,
        tokens[by_form],
        {**answer, "point_id": by_form, "delegates_present": 13, "idempotency_key": "door-form"},
    )
    assert again.status_code == 200, again.text
    assert (again.json()["id"], again.json()["version"]) == (
        records["door-form"]["id"],
        records["door-form"]["version"],
    )
    repeat = await socket_checkin(
        served.ws_url(meeting, tokens[by_api]),
        {**answer, "point_id": by_api, "delegates_present": 11, "idempotency_key": "door-api"},
    )
    assert repeat["type"] == "ack" and repeat["duplicate"] is True, repeat
    assert repeat["version"] == records["door-api"]["version"]
    form = {**answer, "delegates_present": "12", "idempotency_key": "door-ws"}
    reposted = await post_page_form(page, f"/checkin/{tokens[by_socket]}", form)
    assert reposted.status_code == 303, reposted.text[:500]
    assert "stored=door-ws" in reposted.headers["location"]
    await page.aclose()

    assert [m for m in await quiet(board, 1.0) if m["type"] == "checkin"] == []
    assert len(await stored(served.url, cookie, meeting)) == 3
    await board.close()


# --- on PostgreSQL: a burst from the page without script ----------------------------------------


@pytest.fixture
def served_on_postgres(postgres_demo: PostgresDemo, tmp_path: Path) -> Iterator[str]:
    """The app on the demo's PostgreSQL database, served on a free port; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(postgres_demo.url, tmp_path, base_url=url)
    with LiveServer(create_app(settings), port):
        yield url


@pytest.fixture
async def version_lock(postgres_demo: PostgresDemo) -> AsyncIterator[Any]:
    """A connection of "another process" that can hold a meeting's version counter (its row)
    as every attendance writer does while it stores; rolled back at the end whatever happens."""
    dsn = postgres_demo.url.replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(dsn)
    try:
        yield connection
    finally:
        if connection.is_in_transaction():
            await connection.execute("ROLLBACK")
        await connection.close()


@pytest.mark.services
async def test_answers_from_the_page_without_script_queue_without_holding_connections(
    served_on_postgres: str, postgres_demo: PostgresDemo, version_lock: Any
) -> None:
    """Twenty chairs send the page's form (16 answers, 4 signals) while another process holds
    the meeting's version counter: they wait their turn without holding one database
    connection each (a process has 15), so a board still opens meanwhile; once the counter is
    free, every answer is stored and the board sees them in one version order."""
    url, seed = served_on_postgres, postgres_demo.seed
    meeting = seed.upcoming_meeting_id
    cookie = await login_cookie(url, seed.organizer_email, seed.organizer_password)
    tokens = await point_tokens(url, cookie, meeting)
    points = sorted(tokens)[:20]
    board_url = f"{url.replace('http://', 'ws://', 1)}/ws/meetings/{meeting}"
    board = await connect(board_url, cookie=cookie)
    start = (await recv_frame(board))["version"]
    page = await page_client(url)

    await version_lock.execute("BEGIN")
    await version_lock.execute("SELECT id FROM meeting WHERE id = $1 FOR UPDATE", meeting)
    sends = [
        post_page_form(
            page,
            f"/checkin/{tokens[p]}",
            {"status": "present", "delegates_present": str(n + 1), "idempotency_key": f"burst-{n}"},
        )
        for n, p in enumerate(points[:16])
    ]
    sends += [post_page_form(page, f"/checkin/{tokens[p]}/signal", {"signal": "test_ok"})
              for p in points[16:]]  # fmt: skip
    burst = asyncio.gather(*sends)
    await asyncio.sleep(1.5)  # every request has reached its turn to write
    try:
        assert not burst.done(), "stored while another writer held the meeting's counter"
        began = time.monotonic()
        second = await connect(board_url, cookie=cookie)
        snapshot = await recv_frame(second, within=5)
        assert snapshot["type"] == "snapshot" and snapshot["version"] == start
        assert time.monotonic() - began < 5
        await second.close()
    finally:
        await version_lock.execute("ROLLBACK")
    replies = await asyncio.wait_for(burst, 60)
    assert [r.status_code for r in replies] == [303] * 20, [r.text[:300] for r in replies]
    await page.aclose()

    seen = await recv_messages_until(
        board, lambda got: sum(m["type"] in ("checkin", "signal") for m in got) >= 20, within=20
    )
    assert versions_of(seen) == list(range(start + 1, start + 1 + len(versions_of(seen))))
    checkins = {m["point_id"]: m["delegates_present"] for m in seen if m["type"] == "checkin"}
    assert checkins == {p: n + 1 for n, p in enumerate(points[:16])}
    assert {m["point_id"] for m in seen if m["type"] == "signal"} == set(points[16:])
    state = await attendance(url, cookie, meeting)
    assert state["totals"]["present"] == 16 and state["totals"]["ready"] == 4
    await board.close()
