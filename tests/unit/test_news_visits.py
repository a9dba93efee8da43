"""The visitor counter: page views and daily visitors per site, "online now", without storing
anything that identifies a person (the database holds counts only)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.news.models import SiteVisitDay
from confhub.news.visits import VisitCounter, is_crawler

pytestmark = pytest.mark.unit

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"
PHONE = "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"
MONDAY = date(2025, 9, 8)
WEDNESDAY = date(2025, 9, 10)


async def test_views_visitors_week_and_total(db_session: AsyncSession) -> None:
    counter = VisitCounter()
    site = "unit:15148"
    for _ in range(3):
        await counter.hit(db_session, site, MONDAY, "203.0.113.5", BROWSER)
    await counter.hit(db_session, site, WEDNESDAY, "203.0.113.5", BROWSER)
    await counter.hit(db_session, site, WEDNESDAY, "203.0.113.5", BROWSER)
    await counter.hit(db_session, site, WEDNESDAY, "198.51.100.7", PHONE)
    await counter.hit(db_session, "unit:15149", WEDNESDAY, "198.51.100.7", PHONE)

    stats = await counter.stats(db_session, site, WEDNESDAY)
    assert stats.today == 2  # two people on Wednesday, whatever their page views
    assert stats.week == 3  # Monday's visitor again on Wednesday counts as a new visit
    assert stats.total == 3
    # Seen in the last five minutes: Monday's hash was made with Monday's key, so it counts apart;
    # the other site's visit is not this site's.
    assert stats.online == 3

    wednesday = await db_session.get(SiteVisitDay, (site, WEDNESDAY))
    assert wednesday is not None
    assert (wednesday.views, wednesday.visitors) == (3, 2)
    next_monday = await counter.stats(db_session, site, date(2025, 9, 15))
    assert (next_monday.today, next_monday.week, next_monday.total) == (0, 0, 3)


async def test_nothing_personal_is_stored(db_session: AsyncSession) -> None:
    counter = VisitCounter()
    await counter.hit(db_session, "province:38", WEDNESDAY, "203.0.113.5", BROWSER)
    columns = {c.key for c in inspect(SiteVisitDay).columns}
    assert columns == {"site", "day", "views", "visitors", "created_at", "updated_at"}
    rows = (await db_session.execute(select(SiteVisitDay.__table__))).all()
    assert "203.0.113.5" not in repr(rows)
    assert "Chrome" not in repr(rows)


async def test_the_daily_key_changes(db_session: AsyncSession) -> None:
    counter = VisitCounter()
    await counter.hit(db_session, "province:38", MONDAY, "203.0.113.5", BROWSER)
    first_key = counter._salt
    await counter.hit(db_session, "province:38", WEDNESDAY, "203.0.113.5", BROWSER)
    assert counter._salt != first_key
    # Yesterday's hashes are forgotten with yesterday's key.
    assert all(len(seen) <= 1 for seen in counter._seen.values())


async def test_crawlers_are_not_counted(db_session: AsyncSession) -> None:
    counter = VisitCounter()
    await counter.hit(db_session, "province:38", WEDNESDAY, "203.0.113.5", "Googlebot/2.1")
    await counter.hit(db_session, "province:38", WEDNESDAY, "203.0.113.5", "")
    stats = await counter.stats(db_session, "province:38", WEDNESDAY)
    assert (stats.today, stats.total, stats.online) == (0, 0, 0)
    assert is_crawler("facebookexternalhit/1.1")
    assert not is_crawler(BROWSER)
