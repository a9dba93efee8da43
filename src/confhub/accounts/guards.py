"""Route guards reused by every domain: signed in, and one of some roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import HTTPRouteHandler
from litestar.handlers.base import BaseRouteHandler

from confhub.accounts.models import Role
from confhub.accounts.principal import Principal
from confhub.core.errors import AuthenticationRequiredError, PermissionDeniedError
from confhub.core.i18n import N_

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The signed-in principal, or None for an anonymous visitor."""
    user = connection.scope.get("user")
    return user if isinstance(user, Principal) else None


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Refuse anonymous callers with 401."""
    if current_principal(connection) is None:
        raise AuthenticationRequiredError(N_("Sign in first"))


def requires_role(*roles: Role) -> Guard:
    """A guard letting through only the given roles (admins always pass)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        requires_login(connection, handler)
        principal = current_principal(connection)
        assert principal is not None
        if not (principal.is_admin or principal.role in roles):
            raise PermissionDeniedError(N_("Your role may not do this"))

    return guard


def provide_principal(request: Any) -> Principal | None:
    """Dependency: the signed-in principal or None."""
    return current_principal(request)


def provide_required_principal(request: Any) -> Principal:
    """Dependency: the signed-in principal; 401 when anonymous."""
    principal = current_principal(request)
    if principal is None:
        raise AuthenticationRequiredError(N_("Sign in first"))
    return principal


def needs_sign_in(handler: HTTPRouteHandler) -> bool:
    """Whether the handler refuses anonymous callers: a sign-in or role guard on any of its
    layers, or the required principal as a dependency (for the OpenAPI document's 401s)."""
    # The layers' own guards: resolve_guards() returns them wrapped.
    guards = [guard for layer in handler.ownership_layers for guard in layer.guards or []]
    if any(guard is requires_login or guard.__qualname__ == _ROLE_GUARD for guard in guards):
        return True
    provider = handler.resolve_dependencies().get("principal")
    return provider is not None and provider.dependency is provide_required_principal


# Every guard requires_role() makes has this name.
_ROLE_GUARD = requires_role(Role.ADMIN).__qualname__
