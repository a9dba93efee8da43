"""The JSON API's error answers in the OpenAPI document, declared once for every operation.

Every `/api/` error is the one body of :mod:`confhub.core.errors` (`ErrorBody` below). Which
codes an operation may answer follows from what it is, so `ApiErrorResponses` (a plugin, wired
in :mod:`confhub.app` with the accounts' answer to "must the caller be signed in?") adds them to
each operation as its route is registered:

- 400 for bad input: wherever Litestar validates parameters or a body (it declares those);
- 401, 403 and 404 for an operation on one thing (a path parameter names it): the caller must be
  signed in, allowed to see it, and it must exist; and 409 for a change to it (POST, PUT, PATCH,
  DELETE), which its state may forbid (an ended or cancelled meeting, locked minutes);
- 401 for any other operation that needs a signed-in caller, and 403 when it also takes a body
  (the body names what it acts on, e.g. the province of a new meeting);
- 413 for an upload (a multipart body) over the configured size;
- 503 for every operation: the database (or Redis, for a session) is down; `Retry-After` says
  when to try again.

Anything else one operation may answer is declared on its route handler with
`responses=error_responses(...)` (e.g. sign-in's 401 and 429); declarations there win.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Operation, Reference
from litestar.params import BodyKwarg, Parameter
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.typing import FieldDefinition
from msgspec import UNSET, UnsetType

API_PREFIX = "/api/"
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ERROR_SCHEMA = "ErrorBody"

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad input: a parameter or the body is malformed or invalid (`extra` names the field)",
    401: "Not signed in, or the sign-in has expired",
    403: "Signed in, but this is not the caller's to see or to change",
    404: "No such thing (or none the caller may know of)",
    409: "Not possible in the current state (e.g. a status step that does not follow)",
    413: "The upload is larger than the configured limit (CONFHUB_MAX_UPLOAD_MB)",
    503: (
        "A dependency (the database, or Redis for a session) is down: nothing was done; "
        "send the same request again after `Retry-After` seconds"
    ),
}


class ErrorField(msgspec.Struct, omit_defaults=True):
    """What was wrong with one field of the input."""

    message: str
    key: str | UnsetType = UNSET
    source: str | UnsetType = UNSET


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """The JSON error every API operation answers with: `status_code`, `detail`, and for bad
    input `extra`, naming the fields."""

    status_code: int
    detail: str
    extra: list[ErrorField] | UnsetType = UNSET


# One component, under one name, whatever else is called ErrorBody.
DocumentedErrorBody = Annotated[ErrorBody, Parameter(schema_component_key=ERROR_SCHEMA)]


def error_response(status_code: int, description: str | None = None) -> ResponseSpec:
    """The OpenAPI response of one error code, with the one error body."""
    return ResponseSpec(
        data_container=DocumentedErrorBody,
        description=description or ERROR_DESCRIPTIONS[status_code],
        generate_examples=False,
    )


def error_responses(*status_codes: int) -> dict[int, ResponseSpec]:
    """`responses=` for a route handler: the listed error codes with the one error body."""
    return {code: error_response(code) for code in status_codes}


@dataclass
class ApiOperation(Operation):
    """An API operation whose 400 (declared by Litestar's validation) uses the one error body."""

    def __post_init__(self) -> None:
        bad_input = (self.responses or {}).get("400")
        if bad_input is None or isinstance(bad_input, Reference):
            return
        for media in (bad_input.content or {}).values():
            media.schema = Reference(ref=f"#/components/schemas/{ERROR_SCHEMA}")
        bad_input.description = ERROR_DESCRIPTIONS[400]


# Whether an operation refuses anonymous callers (the accounts' guards know).
SignInCheck = Callable[[HTTPRouteHandler], bool]


def _is_upload(body: FieldDefinition) -> bool:
    marker = body.kwarg_definition
    return isinstance(marker, BodyKwarg) and marker.media_type == RequestEncodingType.MULTI_PART


def derived_error_codes(
    route: HTTPRoute, handler: HTTPRouteHandler, needs_sign_in: SignInCheck
) -> list[int]:
    """The error codes an API operation may answer, from what it is (see the module's text)."""
    codes: set[int] = set()
    body = handler.parsed_fn_signature.parameters.get("data")
    if route.path_parameters:
        codes |= {401, 403, 404}
        if handler.http_methods & CHANGES:
            codes.add(409)
    elif needs_sign_in(handler):
        codes |= {401, 403} if body is not None else {401}
    if body is not None and _is_upload(body):
        codes.add(413)
    codes.add(503)
    return sorted(codes)


class ApiErrorResponses(ReceiveRoutePlugin):
    """Declares the error answers of every `/api/` operation as its route is registered."""

    def __init__(self, needs_sign_in: SignInCheck) -> None:
        self.needs_sign_in = needs_sign_in

    def receive_route(self, route: BaseRoute) -> None:
        """Add the derived error responses (keeping the handler's own) to each API handler."""
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            return
        for handler in route.route_handlers:
            declared = dict(handler.responses or {})
            derived = error_responses(*derived_error_codes(route, handler, self.needs_sign_in))
            handler.responses = {**derived, **declared}
            handler.operation_class = ApiOperation
