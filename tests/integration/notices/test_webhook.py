"""The webhook channel against a real local HTTP server: signed posts, one per point and
notice, the same `id` on every retry, and a receiver that keeps failing leaves the point
`failed` with the reason."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from confhub.db.engine import create_engine, session_maker
from confhub.notices.outbox import Outbox
from confhub.notices.policy import NoticePolicy
from confhub.notices.worker import transports_of
from confhub.settings import Settings
from tests.conftest import login, make_settings
from tests.helpers.receivers import webhook_server
from tests.integration.notices.conftest import UNIT_CODES, new_meeting, outbox_rows, wait_for

pytestmark = pytest.mark.integration
SECRET = "webhook-secret-0123456789abcdef"


def test_scheduling_sends_one_signed_post_per_point(make_client, demo_seed, demo_db) -> None:
    with webhook_server(SECRET) as (url, inbox):
        client = make_client(notify_webhook_url=url, notify_webhook_secret=SECRET)
        login(client, demo_seed.organizer_email, demo_seed.organizer_password)
        meeting_id, by_unit = new_meeting(client)
        wait_for(lambda: len(inbox.posts) >= len(UNIT_CODES), "a post per point")
        wait_for(
            lambda: all(
                r.state == "delivered"
                for r in outbox_rows(demo_db, meeting_id)
                if r.channel == "webhook"
            ),
            "the deliveries recorded",
        )
        assert inbox.bad_signatures == 0
        posts = [p for p in inbox.posts if p["meeting_id"] == meeting_id]
        assert sorted(p["unit_code"] for p in posts) == sorted(UNIT_CODES)
        assert {p["kind"] for p in posts} == {"invitation"}
        first = next(p for p in posts if p["unit_code"] == 15148)
        assert first["point_id"] == by_unit[15148]
        assert first["to"]["phone"].startswith("0912")
        assert first["to"]["name"] == "Chủ trì 15148"
        assert "Hội nghị triển khai" in first["text"]
        assert "/checkin/" in first["text"]
        points = client.get(f"/api/v1/meetings/{meeting_id}/points").json()["items"]
        assert {p["notice_state"] for p in points} == {"delivered"}
        assert all(p["acknowledgement"] is None for p in points)


def test_a_failing_receiver_gets_retries_then_the_point_shows_failed(
    make_client, demo_seed, demo_db, tmp_path: Path
) -> None:
    with webhook_server(SECRET) as (url, inbox):
        inbox.answer = 500
        settings = make_settings(
            demo_db, tmp_path, notify_webhook_url=url, notify_webhook_secret=SECRET
        )
        client = make_client(notify_webhook_url=url, notify_webhook_secret=SECRET)
        login(client, demo_seed.organizer_email, demo_seed.organizer_password)
        meeting_id, _ = new_meeting(client, units=[15148])
        # The app's own worker tries at once; then time is moved on by hand, pass by pass. The
        # app stops once its try is recorded: stopped between its post and the record, it would
        # leave a post that no attempt counts.
        wait_for(
            lambda: any(
                r.channel == "webhook" and r.last_error for r in outbox_rows(demo_db, meeting_id)
            ),
            "the first failed post recorded",
        )
        client.__exit__(None, None, None)
        passes = asyncio.run(_passes_until_failed(settings, demo_db))
        rows = [r for r in outbox_rows(demo_db, meeting_id) if r.channel == "webhook"]
        assert len(rows) == 1 and rows[0].state == "failed"
        assert rows[0].attempts >= 4
        assert "HTTP 500" in (rows[0].last_error or "")
        ids = inbox.ids()
        # Every retry carried the same id, so a receiver could tell them apart from new notices.
        assert ids == {rows[0].message_id: rows[0].attempts}
        assert passes >= 3
    client = make_client()
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    point = client.get(f"/api/v1/meetings/{meeting_id}/points").json()["items"][0]
    assert point["notice_state"] == "failed"


async def _passes_until_failed(settings: Settings, url: str) -> int:
    """Run the outbox with a clock moved forward 30 s a pass until nothing is left to retry."""
    outbox = Outbox(NoticePolicy.of(settings), transports_of(settings))
    engine = create_engine(url)
    passes = 0
    try:
        now = datetime.now(UTC)
        for _ in range(20):
            now += timedelta(seconds=30)
            async with session_maker(engine)() as session:
                result = await outbox.deliver_due(session, now)
            passes += 1
            if result.claimed and not result.retried:
                break
    finally:
        await engine.dispose()
    return passes


def test_a_reissued_link_reaches_its_point_with_the_new_link(make_client, demo_seed) -> None:
    with webhook_server(SECRET) as (url, inbox):
        client = make_client(notify_webhook_url=url, notify_webhook_secret=SECRET)
        login(client, demo_seed.organizer_email, demo_seed.organizer_password)
        meeting_id, by_unit = new_meeting(client, units=[15148])
        wait_for(lambda: len(inbox.posts) >= 1, "the invitation")
        point_id = by_unit[15148]
        response = client.post(
            f"/api/v1/meetings/{meeting_id}/points/{point_id}/checkin-link/reissue"
        )
        assert response.status_code == 200, response.text
        wait_for(lambda: len(inbox.posts) >= 2, "the new link's notice")
        post = inbox.posts[-1]
        assert post["kind"] == "link_reissued"
        points = client.get(f"/api/v1/meetings/{meeting_id}/points").json()["items"]
        new_link = points[0]["checkin_url"]
        assert new_link in post["text"]
        assert post["id"] != inbox.posts[0]["id"]
