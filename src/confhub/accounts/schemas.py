"""What the accounts API takes and returns."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from confhub.accounts.principal import Principal
from confhub.core.bodies import Body
from confhub.core.text import Line


class LoginRequest(Body):
    """Credentials for `POST /api/v1/auth/login`."""

    # The longest address RFC 5321 allows. The password is only ever hashed: any text will do.
    email: Annotated[str, Meta(max_length=320), Line] = msgspec.field()
    password: str = msgspec.field()


class UserRead(msgspec.Struct):
    """A user as the API shows it (never the password hash)."""

    id: int
    email: str
    full_name: str
    role: str
    province_code: int | None
    unit_code: int | None

    @classmethod
    def of(cls, principal: Principal) -> UserRead:
        """From the request's principal."""
        return cls(
            id=principal.id,
            email=principal.email,
            full_name=principal.full_name,
            role=principal.role.value,
            province_code=principal.province_code,
            unit_code=principal.unit_code,
        )
