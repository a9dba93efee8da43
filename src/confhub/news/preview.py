"""`/api/v1/news/preview`: Markdown rendered as the pages will show it, while an editor types.

The text is not saved yet, so it is rendered on demand: within the bounds of a save, in the
render thread, and at most `PREVIEW_BURST` at once then `PREVIEW_PER_SECOND` a second per user
(the editor's page asks once a pause in typing, 350 ms). The count is this process's: the CPU a
preview costs is its process's too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_429_TOO_MANY_REQUESTS

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.core.errors import ConfhubError
from confhub.core.i18n import N_
from confhub.news.markdown import in_render_thread, render_checked
from confhub.news.schemas import PreviewRead, PreviewWrite
from confhub.system.openapi import error_response

PREVIEW_BURST = 10
PREVIEW_PER_SECOND = 2.0
THROTTLE_KEY = "news_preview_throttle"
# Users whose allowance is full again are forgotten once this many are remembered.
_FORGET_ABOVE = 1_000


class TooManyPreviewsError(ConfhubError):
    """A user asked for previews faster than the allowance; `Retry-After` says when to retry."""

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            N_("Too many previews; try again in %(seconds)s seconds"), seconds=retry_after
        )
        self.headers = {"Retry-After": str(retry_after)}


class PreviewThrottle:
    """A token bucket per user: `burst` previews at once, refilled at `per_second`."""

    def __init__(
        self,
        burst: int = PREVIEW_BURST,
        per_second: float = PREVIEW_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst, self.per_second, self.clock = float(burst), per_second, clock
        self.buckets: dict[int, tuple[float, float]] = {}  # user id: (tokens, at)

    def take(self, user_id: int) -> None:
        """Spend one preview of `user_id`'s allowance; `TooManyPreviewsError` when empty."""
        now = self.clock()
        tokens, at = self.buckets.get(user_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.per_second)
        if tokens < 1:
            self.buckets[user_id] = (tokens, now)
            raise TooManyPreviewsError(math.ceil((1 - tokens) / self.per_second))
        self.buckets[user_id] = (tokens - 1, now)
        if len(self.buckets) > _FORGET_ABOVE:
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for user_id, (tokens, at) in list(self.buckets.items()):
            if tokens + (now - at) * self.per_second >= self.burst:
                del self.buckets[user_id]


def preview_throttle(request: Request[Any, Any, Any]) -> PreviewThrottle:
    """The app's one preview throttle."""
    state = request.app.state
    throttle = state.get(THROTTLE_KEY)
    if throttle is None:
        throttle = state[THROTTLE_KEY] = PreviewThrottle()
    assert isinstance(throttle, PreviewThrottle)
    return throttle


class PreviewApiController(Controller):
    """Markdown rendered through the same sanitiser as the public pages (for the live preview)."""

    path = "/api/v1/news/preview"
    tags = ["articles"]
    guards = [requires_login]
    dependencies = {"principal": Provide(provide_required_principal, sync_to_thread=False)}

    @post(
        "/",
        status_code=HTTP_200_OK,
        summary="Render Markdown as the pages do",
        responses={
            HTTP_429_TOO_MANY_REQUESTS: error_response(
                429, "Too many previews from this user; try again after `Retry-After` seconds"
            )
        },
    )
    async def preview(
        self, request: Request[Any, Any, Any], principal: Principal, data: PreviewWrite
    ) -> PreviewRead:
        """Only signed-in users: this is the editors' tool, not a public service. 400 for a text
        a save would refuse (too long, too much formatting); 429 with `Retry-After` when one
        user asks faster than 10 at once, then 2 a second. `raw_html` names the HTML tags the
        text holds: every page shows them as their text only."""
        preview_throttle(request).take(principal.id)
        rendered = await in_render_thread(render_checked, data.markdown, "markdown")
        return PreviewRead(html=str(rendered.html), raw_html=list(rendered.raw_html_tags))
