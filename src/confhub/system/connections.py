"""uvicorn's HTTP/1.1 protocol with a deadline for request headers.

uvicorn closes a kept-alive connection that stays quiet after a response (`timeout_keep_alive`),
but a connection that opens and sends nothing, or sends a header a byte at a time, waits
forever: each costs a socket and a protocol object, and thousands of them are a cheap attack.
Here every connection has `CONFHUB_HEADER_TIMEOUT` seconds, from its opening or from its
previous response, to deliver a whole request's headers; then it is closed. Once the headers
are in (a request runs, or the connection became a websocket), the deadline is off: bodies and
websockets have limits of their own (nginx's `client_body_timeout`, websocket pings).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderDeadlineProtocol(H11Protocol):
    """H11Protocol that closes connections whose request headers do not arrive in time."""

    # Set by `confhub serve` (confhub.system.serving) before uvicorn starts.
    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection: its first request's headers are due."""
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Gone: no deadline to keep."""
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        """Parse what arrived; headers complete (h11 past IDLE) end the deadline."""
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """The websocket protocol takes the transport over: never close it from here."""
        self._disarm()
        super().handle_websocket_upgrade(event)

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
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
