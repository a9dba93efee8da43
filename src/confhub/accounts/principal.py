"""Who is making a request: a small immutable view of the signed-in user that guards read."""

from __future__ import annotations

from dataclasses import dataclass

from confhub.accounts.models import Role, User


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the rest of the app sees it (no password hash)."""

    id: int
    email: str
    full_name: str
    role: Role
    province_code: int | None
    unit_code: int | None

    @classmethod
    def of(cls, user: User, unit_province_code: int | None = None) -> Principal:
        """Build from a user row; a chair's or an editor's province is its unit's province."""
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=Role(user.role),
            province_code=user.province_code or unit_province_code,
            unit_code=user.unit_code,
        )

    @property
    def is_admin(self) -> bool:
        """Admins may do everything."""
        return self.role is Role.ADMIN

    def manages_province(self, province_code: int) -> bool:
        """May schedule meetings and write minutes for this province."""
        return self.is_admin or (
            self.role is Role.SECRETARIAT and self.province_code == province_code
        )

    def reads_province(self, province_code: int) -> bool:
        """May read dashboards of this province (secretariat and viewer of it, admin)."""
        return self.is_admin or (
            self.role in (Role.SECRETARIAT, Role.VIEWER) and self.province_code == province_code
        )
