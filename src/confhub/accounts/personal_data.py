"""What the accounts domain stores about a person (confhub.core.people): their accounts, found
by e-mail, id or full name. Their e-mails and full names are how other domains' labels name
them. Erasing deletes the accounts (the other domains have let go of them first).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select

from confhub.accounts.models import User
from confhub.core.people import Findings, Matcher, Person, PersonalData
from confhub.db import DbSession


class AccountsData(PersonalData[list[User]]):
    """User accounts."""

    async def find(self, session: DbSession, person: Person, found: Findings) -> list[User]:
        """The accounts asked for by e-mail or id, and those with one of the names asked for."""
        query = person.query
        emails = {u.strip().lower() for u in query.users if not u.strip().isdigit()}
        ids = {int(u) for u in query.users if u.strip().isdigit()}
        users = await session.scalars(
            select(User).where(or_(User.email.in_(emails), User.id.in_(ids))).order_by(User.id)
        )
        accounts = list(users)
        wanted = Matcher(query.names, query.phones)
        if wanted.names:
            named = await session.scalars(
                select(User).where(User.full_name != "").order_by(User.id)
            )
            accounts += [u for u in named if wanted.is_name(u.full_name) and u not in accounts]
        full_names = {u.full_name for u in accounts if u.full_name}
        person.account_ids |= {u.id for u in accounts}
        person.labels |= {u.email for u in accounts} | full_names
        person.names |= full_names
        return accounts

    def export(self, part: list[User]) -> dict[str, Any]:
        """The accounts, without their password hashes or tokens."""
        return {
            "accounts": [
                {
                    "id": u.id,
                    "email": u.email,
                    "full_name": u.full_name,
                    "role": u.role,
                    "province_code": u.province_code,
                    "unit_code": u.unit_code,
                    "is_active": u.is_active,
                    "created_at": u.created_at.isoformat() if u.created_at else None,
                }
                for u in part
            ]
        }

    def counts(self, part: list[User]) -> dict[str, int]:
        """The accounts deleted."""
        return {"accounts_deleted": len(part)}

    async def erase(self, session: DbSession, part: list[User], found: Findings) -> None:
        """Delete the accounts."""
        if part:
            await session.execute(delete(User).where(User.id.in_([u.id for u in part])))
