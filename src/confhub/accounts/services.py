"""Account rules: creating users with a valid role scope, and checking a sign-in."""

from __future__ import annotations

import re

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from confhub.accounts.models import Role, User
from confhub.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from confhub.accounts.principal import Principal
from confhub.core.errors import AuthenticationRequiredError, ConflictError, InvalidInputError
from confhub.core.i18n import N_
from confhub.core.messages import Word
from confhub.db.services import RepositoryService
from confhub.db.transactions import release_connection
from confhub.units.models import Province, Unit

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def role_word(role: Role) -> Word:
    """A role as a value of a message: its code in the API, the catalog's word on a page."""
    return Word(role.value, role.value)


class UserRepository(SQLAlchemyAsyncRepository[User]):
    """Database access for users."""

    model_type = User


class UserService(RepositoryService[User, UserRepository]):
    """Creates accounts and checks sign-ins."""

    repository_type = UserRepository

    async def create_user(
        self,
        *,
        email: str,
        password: str,
        role: str,
        province_code: int | None = None,
        unit_code: int | None = None,
        full_name: str = "",
    ) -> User:
        """Create an account; the role decides which of province/unit is required."""
        email = email.strip().lower()
        if not _EMAIL.match(email):
            raise InvalidInputError("email", N_("not an e-mail address"))
        try:
            role_value = Role(role)
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise InvalidInputError(
                "role", N_("must be one of %(allowed)s"), allowed=allowed
            ) from None
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInputError(
                "password", N_("must be at least %(n)s characters"), n=MIN_PASSWORD_LENGTH
            )
        province_code, unit_code = await self._check_scope(role_value, province_code, unit_code)
        if await self.repository.exists(email=email):
            raise ConflictError(N_("email: an account for %(email)s already exists"), email=email)
        password_hash = await hash_password(password)
        return await self.create(
            User(
                email=email,
                full_name=full_name.strip(),
                password_hash=password_hash,
                role=role_value.value,
                province_code=province_code,
                unit_code=unit_code,
            )
        )

    async def _check_scope(
        self, role: Role, province_code: int | None, unit_code: int | None
    ) -> tuple[int | None, int | None]:
        session = self.session
        if role in (Role.CHAIR, Role.EDITOR):
            if unit_code is None:
                raise InvalidInputError(
                    "unit", N_("a %(role)s needs the code of its unit"), role=role_word(role)
                )
            unit = await session.get(Unit, unit_code)
            if unit is None:
                raise InvalidInputError("unit", N_("unknown unit code %(code)s"), code=unit_code)
            if province_code is not None and province_code != unit.province_code:
                raise InvalidInputError(
                    "province",
                    N_("unit %(unit)s is not in %(province)s"),
                    unit=unit_code,
                    province=province_code,
                )
            return unit.province_code, unit_code
        if unit_code is not None:
            raise InvalidInputError(
                "unit",
                N_("only a chair or an editor belongs to a unit, not %(role)s"),
                role=role_word(role),
            )
        if role in (Role.SECRETARIAT, Role.VIEWER):
            if province_code is None:
                raise InvalidInputError(
                    "province", N_("a %(role)s needs a province code"), role=role_word(role)
                )
            if await session.get(Province, province_code) is None:
                raise InvalidInputError(
                    "province", N_("unknown province code %(code)s"), code=province_code
                )
        return province_code, None

    async def authenticate(self, email: str, password: str) -> User:
        """The active user with this e-mail and password; one error whichever half is wrong."""
        user = await self.get_one_or_none(email=email.strip().lower())
        await release_connection(self.session)  # sign-ins may queue for the hashing thread
        valid = await verify_password(user.password_hash if user else None, password)
        if user is None or not valid or not user.is_active:
            raise AuthenticationRequiredError(N_("Wrong e-mail or password"))
        return user

    async def principal(self, user_id: int) -> Principal | None:
        """The principal of an active user, or None."""
        row = (
            await self.session.execute(
                select(User, Unit.province_code)
                .outerjoin(Unit, Unit.code == User.unit_code)
                .where(User.id == user_id, User.is_active.is_(True))
            )
        ).first()
        if row is None:
            return None
        return Principal.of(row[0], row[1])

    async def principal_of(self, user: User) -> Principal:
        """The principal of a user row just read (a chair's province is its unit's)."""
        unit = None if user.unit_code is None else await self.session.get(Unit, user.unit_code)
        return Principal.of(user, unit.province_code if unit else None)
