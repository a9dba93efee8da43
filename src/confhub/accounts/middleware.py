"""Puts the signed-in :class:`Principal` (or None) on every connection as `request.user`.

Runs after the session middleware. It opens its own short database session, so a websocket
never holds one for its lifetime.
"""

from __future__ import annotations

from typing import Any

from advanced_alchemy.config import SQLAlchemyAsyncConfig
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from confhub.accounts.principal import Principal
from confhub.accounts.services import UserService

SESSION_USER_KEY = "user_id"


class PrincipalMiddleware(AbstractAuthenticationMiddleware):
    """Loads the principal of the session's user; anonymous requests get `None`."""

    def __init__(self, app: ASGIApp, db_config: SQLAlchemyAsyncConfig) -> None:
        super().__init__(app, exclude=["^/static/", "^/healthz$"])
        self.db_config = db_config

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        """Resolve the session's user id to a principal."""
        principal = await principal_of_session(self.db_config, connection.scope.get("session"))
        return AuthenticationResult(user=principal, auth="session" if principal else None)


async def principal_of_session(db_config: SQLAlchemyAsyncConfig, session: Any) -> Principal | None:
    """The principal of a session's user (read in a short database session of its own), or
    None when the session names nobody (also used by the live channel's gate, which reads the
    session itself: `confhub.attendance.handshake`)."""
    user_id = session.get(SESSION_USER_KEY) if isinstance(session, dict) else None
    if not isinstance(user_id, int):
        return None
    async with db_config.get_session() as db_session:
        return await UserService(session=db_session).principal(user_id)
