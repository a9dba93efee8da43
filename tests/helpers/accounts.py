"""Accounts the demo does not seed, created straight in a test's database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from confhub.accounts.services import UserService
from confhub.db.engine import create_engine, session_maker

PASSWORD = "a-long-password-1"


def create_accounts(
    database_url: str,
    accounts: Iterable[tuple[str, str, Mapping[str, Any]]],
    password: str = PASSWORD,
) -> None:
    """Create each (email, role, scope) account with `password`, in one transaction."""

    async def run() -> None:
        engine = create_engine(database_url)
        try:
            async with session_maker(engine)() as session, session.begin():
                users = UserService(session=session)
                for email, role, scope in accounts:
                    await users.create_user(email=email, password=password, role=role, **scope)
        finally:
            await engine.dispose()

    asyncio.run(run())


def create_account(
    database_url: str, email: str, role: str, password: str = PASSWORD, **scope: Any
) -> str:
    """Create one account; returns its password."""
    create_accounts(database_url, [(email, role, scope)], password)
    return password
