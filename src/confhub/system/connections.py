"""uvicorn's HTTP/1.1 protocol (httptools' parser) with a deadline for request headers.

uvicorn closes a kept-alive connection that stays quiet after a response (`timeout_keep_alive`),
but a connection that opens and sends nothing, or sends a header a byte at a time, waits
forever: each costs a socket and a protocol object, and thousands of them are a cheap attack.
Here every connection has `CONFHUB_HEADER_TIMEOUT` seconds, from its opening or from its
previous response, to deliver a whole request's headers; then it is closed. Once the headers
are in (a request runs, or the connection became a websocket), the deadline is off: bodies and
websockets have limits of their own (nginx's `client_body_timeout`, websocket pings).

httptools (llhttp, in C) rather than h11 (pure Python): a national roll call's 3,321 phones
open their sockets within half a minute, and all of them again after a network failure, so the
handshake's parsing is on the path of every connection (docs/performance.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that closes connections whose request headers do not arrive in time."""

    # Set by `confhub serve` (confhub.system.serving) before uvicorn starts.
    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        # Between a request's first byte and the end of its headers.
        self._reading_headers = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection: its first request's headers are due."""
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Gone: no deadline to keep."""
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        """A request starts: its headers are being read."""
        self._reading_headers = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        """The headers are in: the deadline is over."""
        self._reading_headers = False
        self._disarm()
        super().on_headers_complete()

    def handle_websocket_upgrade(self) -> None:
        """The websocket protocol takes the transport over: never close it from here, and let
        this protocol go at once. Its parser holds its methods, a reference cycle that only
        the garbage collector would free: 3,321 point sockets connecting left 60,000 such
        objects, and the collections they caused paused the rush for a second in all."""
        self._disarm()
        super().handle_websocket_upgrade()
        self.parser = None  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        """The next request's headers are due (pipelined ones may already be in)."""
        self._arm()
        super().on_response_complete()

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _expire(self) -> None:
        self._header_deadline = None
        answering = self.cycle is not None and not self.cycle.response_complete
        idle = not answering and not self.pipeline
        if (self._reading_headers or idle) and not self.transport.is_closing():
            self.transport.close()


class _Inbox:
    """What uvicorn's websocket protocol uses of `asyncio.Queue` (`put_nowait`, `get`, `empty`),
    unbounded like its queue, without the queue's three deques and its `Event` (~3 KiB a socket
    while empty: a deque reserves 64 slots)."""

    __slots__ = ("_items", "_waiters")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiters: list[asyncio.Future[None]] | None = None

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        _wake(self._waiters)

    async def get(self) -> Any:
        while not self._items:
            await _wait(self, "_waiters")
        return self._items.pop(0)


class _Flag:
    """What uvicorn's websocket protocol uses of `asyncio.Event` (`set`, `clear`, `wait`),
    its waiters' list made only when someone waits (an Event's deque is ~0.8 KiB)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if not self._set:
            self._set = True
            _wake(self._waiters)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        while not self._set:
            await _wait(self, "_waiters")
        return True


def _wake(waiters: list[asyncio.Future[None]] | None) -> None:
    for waiter in waiters or ():
        if not waiter.done():
            waiter.set_result(None)


async def _wait(owner: Any, attribute: str) -> None:
    """Wait for the next `_wake` of `owner`'s waiters (a waiter cancelled is simply gone)."""
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters = getattr(owner, attribute)
    if waiters is None:
        waiters = []
        setattr(owner, attribute, waiters)
    waiters.append(waiter)
    try:
        await waiter
    finally:
        waiters.remove(waiter)
        if not waiters:
            setattr(owner, attribute, None)


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol (websockets' sans-I/O core) holding less per open socket.

    A national roll call keeps 3,321 point sockets open in one or two processes (issue 20: at
    most 25 KiB each above an idle process). Here the receive queue and the "writable" flag are
    the small classes above instead of `asyncio.Queue` and `asyncio.Event`, and once the
    handshake is answered its request's and response's headers (a few KiB of strings the
    connection never reads again; the app has its own copy in the scope) are emptied.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]
        self.writable.set()

    async def send(self, message: Any) -> None:
        """Send as uvicorn does; after the accepting handshake, drop its headers."""
        accepting = not self.handshake_complete and message.get("type") == "websocket.accept"
        await super().send(message)
        if accepting and self.handshake_complete:
            self.request.headers.clear()
            self.response.headers.clear()
