"""A meeting stored before input was checked (issue #14, item 7): a title with a line break or a
control character (a CR/LF made its `.ics` answer 500 for good). Its feeds still answer, as
calendars every client reads, its title on one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.demo import DemoSeed
from tests.helpers.rows import store_title
from tests.integration.calendar.conftest import CAM_TU, get_feed, meeting_uid
from tests.integration.calendar.parsers import parse_three_ways

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        pytest.param("Giao ban\r\nquý IV", "Giao ban quý IV", id="crlf"),
        pytest.param("Giao ban\nquý IV\r", "Giao ban quý IV ", id="lf-and-cr"),
        pytest.param("Giao ban\x01 quý\x1f IV", "Giao ban\ufffd quý\ufffd IV", id="control"),
    ],
)
def test_feeds_of_a_meeting_stored_with_a_broken_title_still_answer(
    feeds: TestClient[Litestar],
    demo_seed: DemoSeed,
    demo_db: str,
    tmp_path: Path,
    stored: str,
    shown: str,
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    store_title(demo_db, meeting_id, stored)
    for path in (
        f"/calendar/meetings/{meeting_id}.ics",  # its name is the title: NAME, X-WR-CALNAME
        "/calendar/provinces/38.ics",
        f"/calendar/units/{CAM_TU}.ics",
    ):
        events = parse_three_ways(get_feed(feeds, path).content, tmp_path)
        (event,) = [e for e in events if e.uid == meeting_uid(meeting_id)]
        assert event.summary == shown, path
