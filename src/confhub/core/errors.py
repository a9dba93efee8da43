"""One exception hierarchy for confhub, mapped to HTTP once (in :mod:`confhub.app`).

Services raise these with their words (a message id and its values, see
:mod:`confhub.core.messages`); controllers never build error responses by hand. JSON clients get
`{"status_code", "detail"}` in English (plus `extra` naming the field for bad input); browsers
get a page in their language.
"""

from __future__ import annotations

import re
from typing import Any

from advanced_alchemy.exceptions import NotFoundError as RepositoryNotFoundError
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template
from litestar.status_codes import (
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from confhub.core.i18n import N_, language_of
from confhub.core.messages import Message, Renderable, sentence
from confhub.core.outages import RETRY_AFTER_SECONDS, outage_of


class ConfhubError(Exception):
    """Base of every error a user can cause; `status_code` is its HTTP meaning.

    Raised with its words: an English message id marked with `N_` and the values of its
    placeholders (`ConflictError(N_("The meeting is %(status)s"), status=...)`), or a ready
    :class:`Message`. The API's `detail` is the English text; a page renders `message` in its
    language (:func:`confhub.core.messages.sentence` makes it a sentence).
    """

    status_code = 400
    field: str | None = None

    def __init__(self, message: str | Renderable, /, **values: Any) -> None:
        self.message: Renderable = Message(message, values) if isinstance(message, str) else message
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        """The API's `detail`: the English text with its values filled."""
        return self.message.render()

    @property
    def extra(self) -> list[dict[str, Any]] | None:
        """The API's `extra` (the fields named by bad input); None for other errors."""
        return None


class InvalidInputError(ConfhubError):
    """A value the caller sent is wrong; `field` names it. `more` names further entries (the
    rows of a sheet), each with its own message; the API lists them after the field in `extra`."""

    status_code = 400
    field: str

    def __init__(self, field: str, message: str | Renderable, /, **values: Any) -> None:
        self.field = field
        self.more: list[tuple[str, Renderable]] = []
        super().__init__(message, **values)

    @property
    def detail(self) -> str:
        """`field: message`, in English."""
        return f"{self.field}: {self.message.render()}"

    @property
    def extra(self) -> list[dict[str, Any]]:
        """`{"key", "message"}` for the field, then for each of `more`, in English."""
        entries = [(self.field, self.message), *self.more]
        return [{"key": key, "message": message.render()} for key, message in entries]


class AuthenticationRequiredError(ConfhubError):
    """The caller is not signed in, or the credentials are wrong."""

    status_code = 401


class PermissionDeniedError(ConfhubError):
    """The caller is signed in but may not do this."""

    status_code = 403


class NotFoundError(ConfhubError):
    """The thing asked for does not exist (or the caller may not know it exists)."""

    status_code = 404


class ConflictError(ConfhubError):
    """The request is well-formed but impossible in the current state (e.g. a status step)."""

    status_code = 409


class PayloadTooLargeError(ConfhubError):
    """An upload is larger than the configured limit."""

    status_code = 413

    @classmethod
    def upload(cls, limit_mb: int) -> PayloadTooLargeError:
        """The error for an upload past `limit_mb` (CONFHUB_MAX_UPLOAD_MB), in its one wording."""
        return cls(N_("The file is larger than the limit of %(n)s MB"), n=limit_mb)


class ServiceUnavailableError(ConfhubError):
    """A dependency (the database, Redis) is down: 503 with `Retry-After`; nothing was done,
    so the same request may be sent again."""

    status_code = HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self, dependency: str) -> None:
        super().__init__(
            N_(
                "Service temporarily unavailable: %(dependency)s is not answering; "
                "try again in %(seconds)s seconds"
            ),
            dependency=dependency,
            seconds=RETRY_AFTER_SECONDS,
        )
        self.dependency = dependency
        self.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


def as_outage(exc: BaseException) -> ServiceUnavailableError | None:
    """`exc` as a 503 when it says a dependency is down (see :mod:`confhub.core.outages`)."""
    if isinstance(exc, ServiceUnavailableError):
        return exc
    dependency = outage_of(exc)
    return ServiceUnavailableError(dependency) if dependency else None


