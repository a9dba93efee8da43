"""Sign-in throttling (`CONFHUB_LOGIN_RATE_LIMIT` attempts per client address and minute).

Litestar's rate-limit middleware keeps its counters in the app's `rate_limit` store: Redis when
`CONFHUB_REDIS_URL` is set, so every process counts the same attempts; memory otherwise. The
client address is the one uvicorn derived from `X-Forwarded-For` of a trusted proxy.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig

RATE_LIMIT_STORE = "rate_limit"
SIGN_IN_PATHS = frozenset({"/api/v1/auth/login", "/login"})


def is_sign_in_attempt(request: Request[Any, Any, Any]) -> bool:
    """A POST of credentials (the JSON API's or the sign-in form's)."""
    return request.method == "POST" and request.url.path in SIGN_IN_PATHS


def sign_in_rate_limit(per_minute: int) -> RateLimitConfig:
    """At most `per_minute` sign-in attempts per client address in any minute; then 429."""
    return RateLimitConfig(
        rate_limit=("minute", per_minute),
        store=RATE_LIMIT_STORE,
        check_throttle_handler=is_sign_in_attempt,
        set_rate_limit_headers=False,
    )
