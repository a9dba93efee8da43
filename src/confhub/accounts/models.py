"""User accounts with a role scoped to a province or a unit."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from confhub.core import tokens
from confhub.db.base import BigIntAuditBase


class Role(enum.StrEnum):
    """What an account may do; see the contract's "Roles"."""

    ADMIN = "admin"
    SECRETARIAT = "secretariat"
    CHAIR = "chair"
    VIEWER = "viewer"
    # A unit's news editor: scoped to a unit like a chair; edits and publishes its articles.
    EDITOR = "editor"


class User(BigIntAuditBase):
    """A person who signs in. Passwords are stored only as argon2 hashes."""

    __tablename__ = "user_account"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[int | None] = mapped_column(ForeignKey("province.code"), index=True)
    unit_code: Mapped[int | None] = mapped_column(ForeignKey("unit.code"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The secret of the user's private calendar feed (/calendar/private/{token}.ics); NULL until
    # first shown on /profile, replaced by a reset (every old link stops working).
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # SHA-256 of the token, kept in step by `_digest_token`: the feed is looked up by it.
    calendar_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    @validates("calendar_token")
    def _digest_token(self, _key: str, token: str | None) -> str | None:
        self.calendar_token_digest = tokens.digest_or_none(token)
        return token
