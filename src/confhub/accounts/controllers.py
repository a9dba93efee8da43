"""Sign-in and sign-out: the JSON API and the HTML login page."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_204_NO_CONTENT,
    HTTP_401_UNAUTHORIZED,
    HTTP_429_TOO_MANY_REQUESTS,
)

from confhub.accounts.deps import provide_user_service
from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.middleware import SESSION_USER_KEY
from confhub.accounts.models import User
from confhub.accounts.principal import Principal
from confhub.accounts.schemas import LoginRequest, UserRead
from confhub.accounts.services import UserService
from confhub.accounts.sessions import rotate_session_id
from confhub.core.errors import AuthenticationRequiredError
from confhub.system.openapi import error_response
from confhub.system.ratelimit import (
    TooManySignInAttemptsError,
    client_address,
    login_throttle,
)

THROTTLED_DESCRIPTION = (
    "Too many failed sign-ins for this e-mail or from this address: refused, whatever the "
    "password, until the time in `Retry-After` (seconds) has passed"
)


async def _authenticate(
    request: Request[Any, Any, Any], users: UserService, email: str, password: str
) -> User:
    """The user, through the sign-in throttle (which may refuse before checking anything)."""
    async with login_throttle(request).attempt(email, client_address(request)):
        return await users.authenticate(email, password)


async def _sign_in(request: Request[Any, Any, Any], user_id: int) -> None:
    # A fresh session id on sign-in, so an id planted before sign-in is worthless afterwards.
    rotate_session_id(request)
    request.clear_session()
    request.set_session({SESSION_USER_KEY: user_id})


class AuthApiController(Controller):
    """`/api/v1/auth`: JSON sign-in for scripts and the browser's fetch calls."""

    path = "/api/v1/auth"
    tags = ["accounts"]
    dependencies = {"users": Provide(provide_user_service)}

    @post(
        "/login",
        status_code=HTTP_200_OK,
        summary="Sign in and receive the session cookie",
        responses={
            HTTP_401_UNAUTHORIZED: error_response(401, "Wrong e-mail and password pair"),
            HTTP_429_TOO_MANY_REQUESTS: error_response(429, THROTTLED_DESCRIPTION),
        },
    )
    async def login(
        self, request: Request[Any, Any, Any], data: LoginRequest, users: UserService
    ) -> UserRead:
        """Check the e-mail and password; 401 (without saying which was wrong) otherwise, and
        429 with `Retry-After` after too many failures for the e-mail or from the address."""
        user = await _authenticate(request, users, data.email, data.password)
        await _sign_in(request, user.id)
        return UserRead.of(await users.principal_of(user))

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="End the session")
    async def logout(self, request: Request[Any, Any, Any]) -> None:
        """Forget the session; harmless when not signed in."""
        request.clear_session()

    @get(
        "/me",
        guards=[requires_login],
        dependencies={"principal": Provide(provide_required_principal, sync_to_thread=False)},
        summary="The signed-in user",
    )
    async def me(self, principal: Principal) -> UserRead:
        """Who the session belongs to."""
        return UserRead.of(principal)


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so the login form cannot bounce a user to another site.
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


class LoginPageController(Controller):
    """The HTML sign-in page and the sign-out button's target."""

    include_in_schema = False
    dependencies = {"users": Provide(provide_user_service)}

    @get("/login", name="login")
    async def login_page(
        self, next_url: str | None = Parameter(query="next", default=None)
    ) -> Template:
        """Show the sign-in form."""
        return Template("accounts/login.html", context={"next_url": _safe_next(next_url)})

    @post("/login")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        users: UserService,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """Sign in from the form; on failure show the form again with one neutral message
        (and, once throttled, how many minutes to wait)."""
        next_url = _safe_next(data.get("next"))
        email = data.get("email", "")
        try:
            user = await _authenticate(request, users, email, data.get("password", ""))
        except AuthenticationRequiredError:
            return Template(
                "accounts/login.html",
                context={"next_url": next_url, "error": True, "email": email},
                status_code=401,
            )
        except TooManySignInAttemptsError as refused:
            return Template(
                "accounts/login.html",
                context={
                    "next_url": next_url,
                    "email": email,
                    "retry_minutes": max(1, math.ceil(refused.retry_after / 60)),
                },
                status_code=refused.status_code,
                headers=refused.headers,
            )
        await _sign_in(request, user.id)
        return Redirect(next_url)

    @post("/logout")
    async def logout_form(self, request: Request[Any, Any, Any]) -> Redirect:
        """Sign out and go home."""
        request.clear_session()
        return Redirect("/")
