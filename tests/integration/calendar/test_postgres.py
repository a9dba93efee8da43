"""The feeds on PostgreSQL, the production database: the same queries, versions and calendars."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from confhub.app import create_app
from confhub.db import migrate
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed, seed_thanh_hoa
from confhub.units.loader import load_units
from tests.conftest import login, make_settings
from tests.integration.calendar.conftest import (
    CAM_TU,
    WIDE_WINDOW,
    create_meeting,
    events_by_uid,
    get_feed,
    meeting_uid,
    private_feed_path,
)
from tests.integration.calendar.parsers import parse_three_ways

pytestmark = [pytest.mark.integration, pytest.mark.services]


def _seed(url: str) -> DemoSeed:
    async def run() -> DemoSeed:
        engine = create_engine(url)
        try:
            async with session_maker(engine)() as session, session.begin():
                await load_units(session, 38)
                return await seed_thanh_hoa(session)
        finally:
            await engine.dispose()

    migrate.upgrade(url)
    return asyncio.run(run())


def test_feeds_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    seed = _seed(postgres_url)
    settings = make_settings(postgres_url, tmp_path, calendar_past_days=WIDE_WINDOW)
    with TestClient(create_app(settings)) as feeds, TestClient(create_app(settings)) as thuky:
        login(thuky, seed.organizer_email, seed.organizer_password)
        draft = create_meeting(thuky, title="Bản nháp", status="draft", unit_codes=[CAM_TU])
        both = {meeting_uid(seed.past_meeting_id), meeting_uid(seed.upcoming_meeting_id)}
        for path in ("/calendar/provinces/38.ics", f"/calendar/units/{CAM_TU}.ics"):
            events = parse_three_ways(get_feed(feeds, path).content, tmp_path)
            assert {e.uid for e in events} == both, path
        assert feeds.get(f"/calendar/meetings/{draft}.ics").status_code == 404
        private = events_by_uid(get_feed(feeds, private_feed_path(thuky)).content)
        assert set(private) == both | {meeting_uid(draft)}

        path = f"/calendar/units/{CAM_TU}.ics"
        tag = get_feed(feeds, path).headers["etag"]
        assert feeds.get(path, headers={"If-None-Match": tag}).status_code == 304
        upcoming = seed.upcoming_meeting_id
        before = events_by_uid(get_feed(feeds, path).content)[meeting_uid(upcoming)]
        moved = before.start + timedelta(days=1)
        response = thuky.patch(
            f"/api/v1/meetings/{upcoming}", json={"starts_at": moved.isoformat()}
        )
        assert response.status_code == 200, response.text
        changed = feeds.get(path, headers={"If-None-Match": tag})
        assert changed.status_code == 200
        after = events_by_uid(changed.content)[meeting_uid(upcoming)]
        assert after.start == moved
        assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
