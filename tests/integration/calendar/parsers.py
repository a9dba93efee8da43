"""Three iCalendar parsers nobody in confhub wrote, brought to one shape so they can be compared.

`icalendar` (the library the feeds are built with), the strict `ical` package (PyPI) and `ical.js`
(npm, run with the machine's Node.js). `.ci/run` installs ical.js into `.cache/icaljs`; locally run
`npm install --prefix .cache/icaljs --no-audit --no-fund ical.js@2` once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
from ical.calendar_stream import IcsCalendarStream

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[3]
ICALJS_PACKAGE = ROOT / ".cache" / "icaljs" / "node_modules" / "ical.js"
PARSE_SCRIPT = Path(__file__).with_name("parse_ical.mjs")
ZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class ParsedEvent:
    """What every parser must agree on."""

    uid: str
    start: datetime  # an instant, in UTC
    end: datetime
    status: str
    sequence: int
    summary: str
    description: str
    location: str


def _utc(value: Any) -> datetime:
    assert isinstance(value, datetime), f"not a date-time: {value!r}"
    assert value.tzinfo is not None, f"a floating time: {value!r}"
    return value.astimezone(UTC)


def with_icalendar(body: bytes) -> list[ParsedEvent]:
    """Parse with `icalendar`."""
    calendar = icalendar.Calendar.from_ical(body)
    return [
        ParsedEvent(
            uid=str(event["UID"]),
            start=_utc(event.start),
            end=_utc(event.end),
            status=str(event["STATUS"]),
            sequence=int(event["SEQUENCE"]),
            summary=str(event["SUMMARY"]),
            description=str(event.get("DESCRIPTION", "")),
            location=str(event.get("LOCATION", "")),
        )
        for event in calendar.walk("VEVENT")
    ]


def with_ical(body: bytes) -> list[ParsedEvent]:
    """Parse with the strict `ical` package (it rejects what RFC 5545 does not allow)."""
    calendar = IcsCalendarStream.calendar_from_ics(body.decode("utf-8"))
    parsed = []
    for event in calendar.events:
        assert event.status is not None
        parsed.append(
            ParsedEvent(
                uid=str(event.uid),
                start=_utc(event.dtstart),
                end=_utc(event.dtend),
                status=str(event.status.value),
                sequence=int(event.sequence or 0),
                summary=str(event.summary),
                description=str(event.description or ""),
                location=str(event.location or ""),
            )
        )
    return parsed


def icaljs_package() -> Path:
    """Where ical.js is installed; skips (fails on CI) with the command to run when it is not."""
    if shutil.which("node") is None:
        skip_or_fail("Node.js is not installed: ical.js cannot run")
    if not (ICALJS_PACKAGE / "package.json").is_file():
        skip_or_fail(
            f"ical.js is not installed in {ICALJS_PACKAGE.parent.parent}: run "
            "`npm install --prefix .cache/icaljs --no-audit --no-fund ical.js@2` (.ci/run does)"
        )
    return ICALJS_PACKAGE


def with_icaljs(body: bytes, folder: Path) -> list[ParsedEvent]:
    """Parse with ical.js under Node.js; every time must be resolved in the feed's VTIMEZONE."""
    feed = folder / "feed.ics"
    feed.write_bytes(body)
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, str(PARSE_SCRIPT), str(icaljs_package()), str(feed)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"ical.js failed to parse the feed:\n{result.stderr}"
    data = json.loads(result.stdout)
    assert data["timezones"] == [ZONE]
    events = []
    for event in data["events"]:
        assert event["start_zone"] == ZONE, event
        assert event["end_zone"] == ZONE, event
        events.append(
            ParsedEvent(
                uid=event["uid"],
                start=datetime.fromisoformat(event["start"].replace("Z", "+00:00")),
                end=datetime.fromisoformat(event["end"].replace("Z", "+00:00")),
                status=event["status"],
                sequence=int(event["sequence"]),
                summary=event["summary"],
                description=event["description"] or "",
                location=event["location"] or "",
            )
        )
    return events


def parse_three_ways(body: bytes, folder: Path) -> list[ParsedEvent]:
    """Parse with all three, check they agree event by event, and return the events."""
    first = with_icalendar(body)
    assert with_ical(body) == first, "the strict ical package reads the feed differently"
    assert with_icaljs(body, folder) == first, "ical.js reads the feed differently"
    return first
