"""Each request's session and transaction: the `db_session` dependency and its commit.

A request's session is made on first use (`db_session`, and every service its providers build
on it) and ended by :class:`RequestTransaction`, an ASGI middleware around every route: when the
handler answers with a 2xx or a redirect its work is committed *before* the answer's first
byte leaves, anything else is rolled back. When that commit fails, the error is the answer
instead (503 with `Retry-After` when the database is down, confhub.core.outages): the client
is never told "stored" about something that was not.

Why not Advanced Alchemy's Litestar plugin, which did this before: its autocommit runs as a
`before_send` hook, after Litestar has marked the response started, and a failed commit is only
logged at DEBUG while the 2xx goes out; and its package imports Alembic, click and rich into
every serving process (15 MiB of the idle process's memory). Its repositories and services,
and its database configuration (`db_config.get_session()` for work outside requests), stay.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from advanced_alchemy.config import SQLAlchemyAsyncConfig
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from litestar import Request
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import ASGIMiddleware
from litestar.plugins import InitPluginProtocol
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.core.errors import error_response

SESSION_MAKER_STATE_KEY = "db_session_maker"
# Where a request's session lives while it is answered (the ASGI scope's own state).
_SCOPE_KEY = "confhub.db_session"
# Committed on these answers: success, and the 303 a web form answers a POST with.
_COMMIT_STATUSES = range(200, 400)

S = TypeVar("S", bound=SQLAlchemyAsyncRepositoryService[Any])


def provide_db_session(state: State, scope: Scope) -> AsyncSession:
    """The request's session, made on first use (committed or rolled back by
    :class:`RequestTransaction`)."""
    scope_state = scope.setdefault("state", {})
    session: AsyncSession | None = scope_state.get(_SCOPE_KEY)
    if session is None:
        session = state[SESSION_MAKER_STATE_KEY]()
        scope_state[_SCOPE_KEY] = session
    return session


def _request_session(scope: Scope) -> AsyncSession | None:
    state: dict[str, Any] = scope.get("state", {})
    session: AsyncSession | None = state.get(_SCOPE_KEY)
    return session


class RequestTransaction(ASGIMiddleware):
    """Commits a request's session when its answer is a 2xx or a redirect, before the answer
    starts; rolls it back otherwise; always closes it (its connection back to the pool)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Run the route, ending its transaction at the answer's start."""
        commit_failed = False

        async def send_after_commit(message: Message) -> None:
            nonlocal commit_failed
            if commit_failed:
                return  # the rest of an answer that was replaced by the error's
            if message["type"] == "http.response.start":
                session = _request_session(scope)
                if session is not None:
                    if message["status"] not in _COMMIT_STATUSES:
                        await session.rollback()
                    else:
                        try:
                            await session.commit()
                        except Exception as exc:
                            commit_failed = True
                            await _answer_error(scope, receive, send, exc)
                            return
            await send(message)

        try:
            await next_app(scope, receive, send_after_commit)
        finally:
            session = _request_session(scope)
            if session is not None:
                scope["state"].pop(_SCOPE_KEY, None)
                # Rolls back whatever was not committed (an error, a websocket's work).
                await session.close()


async def _answer_error(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """Answer with the error a failed commit is (503 with `Retry-After` when the database is
    down, else a 500), in the place of the answer the handler had made."""
    request: Request[Any, Any, Any] = Request(scope, receive)
    response = error_response(request, exc)
    asgi_response = response.to_asgi_response(app=None, request=request)
    await asgi_response(scope, receive, send)


class DatabasePlugin(InitPluginProtocol):
    """Puts the session factory in the app's state, provides `db_session`, wraps every route
    in :class:`RequestTransaction` and disposes of the engine at shutdown."""

    def __init__(self, config: SQLAlchemyAsyncConfig) -> None:
        self.config = config

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Register the dependency, the middleware and the engine's lifecycle."""
        config = self.config

        def store_session_maker(app: Any) -> None:
            app.state[SESSION_MAKER_STATE_KEY] = config.create_session_maker()

        async def dispose_engine() -> None:
            await config.get_engine().dispose()

        app_config.dependencies["db_session"] = Provide(provide_db_session, sync_to_thread=False)
        app_config.middleware.insert(0, RequestTransaction())
        app_config.on_startup.insert(0, store_session_maker)
        app_config.on_shutdown.append(dispose_engine)
        app_config.signature_namespace.update({"AsyncSession": AsyncSession, "State": State})
        return app_config


def service_provider(
    service_class: type[S],
) -> Callable[[AsyncSession], AsyncIterator[S]]:
    """A Litestar dependency giving `service_class` on the request's session."""

    async def provide_service(db_session: AsyncSession) -> AsyncIterator[S]:
        async with service_class.new(session=db_session) as service:
            yield service

    return provide_service
