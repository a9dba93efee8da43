"""Dependency providers of the calendar domain, and the app's memories the feeds share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.calendar.services import CalendarService, FeedPolicy
from confhub.calendar.tokens import CalendarTokenService
from confhub.calendar.versions import VersionMemory

T = TypeVar("T")

VERSIONS_KEY = "calendar_versions"
BODIES_KEY = "calendar_bodies"


def remembered(request: Request[Any, Any, Any], key: str, make: Callable[[], T]) -> T:
    """A per-app memory (one per app: the app's database), made on first use."""
    state = request.app.state
    memory: Any = state.get(key)
    if memory is None:
        memory = state.setdefault(key, make())
    return cast("T", memory)


async def provide_calendar_service(
    db_session: AsyncSession, request: Request[Any, Any, Any]
) -> CalendarService:
    """Dependency: the calendar service on the request's session, remembering versions."""
    memory: VersionMemory[Any] = remembered(request, VERSIONS_KEY, VersionMemory)
    return CalendarService(db_session, FeedPolicy.of(request.app.state.settings), memory=memory)


async def provide_token_service(db_session: AsyncSession) -> CalendarTokenService:
    """Dependency: the private-feed token service on the request's session."""
    return CalendarTokenService(db_session)
