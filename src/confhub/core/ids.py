"""Ids and codes a request names, bounded where every database and client can hold them.

An id beyond what the database column holds used to reach the driver and fail there (a 500);
bounded at the edge, it is a 400 naming the parameter, and the OpenAPI document says so. Row ids
are 64-bit (BIGINT) on PostgreSQL; official codes and revision numbers are 32-bit (INTEGER) there,
so they get the smaller bound.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter

from confhub.core.text import is_digits

# The largest integer a JavaScript client reads exactly; far inside SQLite's and PostgreSQL's
# BIGINT, and above any id confhub will hand out.
MAX_ID = 2**53 - 1
# PostgreSQL's INTEGER: province and unit codes, minutes revision numbers.
MAX_CODE = 2**31 - 1

# A route handler's path or query parameter naming a row (a meeting id, a point id...).
Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]
# The same, as a field of a request body (msgspec struct).
IdField = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
# A province or unit code (e.g. 38, 15148) as a parameter...
Code = Annotated[int, Parameter(ge=1, le=MAX_CODE)]
# ...and as a field of a request body.
CodeField = Annotated[int, msgspec.Meta(ge=1, le=MAX_CODE)]
# A revision number (1, 2, ...) as a parameter.
Number = Annotated[int, Parameter(ge=1, le=MAX_CODE)]


def parse_code(text: str) -> int | None:
    """A code typed as text ("15148"), or None when it is not digits or beyond any code."""
    value = text.strip()
    if not is_digits(value) or len(value) > len(str(MAX_CODE)):
        return None
    code = int(value)
    return code if 1 <= code <= MAX_CODE else None
