"""The desk's big writes do not hold up the roll call (issue #19, on PostgreSQL): an announcement
to every point writes its receipts, and a burst of phones' receipts reads and locks its rows,
before taking the meeting's version, so a check-in arriving meanwhile is stored and
acknowledged at once, and the versions stay one gap-free order.

Another connection holds what the desk's write needs (the receipts' table, a receipt's row), so
the desk's write is caught in the middle of that work while the check-in arrives.
"""

from __future__ import annotations

import asyncio
import json
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
    connect,
    login_cookie,
    point_tokens,
    recv_frame,
    recv_message,
    recv_messages_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.services]

# Longer than a check-in takes on the slowest machine, far shorter than "never".
PATIENCE = 20


@pytest.fixture
def served_on_postgres(postgres_demo: PostgresDemo, tmp_path: Path) -> Iterator[str]:
    """The app on the demo's PostgreSQL database, served on a free port; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with LiveServer(create_app(make_settings(postgres_demo.url, tmp_path, base_url=url)), port):
        yield url


@pytest.fixture
async def other_process(postgres_demo: PostgresDemo) -> AsyncIterator[Any]:
    """A connection of "another process", rolled back at the end whatever happens."""
    connection = await asyncpg.connect(
        postgres_demo.url.replace("postgresql+asyncpg", "postgresql")
    )
    try:
        yield connection
    finally:
        if connection.is_in_transaction():
            await connection.execute("ROLLBACK")
        await connection.close()


def of(kind: str, **fields: Any) -> Any:
    """A predicate: a message of this type with these fields."""
    return lambda m: m.get("type") == kind and all(m.get(k) == v for k, v in fields.items())


async def check_in(
    url: str, meeting_id: int, point_id: int, token: str, key: str
) -> httpx.Response:
    """A chair's check-in over the JSON API (by the point's link)."""
    body = {"point_id": point_id, "status": "present", "delegates_present": 3}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return await client.post(
            f"/api/v1/meetings/{meeting_id}/checkins",
            json={**body, "idempotency_key": key},
            headers={"X-Checkin-Token": token},
        )


async def announce(url: str, cookie: str, meeting_id: int, announcement_id: str) -> httpx.Response:
    """The secretariat's announcement to every point."""
    async with httpx.AsyncClient(
        base_url=url, cookies={SESSION_COOKIE: cookie}, timeout=60
    ) as client:
        return await client.post(
            f"/api/v1/meetings/{meeting_id}/announcements",
            json={"text": "5 phút nữa bắt đầu", "announcement_id": announcement_id},
        )


def deltas(messages: list[Frame]) -> list[Frame]:
    """The versioned deltas among a board's messages."""
    return [m for m in messages if m.get("type") not in ("ack", "error", "snapshot", "pong")]


async def test_a_check_in_is_answered_while_an_announcement_writes_its_receipts(
    served_on_postgres: str, postgres_demo: PostgresDemo, other_process: Any
) -> None:
    url, seed = served_on_postgres, postgres_demo.seed
    meeting = seed.upcoming_meeting_id
    cookie = await login_cookie(url, seed.organizer_email, seed.organizer_password)
    tokens = await point_tokens(url, cookie, meeting)
    point = sorted(tokens)[0]
    ws_base = f"{url.replace('http://', 'ws://', 1)}/ws/meetings/{meeting}"
    board = await connect(ws_base, cookie=cookie)
    start = (await recv_frame(board))["version"]

    # The announcement's receipts cannot be written until the other connection lets go.
    await other_process.execute("BEGIN")
    await other_process.execute("LOCK TABLE announcement_receipt IN SHARE ROW EXCLUSIVE MODE")
    sending = asyncio.create_task(announce(url, cookie, meeting, "a-during"))
    try:
        await asyncio.sleep(1.0)
        assert not sending.done(), "the announcement was stored without its receipts"
        answered = await asyncio.wait_for(
            check_in(url, meeting, point, tokens[point], "during-announcement"), PATIENCE
        )
        assert answered.status_code == 201, answered.text
        assert not sending.done()
    finally:
        await other_process.execute("ROLLBACK")
    sent = await asyncio.wait_for(sending, PATIENCE)
    assert sent.status_code == 201, sent.text
    assert sent.json()["addressed"] == len(tokens)
    got = deltas(
        await recv_messages_until(
            board, lambda got: any(m.get("type") == "announcement" for m in got), PATIENCE
        )
    )
    # The check-in first, the announcement after it, in one gap-free order.
    assert [m["version"] for m in got] == list(range(start + 1, start + 1 + len(got)))
    kinds = [(m["type"], m.get("point_id")) for m in got]
    assert kinds.index(("checkin", point)) < kinds.index(("announcement", None))
    assert got[-1]["seen"] == 0 and got[-1]["addressed"] == len(tokens)

    # Nothing lost on the way: a phone opening now finds it, and its receipt is counted.
    phone = await connect(f"{ws_base}?token={tokens[point]}")
    snapshot = await recv_frame(phone)
    assert [a["announcement_id"] for a in snapshot["announcements"]] == ["a-during"]
    await phone.send(json.dumps({"type": "announcement_seen", "announcement_id": "a-during"}))
    acked = await recv_message(phone, of("ack", id="a-during"))
    counted = await recv_message(board, of("announcement", announcement_id="a-during", seen=1))
    assert acked["version"] == counted["version"]
    for ws in (board, phone):
        await ws.close()


