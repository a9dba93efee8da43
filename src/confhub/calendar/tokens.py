"""The private feed's secret: one per user, made when first shown, replaced by a reset.

A user's private feed is `/calendar/private/{token}.ics`. Resetting the token makes every address
built with the old one answer 404 at once (in the other worker processes within a second, see
:mod:`confhub.calendar.versions`).
"""

from __future__ import annotations

from confhub.accounts.models import User
from confhub.core import tokens
from confhub.core.errors import NotFoundError
from confhub.core.i18n import N_
from confhub.db import DbSession


def new_calendar_token() -> str:
    """An unguessable private-feed secret (128 bits, URL-safe)."""
    return tokens.new_token()


class CalendarTokenService:
    """Makes and replaces users' private-feed tokens."""

    def __init__(self, session: DbSession) -> None:
        self.session = session

    async def calendar_token(self, user_id: int) -> str:
        """The user's private-feed token, made on first use."""
        user = await self._user(user_id)
        if user.calendar_token is None:
            user.calendar_token = new_calendar_token()
            await self.session.flush()
        return user.calendar_token

    async def reset_calendar_token(self, user_id: int) -> str:
        """A new token; every address made with the old one stops working at once."""
        user = await self._user(user_id)
        user.calendar_token = new_calendar_token()
        await self.session.flush()
        return user.calendar_token

    async def _user(self, user_id: int) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise NotFoundError(N_("No user %(id)s"), id=user_id)
        return user