def wants_json(request: Request[Any, Any, Any]) -> bool:
    """Whether an error is answered as JSON (the API, feeds, programs) rather than a page."""
    return _wants_json(request)


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/schema", "/calendar/", "/ws/")):
        return True
    accept = request.headers.get("accept", "")
    return "text/html" not in accept


def _error_parts(exc: Exception) -> tuple[int, str, Any]:
    if isinstance(exc, ConfhubError):
        return exc.status_code, exc.detail, exc.extra
    if isinstance(exc, RepositoryNotFoundError):
        return 404, "Not found", None
    if isinstance(exc, HTTPException):
        return exc.status_code, _unknown_field(exc.extra) or exc.detail, _explained(exc.extra)
    return HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error", None


_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `([^`]{1,100})`(?: - at `\$(.*)`)?")


def _unknown_field(extra: Any) -> str | None:
    """ "fax: unknown field" for a body with a field the API does not take (msgspec says it in
    `extra` only; a client reading `detail` should learn which field was refused)."""
    if not isinstance(extra, list) or not extra or not isinstance(extra[0], dict):
        return None
    match = _UNKNOWN_FIELD.fullmatch(str(extra[0].get("message", "")))
    if match is None:
        return None
    # Where it sits in the body: msgspec's own path, or the key Litestar split from it (`data`
    # for the body itself).
    key = str(extra[0].get("key") or "")
    where = (match.group(2) or "").lstrip(".") or ("" if key == "data" else key)
    name = f"{where}.{match.group(1)}" if where else match.group(1)
    return f"{name}: unknown field, not one this request takes"


def _explained(extra: Any) -> Any:
    """Litestar's validation errors, with msgspec's "matching regex '...'" put into words."""
    # Imported here: confhub.core.text raises the errors defined above.
    from confhub.core.text import explain

    if not isinstance(extra, list):
        return extra
    return [
        {**item, "message": explain(item["message"])}
        if isinstance(item, dict) and isinstance(item.get("message"), str)
        else item
        for item in extra
    ]


def error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Render any exception as the contract's JSON error or, for a browser, an error page;
    a dependency that is down is a 503 with `Retry-After`, never a 500."""
    outage = as_outage(exc)
    if outage is not None:
        request.logger.warning(
            "%s %s: 503, %s is down (%s: %s)",
            request.method,
            request.url.path,
            outage.dependency,
            type(exc).__name__,
            str(exc).splitlines()[0] if str(exc) else "",
        )
        exc = outage
    if isinstance(exc, HTTPException) and exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        # Litestar's own refusal of a body past request_max_body_size, said as ours is.
        exc = PayloadTooLargeError.upload(request.app.state.settings.max_upload_mb)
    status_code, detail, extra = _error_parts(exc)
    if status_code >= HTTP_500_INTERNAL_SERVER_ERROR and outage is None:
        request.logger.exception("unhandled error on %s %s", request.method, request.url.path)
    headers = getattr(exc, "headers", None) or None
    if _wants_json(request):
        body: dict[str, Any] = {"status_code": status_code, "detail": detail}
        if extra:
            body["extra"] = extra
        return Response(body, status_code=status_code, media_type=MediaType.JSON, headers=headers)
    message = exc.message if isinstance(exc, ConfhubError) else _page_words(status_code)
    detail = sentence(message.render(language_of(request)))
    return Template(
        template_name="error.html",
        context={"status_code": status_code, "detail": detail},
        status_code=status_code,
        headers=headers,
    )


# What a page says of a refusal that is not confhub's own (Litestar's validation of the address
# or form, its CSRF check): their English detail is for the API only.
_PAGE_WORDS = {
    400: N_("A value in the address or in the form sent is not valid."),
    403: N_("Not allowed. If the form was open for a long time, load the page again and send it."),
}


def _page_words(status_code: int) -> Message:
    return Message(_PAGE_WORDS.get(status_code, N_("The request could not be handled")))


exception_handlers: dict[type[Exception] | int, Any] = {
    ConfhubError: error_response,
    RepositoryNotFoundError: error_response,
    HTTPException: error_response,
    HTTP_500_INTERNAL_SERVER_ERROR: error_response,
}
