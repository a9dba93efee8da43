"""The contract's list envelope: `{"items": [...], "total", "limit", "offset"}`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from litestar import Request
from litestar.params import Parameter

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_

T = TypeVar("T")

# Far past any real list; bounded so the database never sees an offset it cannot hold.
MAX_OFFSET = 10_000_000
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list."""

    items: Sequence[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class PageRequest:
    """Where a list starts and how long it is; bounded so no request asks for everything."""

    limit: int
    offset: int


def provide_page_request(
    request: Request[Any, Any, Any],
    limit: int = Parameter(
        query="limit",
        default=DEFAULT_LIMIT,
        ge=1,
        description="Items per page: at most the server's CONFHUB_PAGE_MAX_LIMIT (500 unless "
        "configured); more is a 400",
    ),
    offset: int = Parameter(
        query="offset", default=0, ge=0, le=MAX_OFFSET, description="Items to skip"
    ),
) -> PageRequest:
    """Dependency: the `limit`/`offset` query parameters every list takes."""
    # The cap is a setting, so it is checked here rather than in the (static) parameter.
    maximum: int = request.app.state.settings.page_max_limit
    if limit > maximum:
        if "limit" in request.query_params:
            raise InvalidInputError("limit", N_("at most %(n)s"), n=maximum)
        limit = maximum  # the default, on a server configured below it
    return PageRequest(limit=limit, offset=offset)
