"""The calendar feeds' routes (`/calendar/...`) and the profile page with the private feed.

Each feed answers a conditional GET from its version alone (one aggregate query, remembered for a
second): a `304` never loads or builds the calendar. Otherwise the calendar is built once per
version, in a worker thread so a large feed does not hold up the event loop (and the live boards
on it), and kept for the next client that asks.
"""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_304_NOT_MODIFIED
from markupsafe import Markup

from confhub.accounts.guards import current_principal
from confhub.calendar.builder import IcsExporter, serialize
from confhub.calendar.deps import (
    BODIES_KEY,
    provide_calendar_service,
    provide_token_service,
    remembered,
)
from confhub.calendar.links import CalendarLinkFactory
from confhub.calendar.services import CalendarService, Feed, FeedKind, FeedPolicy
from confhub.calendar.tokens import CalendarTokenService
from confhub.calendar.versions import BodyMemory, FeedVersion
from confhub.core.errors import AuthenticationRequiredError, NotFoundError
from confhub.core.i18n import DEFAULT_LANGUAGE, N_, SUPPORTED_LANGUAGES, gettext, language_of
from confhub.core.ids import MAX_CODE, MAX_ID
from confhub.core.text import is_digits
from confhub.meetings.qr import qr_svg

# Litestar adds "; charset=utf-8" to text types.
CALENDAR_MEDIA_TYPE = "text/calendar"
# Public feeds may be kept by caches for a few minutes; private ones are revalidated every time.
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, no-cache"
_MAX_KEY_DIGITS = 18  # beyond any id or code: no huge number is even converted


def _stem(filename: str) -> str:
    stem, dot, extension = filename.rpartition(".")
    if not dot or extension != "ics" or not stem:
        raise NotFoundError(N_("Calendar feeds end in .ics"))
    return stem


def _number(filename: str, largest: int) -> int:
    """The id or code a feed's file name holds; 404 when it is none that can exist."""
    stem = _stem(filename)
    if not is_digits(stem) or len(stem) > _MAX_KEY_DIGITS or int(stem) > largest:
        raise NotFoundError(N_("No calendar %(name)s"), name=filename)
    return int(stem)


def _feed_language(request: Request[Any, Any, Any]) -> str:
    """Only an explicit `?lang=`: a feed's text must not depend on a cookie or the client."""
    language = request.query_params.get("lang")
    return language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def _headers(version: FeedVersion) -> dict[str, str]:
    return {
        "ETag": version.etag,
        "Last-Modified": format_datetime(version.last_modified, usegmt=True),
        "Cache-Control": PRIVATE_CACHE if version.private else PUBLIC_CACHE,
    }


async def respond(
    request: Request[Any, Any, Any], feeds: CalendarService, feed: Feed, filename: str
) -> Response[bytes]:
    """The feed, or `304 Not Modified` when the client's copy is current."""
    version = await feeds.version(feed)
    headers = _headers(version)
    if version.not_modified(
        request.headers.get("if-none-match"), request.headers.get("if-modified-since")
    ):
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)

    async def build() -> bytes:
        info = await feeds.feed_info(feed, version)
        events = await feeds.events(feed)
        exporter = IcsExporter(info)
        return await anyio.to_thread.run_sync(
            lambda: serialize(exporter.build(events, method="PUBLISH"))
        )

    bodies = remembered(request, BODIES_KEY, BodyMemory)
    body = await bodies.get_or_build(version.etag, build)
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(body, media_type=CALENDAR_MEDIA_TYPE, headers=headers)


class CalendarFeedController(Controller):
    """`/calendar/...`: the four feeds of the contract."""

    path = "/calendar"
    include_in_schema = False
    # Calendar apps send no cookies and keep none: feeds skip the session (none is stored per
    # poll), sign-in and CSRF; a private feed is authorised by its token alone.
    opt = {"skip_session": True, "exclude_from_auth": True, "exclude_from_csrf": True}
    dependencies = {"feeds": Provide(provide_calendar_service)}

    @get("/provinces/{filename:str}", name="calendar:province")
    async def province_feed(
        self, request: Request[Any, Any, Any], feeds: CalendarService, filename: str
    ) -> Response[bytes]:
        """Every non-draft meeting convened by the province."""
        feed = Feed(FeedKind.PROVINCE, _number(filename, MAX_CODE), _feed_language(request))
        return await respond(request, feeds, feed, f"province-{feed.key}.ics")

    @get("/units/{filename:str}", name="calendar:unit")
    async def unit_feed(
        self, request: Request[Any, Any, Any], feeds: CalendarService, filename: str
    ) -> Response[bytes]:
        """Every non-draft meeting one of the unit's points is invited to, at its own point."""
        code = _number(filename, MAX_CODE)
        feed = Feed(FeedKind.UNIT, code, _feed_language(request), own_unit_code=code)
        return await respond(request, feeds, feed, f"unit-{code}.ics")

    @get("/meetings/{filename:str}", name="calendar:meeting")
    async def meeting_feed(
        self, request: Request[Any, Any, Any], feeds: CalendarService, filename: str
    ) -> Response[bytes]:
        """One meeting, unless it is a draft (a draft is in its secretariat's private feed)."""
        feed = Feed(FeedKind.MEETING, _number(filename, MAX_ID), _feed_language(request))
        return await respond(request, feeds, feed, f"meeting-{feed.key}.ics")

    @get("/private/{filename:str}", name="calendar:private")
    async def private_feed(
        self, request: Request[Any, Any, Any], feeds: CalendarService, filename: str
    ) -> Response[bytes]:
        """One person's meetings, drafts they may see included; 404 once the token is reset."""
        feed = await feeds.private_feed(_stem(filename), _feed_language(request))
        return await respond(request, feeds, feed, "confhub.ics")


class ProfilePageController(Controller):
    """`/profile`: the signed-in user's private calendar address, its QR code and its reset."""

    include_in_schema = False
    dependencies = {"tokens": Provide(provide_token_service)}

    @get("/profile", name="profile")
    async def profile(
        self,
        request: Request[Any, Any, Any],
        tokens: CalendarTokenService,
        reset: bool = Parameter(query="reset", default=False),
    ) -> Template | Redirect:
        """Show the private feed's address (made on the first visit), as links and a QR code."""
        principal = current_principal(request)
        if principal is None:
            return Redirect(f"/login?{urlencode({'next': '/profile'})}")
        token = await tokens.calendar_token(principal.id)
        name = gettext(
            language_of(request),
            "My online conferences (%(name)s)",
            name=principal.full_name or principal.email,
        )
        policy = FeedPolicy.of(request.app.state.settings)
        links = CalendarLinkFactory(policy).private(token, name)
        context = {
            "links": links,
            "qr": Markup(qr_svg(links.webcal)),  # noqa: S704 - segno's SVG, no user text in it
            "reset": reset,
            "principal": principal,
        }
        return Template("calendar/profile.html", context=context)

    @post("/profile/calendar-token", name="profile:calendar-token")
    async def reset_token(
        self, request: Request[Any, Any, Any], tokens: CalendarTokenService
    ) -> Redirect:
        """Replace the private feed's token: every old address stops working at once."""
        principal = current_principal(request)
        if principal is None:
            raise AuthenticationRequiredError(N_("Sign in first"))
        # Committed by the plugin with the redirect (it commits 2xx and 3xx answers).
        await tokens.reset_calendar_token(principal.id)
        return Redirect("/profile?reset=1", status_code=HTTP_303_SEE_OTHER)
