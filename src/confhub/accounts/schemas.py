"""What the accounts API takes and returns."""

from __future__ import annotations

import msgspec

from confhub.accounts.principal import Principal


class LoginRequest(msgspec.Struct):
    """Credentials for `POST /api/v1/auth/login`."""

    email: str = msgspec.field()
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