async def test_a_check_in_is_answered_while_a_burst_of_receipts_waits_for_its_rows(
    served_on_postgres: str, postgres_demo: PostgresDemo, other_process: Any
) -> None:
    url, seed = served_on_postgres, postgres_demo.seed
    meeting = seed.upcoming_meeting_id
    cookie = await login_cookie(url, seed.organizer_email, seed.organizer_password)
    tokens = await point_tokens(url, cookie, meeting)
    seer, chair = sorted(tokens)[:2]
    ws_base = f"{url.replace('http://', 'ws://', 1)}/ws/meetings/{meeting}"
    phone = await connect(f"{ws_base}?token={tokens[seer]}")
    await recv_frame(phone)
    assert (await announce(url, cookie, meeting, "a-rows")).status_code == 201
    await recv_message(phone, of("announcement", announcement_id="a-rows"))
    board = await connect(ws_base, cookie=cookie)
    start = (await recv_frame(board))["version"]

    # The phone's receipt row is held by the other connection: its burst waits for it.
    await other_process.execute("BEGIN")
    await other_process.execute(
        "SELECT id FROM announcement_receipt WHERE point_id = $1 FOR UPDATE", seer
    )
    await phone.send(json.dumps({"type": "announcement_seen", "announcement_id": "a-rows"}))
    try:
        await asyncio.sleep(1.0)
        answered = await asyncio.wait_for(
            check_in(url, meeting, chair, tokens[chair], "during-receipts"), PATIENCE
        )
        assert answered.status_code == 201, answered.text
    finally:
        await other_process.execute("ROLLBACK")
    acked = await recv_message(phone, of("ack", id="a-rows"), within=PATIENCE)
    got = deltas(
        await recv_messages_until(
            board, lambda got: any(m.get("type") == "announcement" for m in got), PATIENCE
        )
    )
    assert [m["version"] for m in got] == list(range(start + 1, start + 1 + len(got)))
    kinds = [(m["type"], m.get("point_id")) for m in got]
    assert kinds.index(("checkin", chair)) < kinds.index(("announcement", None))
    assert got[-1]["seen"] == 1 and got[-1]["version"] == acked["version"]
    for ws in (board, phone):
        await ws.close()


async def test_a_check_in_is_answered_while_a_speaking_request_is_being_stored(
    served_on_postgres: str, postgres_demo: PostgresDemo, other_process: Any
) -> None:
    url, seed = served_on_postgres, postgres_demo.seed
    meeting = seed.upcoming_meeting_id
    cookie = await login_cookie(url, seed.organizer_email, seed.organizer_password)
    tokens = await point_tokens(url, cookie, meeting)
    asker, chair = sorted(tokens)[:2]
    ws_base = f"{url.replace('http://', 'ws://', 1)}/ws/meetings/{meeting}"
    phone = await connect(f"{ws_base}?token={tokens[asker]}")
    await recv_frame(phone)
    board = await connect(ws_base, cookie=cookie)
    start = (await recv_frame(board))["version"]

    # The request's row cannot be written until the other connection lets go.
    await other_process.execute("BEGIN")
    await other_process.execute("LOCK TABLE speaking_request IN SHARE ROW EXCLUSIVE MODE")
    ask = {"type": "speak_request", "request_id": "r-during", "topic": "Báo cáo", "minutes": 5}
    await phone.send(json.dumps(ask))
    try:
        await asyncio.sleep(1.0)
        answered = await asyncio.wait_for(
            check_in(url, meeting, chair, tokens[chair], "during-speaking"), PATIENCE
        )
        assert answered.status_code == 201, answered.text
    finally:
        await other_process.execute("ROLLBACK")
    acked = await recv_message(phone, of("ack", id="r-during"), within=PATIENCE)
    got = deltas(
        await recv_messages_until(
            board, lambda got: any(m.get("type") == "speaking" for m in got), PATIENCE
        )
    )
    assert [m["version"] for m in got] == list(range(start + 1, start + 1 + len(got)))
    kinds = [m["type"] for m in got]
    assert kinds.index("checkin") < kinds.index("speaking")
    told = got[-1]
    assert told["version"] == acked["version"]
    assert [(i["request_id"], i["position"]) for i in told["queue"]] == [("r-during", 1)]
    for ws in (board, phone):
        await ws.close()
