"""Server-side sessions that exist only for signed-in users, and get a new id on sign-in.

Litestar's server-side backend stores a session for every response, an empty one included: each
anonymous page view, feed and check-in by link would write a 12-hour key to Redis and send a
cookie, and would fail when Redis is down although it needs nothing from it. Here a response
whose session holds nothing stores nothing and sets no cookie; one that arrived with a cookie
has it and its stored data removed (sign-out, or a session that expired). A signed-in
request's unchanged session is stored again (its expiry slides), except when Redis went down
meanwhile: the answer, whose work may be committed, goes out without that renewal.

Litestar's backend also keeps storing under the id the request's cookie carries, even after the
session is cleared. An id planted in a victim's browser before sign-in would then become a
signed-in session. Sign-in marks the request; this backend then mints a new id and drops the
data stored under the old one.

A cookie that cannot be a session id (ids are 64 hex digits) is not looked up in the store:
a flood of made-up cookies costs no Redis round trip.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

from confhub.core.outages import outage_of

_ROTATE = "confhub_rotate_session"
_NEW_ID = "confhub_new_session_id"
_LOADED = "confhub_loaded_session"
# Litestar's server-side ids: `secrets.token_hex(32)`.
_SESSION_ID = re.compile(r"[0-9a-f]{64}")

logger = logging.getLogger("confhub.accounts.sessions")


def well_formed_session_id(value: str | None) -> bool:
    """Whether a cookie's value could be a session id at all (checked before any store read)."""
    return value is not None and _SESSION_ID.fullmatch(value) is not None


def rotate_session_id(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Ask for a new session id in this request's response (call on sign-in)."""
    connection.scope.setdefault("state", {})[_ROTATE] = True


class RotatingSessionBackend(ServerSideSessionBackend):
    """A server-side backend that honours :func:`rotate_session_id`."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """The new id when rotation was asked for or the cookie cannot be an id, else the
        cookie's (or a new) id."""
        state: dict[str, Any] = connection.scope.get("state", {})
        cookie = connection.cookies.get(self.config.key)
        malformed = bool(cookie) and cookie != "null" and not well_formed_session_id(cookie)
        if state.get(_ROTATE) or malformed:
            if _NEW_ID not in state:
                state[_NEW_ID] = self.generate_session_id()
            return str(state[_NEW_ID])
        return super().get_session_id(connection)

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        """Nothing for an empty session without a cookie; drop the old id's data when rotating;
        otherwise store (or, for an emptied session, forget) as usual."""
        state: dict[str, Any] = connection.scope.get("state", {})
        old_id = connection.cookies.get(self.config.key)
        has_cookie = bool(old_id) and old_id != "null"
        if not has_cookie and (scope_session is Empty or not scope_session):
            return  # anonymous: no cookie, no store write
        if state.get(_ROTATE) and has_cookie:
            store = self.config.get_store_from_app(connection.scope["app"])
            await self.delete(str(old_id), store=store)
        if not scope_session:
            scope_session = Empty  # forget it: the store's key is deleted, the cookie expired
        try:
            await super().store_in_message(scope_session, message, connection)
        except Exception as exc:
            unchanged = scope_session is not Empty and scope_session == state.get(_LOADED)
            if not unchanged or outage_of(exc) is None:
                raise  # a sign-in or sign-out that cannot be stored is not done: 503
            logger.warning("session not renewed: %s", exc)

    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        """The stored session, remembered as loaded (to tell a renewal from a change); empty,
        without asking the store, for a cookie that cannot be an id."""
        cookie = connection.cookies.get(self.config.key)
        data = (
            await super().load_from_connection(connection) if well_formed_session_id(cookie) else {}
        )
        connection.scope.setdefault("state", {})[_LOADED] = dict(data)
        return data


class RotatingSessionConfig(ServerSideSessionConfig):
    """Server-side session configuration using :class:`RotatingSessionBackend`."""

    _backend_class = RotatingSessionBackend
