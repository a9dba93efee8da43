"""The contract's list envelope: `{"items": [...], "total", "limit", "offset"}`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from litestar.params import Parameter

T = TypeVar("T")

MAX_LIMIT = 500
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
    limit: int = Parameter(
        query="limit", default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page"
    ),
    offset: int = Parameter(
        query="offset", default=0, ge=0, le=MAX_OFFSET, description="Items to skip"
    ),
) -> PageRequest:
    """Dependency: the `limit`/`offset` query parameters every list takes."""
    return PageRequest(limit=limit, offset=offset)
