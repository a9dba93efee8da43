"""Ids and codes a request names, bounded where every database and client can hold them.

An id beyond what the database column holds used to reach the driver and fail there (a 500);
bounded at the edge, it is a 400 naming the parameter, and the OpenAPI document says so.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter

# The largest integer a JavaScript client reads exactly; far inside SQLite's and PostgreSQL's
# BIGINT, and above any id or official code confhub will hand out.
MAX_ID = 2**53 - 1

# A route handler's path or query parameter naming a row (a meeting id, a unit code...).
Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]
# The same, as a field of a request body (msgspec struct).
IdField = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
