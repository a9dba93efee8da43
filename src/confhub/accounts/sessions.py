"""Server-side sessions that get a new id on sign-in (no session fixation).

Litestar's server-side backend keeps storing under the id the request's cookie carries, even
after the session is cleared. An id planted in a victim's browser before sign-in would then
become a signed-in session. Sign-in marks the request; this backend then mints a new id and
drops the data stored under the old one.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Message, ScopeSession

_ROTATE = "confhub_rotate_session"
_NEW_ID = "confhub_new_session_id"


def rotate_session_id(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Ask for a new session id in this request's response (call on sign-in)."""
    connection.scope.setdefault("state", {})[_ROTATE] = True


class RotatingSessionBackend(ServerSideSessionBackend):
    """A server-side backend that honours :func:`rotate_session_id`."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """The new id when rotation was asked for, else the cookie's (or a new) id."""
        state: dict[str, Any] = connection.scope.get("state", {})
        if state.get(_ROTATE):
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
        """Drop the old id's data when rotating, then store as usual."""
        state: dict[str, Any] = connection.scope.get("state", {})
        old_id = connection.cookies.get(self.config.key)
        if state.get(_ROTATE) and old_id and old_id != "null":
            store = self.config.get_store_from_app(connection.scope["app"])
            await self.delete(old_id, store=store)
        await super().store_in_message(scope_session, message, connection)


class RotatingSessionConfig(ServerSideSessionConfig):
    """Server-side session configuration using :class:`RotatingSessionBackend`."""

    _backend_class = RotatingSessionBackend
