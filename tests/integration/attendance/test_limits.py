"""The live channel's caps come from the settings: the largest message a client may send
(`CONFHUB_WS_MAX_MESSAGE_BYTES`) and its token bucket (`CONFHUB_WS_MESSAGE_BURST`, then
`CONFHUB_WS_MESSAGES_PER_SECOND`). Served by uvicorn, spoken to by the `websockets` client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from confhub.app import create_app
from confhub.demo import DemoSeed
from confhub.settings import DEFAULT_WS_MAX_MESSAGE_BYTES, DEFAULT_WS_MESSAGE_BURST
from tests.conftest import free_port, make_settings
from tests.e2e.conftest import LiveServer
from tests.integration.attendance.conftest import (
    Served,
    connect,
    recv_frame,
    recv_message,
    recv_messages_until,
)

pytestmark = pytest.mark.integration

Serve = Callable[..., AbstractContextManager[Served]]


@pytest.fixture
def serve(demo_db: str, demo_seed: DemoSeed, tmp_path: Path) -> Serve:
    """Serve the demo app with some settings overridden."""

    @contextmanager
    def served(**overrides: Any) -> Iterator[Served]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = make_settings(demo_db, tmp_path, base_url=url, **overrides)
        with LiveServer(create_app(settings), port):
            yield Served(url=url, seed=demo_seed, database_url=demo_db)

    return served


def heartbeat(sent_at: int, size: int) -> str:
    """A heartbeat padded to exactly `size` bytes."""
    bare = json.dumps({"type": "heartbeat", "sent_at": sent_at, "padding": ""})
    frame = json.dumps(
        {"type": "heartbeat", "sent_at": sent_at, "padding": "p" * (size - len(bare))}
    )
    assert len(frame.encode()) == size
    return frame


async def test_the_message_size_cap_is_the_setting(serve: Serve) -> None:
    cap = 256
    assert cap < DEFAULT_WS_MAX_MESSAGE_BYTES  # these sizes pass by default
    with serve(ws_max_message_bytes=cap) as served:
        link = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
        assert (await recv_frame(link))["type"] == "snapshot"
        await link.send(heartbeat(1, cap + 1))
        refused = await recv_message(link, lambda m: m["type"] in ("error", "pong"))
        assert refused == {"type": "error", "detail": f"message too large (at most {cap} bytes)"}
        await link.send(heartbeat(2, cap))  # the socket stays open, and the cap is inclusive
        pong = await recv_message(link, lambda m: m["type"] in ("error", "pong"))
        assert (pong["type"], pong["sent_at"]) == ("pong", 2)
        await link.close()


async def test_the_message_rate_cap_is_the_setting(serve: Serve) -> None:
    burst = 3
    assert burst < DEFAULT_WS_MESSAGE_BURST
    # Refilled so slowly that nothing is refilled while the test runs: exactly the burst passes.
    with serve(ws_message_burst=burst, ws_messages_per_second=0.001) as served:
        link = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
        assert (await recv_frame(link))["type"] == "snapshot"
        for n in range(burst + 3):
            await link.send(json.dumps({"type": "heartbeat", "sent_at": n}))
        replies = await recv_messages_until(
            link, lambda got: sum(m["type"] in ("pong", "error") for m in got) >= burst + 3
        )
        answered = [m for m in replies if m["type"] in ("pong", "error")]
        assert [m["sent_at"] for m in answered if m["type"] == "pong"] == list(range(burst))
        slowed = [m for m in answered if m["type"] == "error"]
        assert len(slowed) == 3 and all("slow down" in m["detail"] for m in slowed)
        await link.close()
