"""Helpers for the live channel's tests: a served app, websocket clients (the real `websockets`
library, as a kiosk or a browser would connect) and readers that unpack `batch` frames."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import websockets
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection

from confhub.app import create_app
from confhub.attendance.models import AttendanceEvent
from confhub.demo import DemoSeed
from tests.conftest import free_port, make_settings
from tests.e2e.conftest import LiveServer

SESSION_COOKIE = "confhub_session"
Frame = dict[str, Any]


@dataclass(frozen=True)
class Served:
    """The demo app served on a free port, with the seed's logins and ids."""

    url: str
    seed: DemoSeed
    database_url: str

    @property
    def meeting_id(self) -> int:
        """The upcoming (scheduled) conference with 166 invited points."""
        return self.seed.upcoming_meeting_id

    def ws_url(self, meeting_id: int, token: str | None = None) -> str:
        """The live channel's address, optionally with a check-in link's token."""
        base = self.url.replace("http://", "ws://", 1)
        query = f"?token={token}" if token else ""
        return f"{base}/ws/meetings/{meeting_id}{query}"


@contextmanager
def serve_demo(
    demo_db: str, demo_seed: DemoSeed, tmp_path: Path, **overrides: object
) -> Iterator[Served]:
    """The app on `demo_db` behind uvicorn on a free port (keyword arguments override
    settings)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(demo_db, tmp_path, base_url=url, **overrides)
    with LiveServer(create_app(settings), port):
        yield Served(url=url, seed=demo_seed, database_url=demo_db)


@pytest.fixture
def served(demo_db: str, demo_seed: DemoSeed, tmp_path: Path) -> Iterator[Served]:
    """A private copy of the demo database behind uvicorn on a free port."""
    with serve_demo(demo_db, demo_seed, tmp_path) as demo:
        yield demo


async def login_cookie(base_url: str, email: str, password: str) -> str:
    """Sign in through the API and return the session cookie's value."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        cookie = response.cookies.get(SESSION_COOKIE)
        assert cookie, "the login set no session cookie"
        return cookie


async def connect(
    url: str, *, cookie: str | None = None, origin: str | None = None
) -> ClientConnection:
    """Open a websocket (as a kiosk, or as a browser when `origin` is given)."""
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else None
    return await websockets.connect(
        url,
        additional_headers=headers,
        origin=origin,  # type: ignore[arg-type]
        open_timeout=10,
        max_size=2**24,
    )


async def recv_frame(ws: ClientConnection, within: float = 5.0) -> Frame:
    """The next frame, decoded."""
    raw = await asyncio.wait_for(ws.recv(), within)
    frame = json.loads(raw)
    assert isinstance(frame, dict), raw
    return frame


def unpack(frame: Frame) -> list[Frame]:
    """A `batch` frame carries several deltas; anything else is one message."""
    if frame.get("type") == "batch":
        messages = frame["messages"]
        assert messages and frame["version"] == messages[-1]["version"], frame
        return list(messages)
    return [frame]


async def recv_messages_until(
    ws: ClientConnection, done: Callable[[list[Frame]], bool], within: float = 10.0
) -> list[Frame]:
    """Messages (batches unpacked) until `done(messages)` holds; fails on timeout."""
    messages: list[Frame] = []
    deadline = time.monotonic() + within
    while not done(messages):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out; received {messages!r}"[:3000])
        messages.extend(unpack(await recv_frame(ws, left)))
    return messages


async def recv_message(
    ws: ClientConnection, accept: Callable[[Frame], bool], within: float = 10.0
) -> Frame:
    """The first message (batches unpacked) that `accept` takes, skipping others."""
    seen: list[Frame] = []
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out; skipped {seen!r}"[:3000])
        for message in unpack(await recv_frame(ws, left)):
            if accept(message):
                return message
            seen.append(message)


async def quiet(ws: ClientConnection, seconds: float) -> list[Frame]:
    """Whatever arrives within `seconds` (batches unpacked)."""
    messages: list[Frame] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            messages.extend(unpack(await recv_frame(ws, left)))
        except TimeoutError:
            break
    return messages


async def close_code(ws: ClientConnection, within: float = 5.0) -> int | None:
    """Read until the server closes; the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), within)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def token_of(checkin_url: str) -> str:
    """The token at the end of a check-in link."""
    return urlsplit(checkin_url).path.rsplit("/", 1)[-1]


async def point_tokens(base_url: str, cookie: str, meeting_id: int) -> dict[int, str]:
    """point_id → check-in token, as the secretariat sees them."""
    async with httpx.AsyncClient(base_url=base_url, cookies={SESSION_COOKIE: cookie}) as http:
        response = await http.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 500})
        assert response.status_code == 200, response.text
        return {
            item["point_id"]: token_of(item["checkin_url"])
            for item in response.json()["items"]
            if item["checkin_url"]
        }


async def events_after(db_config: Any, meeting_id: int, version: int) -> list[AttendanceEvent]:
    """The meeting's stored events past `version`, in version order."""
    async with db_config.get_session() as session:
        return list(
            await session.scalars(
                select(AttendanceEvent)
                .where(AttendanceEvent.meeting_id == meeting_id, AttendanceEvent.version > version)
                .order_by(AttendanceEvent.version)
            )
        )
