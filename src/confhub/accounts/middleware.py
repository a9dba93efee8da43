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
        session = connection.scope.get("session") or {}
        user_id = session.get(SESSION_USER_KEY) if isinstance(session, dict) else None
        if not isinstance(user_id, int):
            return AuthenticationResult(user=None, auth=None)
        async with self.db_config.get_session() as db_session:
            principal = await UserService(session=db_session).principal(user_id)
        return AuthenticationResult(user=principal, auth="session" if principal else None)
