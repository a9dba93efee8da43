"""Links that put confhub's calendars into people's calendar apps.

For a feed (a province's, a unit's, a person's private one): `webcal://` to subscribe (phones and
desktop apps open it in their calendar), the https address to download, and Google Calendar's and
Outlook on the web's "add by URL" pages. For one meeting's page: subscribe to and download that
meeting's feed, and Google's and Outlook's "new event" pages filled in (a copy that does not follow
later changes; subscribing does).

Templates get a :class:`CalendarLinkFactory` as the global `calendar_links`, and include
`calendar/_subscribe.html` with `links` set, e.g. (on one line)
`{% with links = calendar_links.province(province) %}
{% include "calendar/_subscribe.html" %}{% endwith %}`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from confhub.calendar.services import FeedKind, FeedPolicy
from confhub.meetings.models import MeetingStatus
from confhub.settings import Settings

GOOGLE_RENDER = "https://calendar.google.com/calendar/render"
OUTLOOK_ADD_FROM_WEB = "https://outlook.live.com/calendar/0/addfromweb"
OUTLOOK_COMPOSE = "https://outlook.live.com/calendar/0/deeplink/compose"


@dataclass(frozen=True)
class CalendarLinks:
    """What `calendar/_subscribe.html` shows."""

    https: str
    webcal: str
    google: str
    outlook: str
    filename: str
    # True for a feed; False for one meeting (Google and Outlook then add a copy of the event).
    is_feed: bool = True


class _Named(Protocol):
    code: int
    name: str


class _MeetingLike(Protocol):
    id: int
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime


def webcal_url(https_url: str) -> str:
    """The same address with the `webcal://` scheme calendar apps subscribe to."""
    scheme, sep, rest = https_url.partition("://")
    return f"webcal://{rest}" if sep and scheme in ("http", "https") else https_url


def feed_links(https_url: str, name: str, filename: str) -> CalendarLinks:
    """Subscribe, download, and add-by-URL in Google Calendar and Outlook on the web."""
    webcal = webcal_url(https_url)
    return CalendarLinks(
        https=https_url,
        webcal=webcal,
        google=f"{GOOGLE_RENDER}?{urlencode({'cid': webcal})}",
        outlook=f"{OUTLOOK_ADD_FROM_WEB}?{urlencode({'url': https_url, 'name': name})}",
        filename=filename,
    )


def _utc(value: datetime, fmt: str) -> str:
    return value.astimezone(UTC).strftime(fmt)


def event_links(
    https_url: str, page_url: str, title: str, starts_at: datetime, ends_at: datetime
) -> CalendarLinks:
    """Links for one meeting: its feed, and Google's and Outlook's new-event pages filled in."""
    google = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{_utc(starts_at, '%Y%m%dT%H%M%SZ')}/{_utc(ends_at, '%Y%m%dT%H%M%SZ')}",
        "details": page_url,
    }
    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title,
        "startdt": _utc(starts_at, "%Y-%m-%dT%H:%M:%SZ"),
        "enddt": _utc(ends_at, "%Y-%m-%dT%H:%M:%SZ"),
        "body": page_url,
    }
    return replace(
        feed_links(https_url, title, https_url.rsplit("/", 1)[-1]),
        google=f"{GOOGLE_RENDER}?{urlencode(google, quote_via=quote)}",
        outlook=f"{OUTLOOK_COMPOSE}?{urlencode(outlook, quote_via=quote)}",
        is_feed=False,
    )


class CalendarLinkFactory:
    """The links of each kind of calendar, for pages (the template global `calendar_links`)."""

    def __init__(self, policy: FeedPolicy) -> None:
        self.policy = policy

    def province(self, province: _Named) -> CalendarLinks:
        """A province's public feed."""
        url = self.policy.feed_url(FeedKind.PROVINCE, province.code)
        return feed_links(url, province.name, f"{province.code}.ics")

    def unit(self, unit: _Named) -> CalendarLinks:
        """A unit's public feed (the meetings its points are invited to)."""
        url = self.policy.feed_url(FeedKind.UNIT, unit.code)
        return feed_links(url, unit.name, f"{unit.code}.ics")

    def meeting(self, meeting: _MeetingLike) -> CalendarLinks | None:
        """One meeting's links; None for a draft, whose feed only its secretariat may open."""
        if meeting.status == MeetingStatus.DRAFT.value:
            return None
        url = self.policy.feed_url(FeedKind.MEETING, meeting.id)
        page = self.policy.meeting_url(meeting.id)
        return event_links(url, page, meeting.title, meeting.starts_at, meeting.ends_at)

    def private(self, token: str, name: str) -> CalendarLinks:
        """A person's private feed (its address is its secret)."""
        url = self.policy.feed_url(FeedKind.PRIVATE, quote(token, safe=""))
        return feed_links(url, name, "confhub.ics")


def with_calendar_links(config: TemplateConfig[Any], settings: Settings) -> TemplateConfig[Any]:
    """The template configuration with the `calendar_links` global added to its engine."""
    configure = config.engine_callback
    factory = CalendarLinkFactory(FeedPolicy.of(settings))

    def engine_callback(engine: Any) -> None:
        if configure is not None:
            configure(engine)
        if isinstance(engine, JinjaTemplateEngine):
            engine.engine.globals["calendar_links"] = factory

    config.engine_callback = engine_callback
    return config
