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

Only then are the session read (when the socket carries its cookie) and its principal, here
too, and the link or meeting looked up (`confhub.attendance.live`).

The live route goes through this gate and nothing else of the app's middleware
(:class:`LiveRoute`): a socket lives for hours, and every layer around its handler is a
suspended frame with its wrappers for as long (issue 20). The session, principal, language,
transaction layers had nothing to do after the handshake (a socket stores no session, answers
no HTTP, holds no request transaction); the request's observation (`confhub.system.observer`)
is around the whole app, outside Litestar, and stays.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from advanced_alchemy.config import SQLAlchemyAsyncConfig
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers import WebsocketRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware._internal.exceptions import ExceptionHandlerMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend
from litestar.types import ASGIApp, Middleware, Receive, Scope, Send

from confhub.accounts.middleware import principal_of_session
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
        self,
        app: ASGIApp,
        settings: Settings,
        throttle: HandshakeThrottle,
        session_backend: ServerSideSessionBackend,
        db_config: SQLAlchemyAsyncConfig,
        straight_to_route: bool = False,
    ) -> None:
        if straight_to_route:
            # On the live route (LiveRoute): past Litestar's CSRF layer (which lets websockets
            # through) and the route's own exception handler (there so that middleware's send
            # wrappers see an error's answer; this gate wraps none, and the app's exception
            # handler around the router answers a websocket's error the same way): two
            # frames and a send wrapper fewer on every open socket.
            while isinstance(app, CSRFMiddleware | ExceptionHandlerMiddleware):
                app = app.app
        self.app = app
        self.settings = settings
        self.throttle = throttle
        self.session_backend = session_backend
        self.session_cookie = session_backend.config.key
        self.db_config = db_config

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
        await self.authenticate(scope)
        await self.app(scope, receive, send)

    async def authenticate(self, scope: Scope) -> None:
        """What the session and principal middlewares do for other routes, read only: the
        session its cookie names (none for a socket without one: a check-in link's) and its
        principal, as `scope["session"]` and `scope["user"]`. A socket never stores its session."""
        # Asks the store only for a cookie that can be a session id (RotatingSessionBackend).
        session = await self.session_backend.load_from_connection(ASGIConnection(scope))
        scope["session"] = session
        principal = await principal_of_session(self.db_config, session)
        scope["user"] = principal
        scope["auth"] = "session" if principal else None

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


class LiveRoute(WebsocketRouteHandler):
    """A websocket route behind :class:`LiveHandshakeGate` alone of the app's middleware (the
    gate reads the session and principal itself; see the module's docstring), which calls the
    route past the exception handler and CSRF layer Litestar puts around every route."""

    def resolve_middleware(self) -> list[Middleware]:
        """The gate of the app's middleware, without the others, calling the route itself."""
        return [
            DefineMiddleware(
                LiveHandshakeGate, *middleware.args, **middleware.kwargs, straight_to_route=True
            )
            for middleware in super().resolve_middleware()
            if isinstance(middleware, DefineMiddleware)
            and middleware.middleware is LiveHandshakeGate
        ]


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
