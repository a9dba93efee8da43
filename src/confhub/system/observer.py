"""Every request and websocket, observed once around the whole app (unmatched paths included):
its request id, one access-log line and the HTTP metrics.

The request id comes from the proxy (`X-Request-Id`, which nginx sets to its own `$request_id`
so both logs tell the same story) or is made here; it is echoed in the response's
`X-Request-Id` and put on every log line written while the request runs.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from confhub.system import metrics
from confhub.system.logs import REQUEST_ID, redact

access_log = logging.getLogger("confhub.access")

REQUEST_ID_HEADER = b"x-request-id"
PROCESS_HEADER = b"x-confhub-process"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def request_id_of(scope: Scope) -> str:
    """The proxy's request id when it is well-formed, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _identify(scope: Scope) -> tuple[str, contextvars.Token[str | None]]:
    """The request's id, kept in its scope's state and in `REQUEST_ID` (for its log lines)
    until the returned token resets it."""
    request_id = request_id_of(scope)
    scope.setdefault("state", {})["request_id"] = request_id
    return request_id, REQUEST_ID.set(request_id)


class RequestObserver:
    """ASGI middleware wrapping the Litestar app's handler (see `confhub.app.create_app`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Which process answered (its pid), so an operator behind a balancer can tell.
        self.process = str(os.getpid()).encode()

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself: the observing one is the only frame this layer keeps while a
        # websocket is open (issue 20).
        if scope["type"] == ScopeType.HTTP:
            return self._http(scope, receive, send)
        if scope["type"] == ScopeType.WEBSOCKET:
            return self._websocket(scope, receive, send)
        return self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id, token = _identify(scope)
        started = time.perf_counter()
        status = 500
        sent_bytes = 0
        extra_headers = [(REQUEST_ID_HEADER, request_id.encode()), (PROCESS_HEADER, self.process)]

        async def observed_send(message: Message) -> None:
            nonlocal status, sent_bytes
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), *extra_headers]
            elif message["type"] == "http.response.body":
                sent_bytes += len(message.get("body", b""))
            await send(message)

        metrics.HTTP_IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, observed_send)
        finally:
            metrics.HTTP_IN_PROGRESS.dec()
            elapsed = time.perf_counter() - started
            method = str(scope.get("method", "GET"))
            route = str(scope.get("path_template") or metrics.UNMATCHED_ROUTE)
            metrics.HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            metrics.HTTP_LATENCY.labels(method=method, route=route).observe(elapsed)
            access_log.info(
                "%s %s %s %.1fms",
                method,
                _loggable_path(scope),
                status,
                elapsed * 1000,
                extra=_access_fields(scope, status, elapsed, route) | {"bytes": sent_bytes},
            )
            REQUEST_ID.reset(token)  # after its access line, which carries the id

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id, token = _identify(scope)
        started = time.perf_counter()
        close_code: int | None = None
        extra_headers = [(REQUEST_ID_HEADER, request_id.encode()), (PROCESS_HEADER, self.process)]

        async def observed_receive() -> ReceiveMessage:
            nonlocal close_code
            message = await receive()
            if message["type"] == "websocket.disconnect" and close_code is None:
                close_code = int(message.get("code", 1000))
            return message

        async def observed_send(message: Message) -> None:
            nonlocal close_code
            if message["type"] == "websocket.accept":
                message["headers"] = [*message.get("headers", ()), *extra_headers]
            elif message["type"] == "websocket.close" and close_code is None:
                close_code = int(message.get("code", 1000))
            elif message["type"] == "websocket.http.response.start":
                close_code = int(message["status"])  # refused before the upgrade (429)
                message["headers"] = [*message.get("headers", ()), *extra_headers]
            await send(message)

        try:
            await self.app(scope, observed_receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            route = str(scope.get("path_template") or metrics.UNMATCHED_ROUTE)
            access_log.info(
                "WEBSOCKET %s closed %s after %.1fs",
                _loggable_path(scope),
                close_code,
                elapsed,
                extra=_access_fields(scope, close_code, elapsed, route),
            )
            REQUEST_ID.reset(token)  # after its access line, which carries the id


def _loggable_path(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    path = str(scope.get("path", ""))
    return redact(f"{path}?{query}" if query else path)


def _access_fields(scope: Scope, status: int | None, elapsed: float, route: str) -> dict[str, Any]:
    client = scope.get("client")
    return {
        "method": scope.get("method", "WEBSOCKET"),
        "path": _loggable_path(scope),
        "route": route,
        "status": status,
        "duration_ms": round(elapsed * 1000, 1),
        "client": client[0] if client else None,
        "scheme": scope.get("scheme"),
    }
