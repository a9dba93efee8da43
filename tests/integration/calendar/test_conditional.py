"""Conditional GET: a calendar app that already has the current feed gets `304 Not Modified`,
decided by the feed's version alone (the calendar is neither loaded nor built)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.calendar import controllers
from confhub.calendar.services import CalendarService
from confhub.demo import DemoSeed
from tests.integration.calendar.conftest import CAM_TU, get_feed, private_feed_path

pytestmark = pytest.mark.integration

PROVINCE = "/calendar/provinces/38.ics"


def _not_modified(response: Any, current: Any) -> None:
    assert response.status_code == 304, response.text
    assert response.content == b""
    assert response.headers["etag"] == current.headers["etag"]
    assert response.headers["last-modified"] == current.headers["last-modified"]
    assert response.headers["cache-control"] == current.headers["cache-control"]


@pytest.mark.parametrize(
    "path", [PROVINCE, f"/calendar/units/{CAM_TU}.ics", "/calendar/meetings/{upcoming}.ics"]
)
def test_if_none_match(feeds: TestClient[Litestar], demo_seed: DemoSeed, path: str) -> None:
    path = path.format(upcoming=demo_seed.upcoming_meeting_id)
    current = get_feed(feeds, path)
    tag = current.headers["etag"]
    _not_modified(feeds.get(path, headers={"If-None-Match": tag}), current)
    _not_modified(feeds.get(path, headers={"If-None-Match": f'"other", W/{tag}'}), current)
    _not_modified(feeds.get(path, headers={"If-None-Match": "*"}), current)
    assert feeds.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_modified_since(feeds: TestClient[Litestar]) -> None:
    current = get_feed(feeds, PROVINCE)
    modified = parsedate_to_datetime(current.headers["last-modified"])
    later = format_datetime(modified + timedelta(hours=1), usegmt=True)
    earlier = format_datetime(modified - timedelta(seconds=1), usegmt=True)
    _not_modified(
        feeds.get(PROVINCE, headers={"If-Modified-Since": current.headers["last-modified"]}),
        current,
    )
    _not_modified(feeds.get(PROVINCE, headers={"If-Modified-Since": later}), current)
    assert feeds.get(PROVINCE, headers={"If-Modified-Since": earlier}).status_code == 200
    assert feeds.get(PROVINCE, headers={"If-Modified-Since": "yesterday"}).status_code == 200
    # If-None-Match decides when both are sent (RFC 9110 section 13.2.2).
    both = {"If-None-Match": '"stale"', "If-Modified-Since": later}
    assert feeds.get(PROVINCE, headers=both).status_code == 200


def test_a_changed_feed_is_sent_again(
    feeds: TestClient[Litestar], secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    current = get_feed(feeds, PROVINCE)
    secretariat.patch(
        f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}", json={"title": "Đổi tên"}
    )
    again = feeds.get(PROVINCE, headers={"If-None-Match": current.headers["etag"]})
    assert again.status_code == 200
    assert again.headers["etag"] != current.headers["etag"]
    assert "Đổi tên" in again.text
    stale_date = {"If-Modified-Since": current.headers["last-modified"]}
    assert feeds.get(PROVINCE, headers=stale_date).status_code == 200


def test_a_304_neither_loads_nor_builds_the_calendar(
    feeds: TestClient[Litestar], chair: TestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    private = private_feed_path(chair)
    tags = {path: get_feed(feeds, path).headers["etag"] for path in (PROVINCE, private)}

    def fail(*_: Any, **__: Any) -> Any:
        raise AssertionError("a conditional request built the calendar")

    monkeypatch.setattr(CalendarService, "events", fail)
    monkeypatch.setattr(CalendarService, "feed_info", fail)
    monkeypatch.setattr(controllers.IcsExporter, "build", fail)
    for path, tag in tags.items():
        assert feeds.get(path, headers={"If-None-Match": tag}).status_code == 304
    # A calendar not built yet does reach the builder (so the patch is real).
    assert feeds.get(f"{PROVINCE}?lang=en").status_code == 500


def test_a_feed_is_built_once_per_version(
    feeds: TestClient[Litestar],
    secretariat: TestClient[Litestar],
    demo_seed: DemoSeed,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[int] = []
    build = controllers.IcsExporter.build

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(1)
        return build(self, *args, **kwargs)

    monkeypatch.setattr(controllers.IcsExporter, "build", counting)
    first = get_feed(feeds, PROVINCE)
    assert get_feed(feeds, PROVINCE).content == first.content
    assert len(built) == 1, "the second app fetching the same version gets the kept calendar"
    secretariat.patch(f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}", json={"title": "Mới"})
    assert "Mới" in get_feed(feeds, PROVINCE).text
    assert len(built) == 2


def test_private_feed_conditional_and_not_shared(
    feeds: TestClient[Litestar], chair: TestClient[Litestar]
) -> None:
    path = private_feed_path(chair)
    current = get_feed(feeds, path)
    assert current.headers["cache-control"] == "private, no-cache"
    _not_modified(feeds.get(path, headers={"If-None-Match": current.headers["etag"]}), current)
