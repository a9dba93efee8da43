"""The gate of the live channel: what a websocket handshake must show before the session is
read or the database asked anything.

Runs before the session middleware, cheapest first:

1. without any I/O, a browser's `Origin` must be this site, the meeting id a possible id, and
   the socket must carry a credential that could be one: a well-formed check-in token
   (`?token=`) or a well-formed session cookie. Otherwise it is accepted and closed at once
   with 1008, as the contract says, and the live page stops trying;
2. then the handshakes of its client address are counted (in Redis when configured,
   `confhub.system.ratelimit`); past `CONFHUB_WS_HANDSHAKES_PER_MINUTE` it is refused with
   429 and `Retry-After` before the upgrade, so the page tries again later (a 1008 would stop
   it for good).

Only then do the session store, the principal and the link or meeting lookups run
(`confhub.attendance.live`).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from confhub.accounts.sessions import well_formed_session_id
from confhub.core import tokens
from confhub.core.ids import MAX_ID
from confhub.settings import Settings
from confhub.system import metrics
from confhub.system.collector import REFUSALS
from confhub.system.ratelimit import HandshakeThrottle

POLICY_VIOLATION = 1008
# RFC 6455's "try again later", for a server without the denial-response extension.
TRY_AGAIN_LATER = 1013
NOT_ALLOWED = "not allowed to watch this meeting"
LIVE_PREFIX = "/ws/"

logger = logging.getLogger("confhub.live")


class LiveHandshakeGate:
    """ASGI middleware in front of the session middleware, for live-channel handshakes only."""

    def __init__(
        self, app: ASGIApp, settings: Settings, throttle: HandshakeThrottle, session_cookie: str
    ) -> None:
        self.app = app
        self.settings = settings
        self.throttle = throttle
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.WEBSOCKET or not scope["path"].startswith(LIVE_PREFIX):
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is not None:
            await refuse(receive, send, refusal)
            return
        client = scope.get("client")
        retry_after = await self.throttle.refusal(client[0] if client else "")
        if retry_after is not None:
            await too_many(scope, receive, send, retry_after)
            return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> str | None:
        """Why this handshake is refused without any I/O (the close reason), or None."""
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        if not origin_allowed(connection, self.settings):
            refused("origin")
            return "origin not allowed"
        meeting_id = scope["path_params"].get("meeting_id")
        if not isinstance(meeting_id, int) or not 1 <= meeting_id <= MAX_ID:
            refused("meeting")
            return NOT_ALLOWED
        token = connection.query_params.get("token")
        credential = (
            tokens.well_formed(token)
            if token
            else well_formed_session_id(connection.cookies.get(self.session_cookie))
        )
        if not credential:
            refused("credentials")
            return NOT_ALLOWED
        return None


def refused(reason: str) -> None:
    """Count a refused handshake by reason (and for the collection after a flood)."""
    metrics.WEBSOCKETS_REFUSED.labels(reason=reason).inc()
    REFUSALS.note()


def origin_allowed(connection: ASGIConnection[Any, Any, Any, Any], settings: Settings) -> bool:
    """Browsers send Origin; it must be this site (CSRF does not cover websockets)."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True  # not a browser: authentication alone decides
    allowed = {_origin(settings.base_url)}
    host = connection.headers.get("host")
    if host:
        allowed |= {f"http://{host}", f"https://{host}"}
    return _origin(origin) in allowed


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1" from a hostile client
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


async def refuse(receive: Receive, send: Send, reason: str) -> None:
    """Accept and close at once with 1008 and `reason` (no application code runs)."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
    await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": reason})


async def too_many(scope: Scope, receive: Receive, send: Send, retry_after: int) -> None:
    """429 with Retry-After instead of the upgrade: too many handshakes from this address."""
    refused("rate")
    detail = f"Too many live connections from your address; try again in {retry_after} s"
    await try_later(scope, receive, send, 429, retry_after, detail)


async def busy(scope: Scope, receive: Receive, send: Send) -> None:
    """503 with Retry-After instead of the upgrade: too many links being looked up at once."""
    refused("busy")
    await try_later(scope, receive, send, 503, 1, "Busy; try again in 1 s")


async def try_later(
    scope: Scope, receive: Receive, send: Send, status: int, retry_after: int, detail: str
) -> None:
    """Refuse before the upgrade with `status` and Retry-After, so the live page tries again
    later; 1013 (try again later) where the server cannot answer with a status."""
    if "websocket.http.response" not in (scope.get("extensions") or {}):
        await receive()
        await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        await send({"type": "websocket.close", "code": TRY_AGAIN_LATER, "reason": "try later"})
        return
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    body = (detail + "\n").encode()
    await send({"type": "websocket.http.response.body", "body": body, "more_body": False})
