"""confhub's websocket protocol under uvicorn (confhub.system.connections.LeanWebSocketProtocol):
what uvicorn's does, holding less per open socket (issue 20)."""

from __future__ import annotations

import asyncio
import gc
import socket
from typing import Any

import uvicorn
from websockets.asyncio.client import connect

from confhub.system.connections import (
    HeaderDeadlineProtocol,
    LeanWebSocketProtocol,
    _Flag,
    _Inbox,
)
from confhub.system.serving import HTTP_PROTOCOL, WS_PROTOCOL


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accept, then answer each text with its upper case until the client leaves."""
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    headers = dict(scope["headers"])
    await send({"type": "websocket.accept", "headers": [(b"x-seen", headers[b"x-phone"])]})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message["text"].upper()})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_socket_works_as_under_uvicorns_protocol_without_its_handshake_headers() -> None:
    port = free_port()
    config = uvicorn.Config(
        echo, host="127.0.0.1", port=port, ws=WS_PROTOCOL, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn says so through this flag only
            await asyncio.sleep(0.01)
        async with connect(
            f"ws://127.0.0.1:{port}/", additional_headers={"X-Phone": "a" * 200}
        ) as ws:
            assert ws.response.headers["x-seen"] == "a" * 200  # the app's accept headers sent
            (protocol,) = [
                c for c in server.server_state.connections if isinstance(c, LeanWebSocketProtocol)
            ]
            assert isinstance(protocol.queue, _Inbox)
            assert isinstance(protocol.writable, _Flag)
            # The handshake's headers are gone from the connection once answered.
            assert list(protocol.request.headers.raw_items()) == []
            assert list(protocol.response.headers.raw_items()) == []
            # Many messages at once arrive whole and in order.
            for number in range(200):
                await ws.send(f"m{number}")
            answers = [await ws.recv() for _ in range(200)]
            assert answers == [f"M{number}" for number in range(200)]
    finally:
        server.should_exit = True
        await serving


async def test_the_inbox_and_the_flag_wake_their_waiters() -> None:
    inbox = _Inbox()
    getters = [asyncio.create_task(inbox.get()) for _ in range(2)]
    await asyncio.sleep(0)
    inbox.put_nowait("one")
    inbox.put_nowait("two")
    assert sorted(await asyncio.gather(*getters)) == ["one", "two"]
    assert inbox.empty()
    # A getter cancelled while waiting takes nothing: the next one gets the item.
    cancelled = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    inbox.put_nowait("three")
    assert await inbox.get() == "three"

    flag = _Flag()
    waiter = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    flag.set()
    assert await waiter is True
    flag.clear()
    assert not flag.is_set()


async def test_the_http_protocol_a_socket_upgraded_from_is_freed_without_the_collector() -> None:
    """Once a connection is a websocket, its HTTP protocol goes at once, not at the garbage
    collector's next pass (which, for thousands of points connecting, pauses the process)."""
    port = free_port()
    config = uvicorn.Config(
        echo,
        host="127.0.0.1",
        port=port,
        ws=WS_PROTOCOL,
        http=HTTP_PROTOCOL,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    gc.collect()
    gc.disable()
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn says so through this flag only
            await asyncio.sleep(0.01)
        async with connect(f"ws://127.0.0.1:{port}/", additional_headers={"X-Phone": "1"}) as ws:
            await ws.send("hello")
            assert await ws.recv() == "HELLO"
            left = [o for o in gc.get_objects() if isinstance(o, HeaderDeadlineProtocol)]
            assert left == []
    finally:
        gc.enable()
        server.should_exit = True
        await serving
