"""Benchmark of the calendar feeds: building them, and answering conditional requests.

A fresh SQLite database holds Thanh Hóa with N meetings (default 2,000), each inviting all 166
units' points with a chair. It measures, in one run:

1. the province feed and one unit feed (Xã Cẩm Tú): loading the events from the database, then
   building and serialising them with confhub's exporter; against the floor, the same events
   serialised with bare `icalendar` (Event(), add(), to_ical(); the text already composed). Both
   give the same bytes, which the script checks. Target: building within 1.5x of the floor.
2. conditional requests answered with `304 Not Modified` per second through the running server
   (`confhub serve`, and the same application under uvicorn without its access log, with one
   and two workers), by keep-alive HTTP/1.1 clients sending `If-None-Match`: for one feed, and
   for every unit feed of the province in turn. Target: at least 2,000 per second.

It prints the command that reproduces it and writes its section of docs/performance.md.
Run: `.venv/bin/python bench/feeds.py` (`--help` for the sizes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from _report import REPORT, replace_section
from icalendar import Alarm, Calendar, Event, vCalAddress
from sqlalchemy import insert, select

from confhub.calendar.builder import FeedEvent, FeedInfo, IcsExporter, serialize, vtimezone
from confhub.calendar.services import CalendarService, Feed, FeedKind, FeedPolicy
from confhub.db import migrate
from confhub.db.engine import create_engine, session_maker
from confhub.meetings.models import AgendaItem, Invitation, Meeting
from confhub.points import listeners as points_listeners
from confhub.points.models import ConnectionPoint
from confhub.units.loader import load_units

# Connected by importing it: loaded units get their default points (confhub.core.signals).
SIGNAL_LISTENERS = (points_listeners,)

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Calendar feeds"
PROVINCE = 38
CAM_TU = 15148
BASE_URL = "https://confhub.example"
T = TypeVar("T")


# --- the data -------------------------------------------------------------------------------


async def seed(url: str, meetings: int) -> int:
    """Units, then `meetings` meetings of Thanh Hóa inviting every unit point; returns points."""
    engine = create_engine(url)
    rng = random.Random(2025)  # noqa: S311 - benchmark data, the same on every run
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    try:
        async with session_maker(engine)() as session, session.begin():
            await load_units(session)
            points = list(
                await session.scalars(
                    select(ConnectionPoint.id).where(
                        ConnectionPoint.province_code == PROVINCE,
                        ConnectionPoint.default_key.like("unit:%"),
                    )
                )
            )
            host = await session.scalar(
                select(ConnectionPoint.id).where(
                    ConnectionPoint.default_key == f"province:{PROVINCE}"
                )
            )
            for first in range(0, meetings, 250):
                await _seed_batch(
                    session, rng, now, host, points, first, min(250, meetings - first)
                )
    finally:
        await engine.dispose()
    return len(points)


async def _seed_batch(
    session: Any,
    rng: random.Random,
    now: datetime,
    host: int | None,
    points: list[int],
    first: int,
    count: int,
) -> None:
    rows = []
    for number in range(first, first + count):
        # Spread from 80 days ago (still in the 90-day window) to about three years ahead.
        starts = now + timedelta(days=-80 + number * 0.55, hours=rng.choice((1, 2, 7, 8)))
        status = "cancelled" if number % 40 == 0 else ("ended" if starts < now else "scheduled")
        rows.append(
            {
                "province_code": PROVINCE,
                "title": f"Hội nghị trực tuyến giao ban chính quyền địa phương số {number}",
                "convening_body": "Thường trực Tỉnh ủy Thanh Hóa",
                "presiding_official": "Đồng chí Nguyễn Doãn Anh, Bí thư Tỉnh ủy",
                "description": "Kết nối trực tuyến đến 166 xã, phường trên địa bàn tỉnh.",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "status": status,
                "status_reason": "Bão số 6" if status == "cancelled" else None,
                "host_point_id": host,
                "sequence": number % 5,
            }
        )
    ids = list(await session.scalars(insert(Meeting).returning(Meeting.id), rows))
    agenda = [
        {"meeting_id": mid, "position": i, "title": title, "presenter": "Văn phòng Tỉnh ủy"}
        for mid in ids
        for i, title in enumerate(("Khai mạc", "Báo cáo tình hình", "Thảo luận"), 1)
    ]
    await session.execute(insert(AgendaItem), agenda)
    invitations = [
        {
            "meeting_id": mid,
            "point_id": point,
            "chair_name": "Phạm Thị Nhàn",
            "chair_title": "Bí thư Đảng uỷ, Chủ tịch HĐND xã",
            "checkin_token": secrets.token_urlsafe(16),
        }
        for mid in ids
        for point in points
    ]
    await session.execute(insert(Invitation), invitations)


# --- building -----------------------------------------------------------------------------


def bare_icalendar(feed: FeedInfo, events: list[FeedEvent], exporter: IcsExporter) -> bytes:
    """The floor: the same calendar with bare icalendar calls, every text composed beforehand."""
    zone = exporter.zone
    prepared = [(e, exporter.summary(e), exporter.description(e)) for e in events]
    years = [feed.modified_at.astimezone(zone).year]
    years += [
        y
        for e in events
        for y in (e.starts_at.astimezone(zone).year, e.ends_at.astimezone(zone).year)
    ]
    timezone = vtimezone(feed.timezone, min(years), max(years))

    def run() -> bytes:
        calendar = Calendar()
        for name, value in (
            ("prodid", "-//confhub//Online conferences//VI"),
            ("version", "2.0"),
            ("calscale", "GREGORIAN"),
            ("method", "PUBLISH"),
            ("uid", feed.uid),
            ("name", feed.name),
            ("x-wr-calname", feed.name),
            ("x-wr-timezone", feed.timezone),
            ("last-modified", feed.modified_at),
            ("source", feed.source_url),
        ):
            calendar.add(name, value)
        calendar.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT15M")
        calendar.add_component(timezone)
        for e, summary, description in prepared:
            event = Event()
            event.add("uid", e.uid)
            event.add("dtstamp", e.modified_at)
            event.add("last-modified", e.modified_at)
            event.add("sequence", e.sequence)
            event.add("dtstart", e.starts_at.astimezone(zone))
            event.add("dtend", e.ends_at.astimezone(zone))
            event.add("summary", summary)
            event.add("description", description)
            event.add("location", e.location)
            event.add("url", e.url)
            organizer = vCalAddress(e.organizer_uri)
            organizer.params["CN"] = e.organizer_name
            event.add("organizer", organizer)
            event.add("categories", list(e.categories))
            cancelled = e.status == "cancelled"
            event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
            event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
            if not cancelled:
                for before in feed.reminders:
                    alarm = Alarm()
                    alarm.add("action", "DISPLAY")
                    alarm.add("description", summary)
                    alarm.add("trigger", -before)
                    event.add_component(alarm)
            calendar.add_component(event)
        return bytes(calendar.to_ical())

    return run()


def _best_seconds(work: Callable[[], T], repeat: int) -> tuple[float, T]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    assert result is not None
    return min(times), result


async def _abest_seconds(work: Callable[[], Awaitable[T]], repeat: int) -> tuple[float, T]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - started)
    assert result is not None
    return min(times), result


@dataclass(frozen=True)
class BuildResult:
    """The timings of one feed, in seconds (the best of the runs)."""

    name: str
    events: int
    size: int
    version: float
    load: float
    build: float
    floor: float


async def measure_build(url: str, feed: Feed, name: str, repeat: int) -> BuildResult:
    """Time the version query, loading, building+serialising, and the bare-icalendar floor."""
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session:
            service = CalendarService(session, FeedPolicy(BASE_URL, "Asia/Ho_Chi_Minh"))
            version_s, version = await _abest_seconds(lambda: service.version(feed), repeat)

            async def load() -> tuple[FeedInfo, list[FeedEvent]]:
                return await service.feed_info(feed, version), await service.events(feed)

            load_s, (info, events) = await _abest_seconds(load, repeat)
    finally:
        await engine.dispose()
    exporter = IcsExporter(info)

    def build() -> bytes:
        return serialize(IcsExporter(info).build(events, method="PUBLISH"))

    # Alternate the two so neither gets a warmer machine.
    build_times, floor_times = [], []
    body = floor_body = b""
    for _ in range(repeat):
        seconds, body = _best_seconds(build, 1)
        build_times.append(seconds)
        seconds, floor_body = _best_seconds(lambda: bare_icalendar(info, events, exporter), 1)
        floor_times.append(seconds)
    if body != floor_body:
        raise SystemExit(f"{name}: the floor does not give the same calendar; fix the benchmark")
    return BuildResult(
        name,
        len(events),
        len(body),
        version_s,
        load_s,
        min(build_times),
        min(floor_times),
    )


# --- conditional requests through the server ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServerSetup:
    """How the server is started: `confhub serve` as shipped, or the same application factory
    under uvicorn without its access log (a log line per request is a good share of a 304)."""

    label: str
    workers: int
    access_log: bool

    def command(self, port: int) -> list[str]:
        """The command line."""
        if self.access_log:
            confhub = shutil.which("confhub", path=str(Path(sys.executable).parent)) or "confhub"
            return [confhub, "serve", "--no-migrate", "--port", str(port)] + (
                ["--workers", str(self.workers)] if self.workers > 1 else []
            )
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "confhub.app:create_app_from_env",
            "--factory",
            "--no-access-log",
            "--port",
            str(port),
            "--workers",
            str(self.workers),
        ]


def start_server(url: str, port: int, setup: ServerSetup, folder: Path) -> subprocess.Popen[bytes]:
    """Start the server on the benchmark database, logging to a file, and wait for it."""
    env = {
        **os.environ,
        "CONFHUB_DATABASE_URL": url,
        "CONFHUB_SECRET_KEY": secrets.token_urlsafe(48),
        "CONFHUB_BASE_URL": BASE_URL,
        "CONFHUB_MEDIA_DIR": str(folder / "media"),
    }
    log = (folder / "server.log").open("ab")
    server = subprocess.Popen(setup.command(port), env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _headers = asyncio.run(_get(port, "/healthz"))
        except OSError:
            status = 0
        if status == 200:
            time.sleep(1.0 if setup.workers > 1 else 0.2)  # let every worker finish starting
            return server
        if server.poll() is not None:
            raise SystemExit(f"the server stopped; see {folder / 'server.log'}")
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start within 60 s")


async def _get(port: int, path: str, headers: str = "") -> tuple[int, dict[str, str]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}Connection: close\r\n\r\n"
    writer.write(request.encode())
    raw = await reader.read()
    writer.close()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in head[1:])
    return int(head[0].split()[1]), {k.lower(): v for k, v in fields.items()}


async def _client(
    port: int, requests: list[bytes], first: int, stop: float, counts: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    turn = first
    try:
        while time.perf_counter() < stop:
            writer.write(requests[turn % len(requests)])
            turn += 1
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            status = int(status_line.split()[1])
            counts[status] = counts.get(status, 0) + 1
    finally:
        writer.close()


async def conditional_rate(port: int, paths: list[str], connections: int, seconds: float) -> float:
    """Conditional GETs answered `304` per second by `connections` keep-alive clients, which
    take the paths in turn (each with its current ETag)."""
    requests = []
    for path in paths:
        status, headers = await _get(port, path)
        assert status == 200, (path, status)
        condition = f"If-None-Match: {headers['etag']}"
        requests.append(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{condition}\r\n\r\n".encode())

    async def run(stop: float, counts: dict[int, int]) -> None:
        await asyncio.gather(
            *(_client(port, requests, i, stop, counts) for i in range(connections))
        )

    await run(time.perf_counter() + 1, {})  # warm up
    counts: dict[int, int] = {}
    started = time.perf_counter()
    await run(started + seconds, counts)
    elapsed = time.perf_counter() - started
    if set(counts) != {304}:
        raise SystemExit(f"not every conditional request was a 304: {counts}")
    return counts[304] / elapsed


# --- the report ---------------------------------------------------------------------------------


def write_report(text: str) -> None:
    """Replace (or add) this benchmark's section of docs/performance.md, keeping the others."""
    replace_section(SECTION, text)


@dataclass(frozen=True)
class RateResult:
    """One run of conditional requests."""

    setup: ServerSetup
    feeds: str
    rate: float
    load: float  # the machine's 1-minute load average when the run ended


def report(
    args: argparse.Namespace,
    command: str,
    points: int,
    built: list[BuildResult],
    rates: list[RateResult],
) -> str:
    """The Markdown section."""
    lines = [
        SECTION,
        "",
        f"`{command}` — {datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs ({platform.machine()}), SQLite; the client runs on the same CPUs.",
        "",
        f"Thanh Hóa with {args.meetings:,} meetings, each inviting {points} points (with chairs) "
        f"and with a 3-item agenda; a feed holds the {built[0].events:,} latest-starting of them "
        f"(the size bound). Best of {args.repeat} runs (build and floor taken in turn). "
        "*Build* is confhub's exporter building and serialising the calendar; the *floor* "
        "serialises the same events with bare `icalendar` (the same bytes, its text composed "
        "beforehand); *load* reads the events from the database; the *version query* is what "
        "decides a conditional request.",
        "",
        "| feed | events | size | version query | load | build | floor | build ÷ floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in built:
        lines.append(
            f"| {r.name} | {r.events:,} | {r.size / 1024 / 1024:.1f} MiB | "
            f"{r.version * 1000:.1f} ms | {r.load * 1000:.0f} ms | {r.build * 1000:.0f} ms | "
            f"{r.floor * 1000:.0f} ms | **{r.build / r.floor:.2f}×** |"
        )
    lines += [
        "",
        f"Conditional requests (`If-None-Match`, every answer a `304`) through the running server, "
        f"{args.connections} keep-alive connections from one client process; the best of "
        f"{args.runs} runs of {args.seconds:g} s:",
        "",
        "| server | feeds asked | 304 responses per second | load average |",
        "| --- | --- | ---: | ---: |",
    ]
    lines += [f"| {r.setup.label} | {r.feeds} | **{r.rate:,.0f}** | {r.load:.1f} |" for r in rates]
    lines += [
        "",
        "Targets: build within 1.5× of the floor; at least 2,000 conditional requests per second.",
        "",
        "- A `304` never loads or builds the calendar: the feed's version decides it, and each "
        "process remembers a version for one second (a commit that changes feed data forgets it "
        "at once; see `confhub/calendar/versions.py`). Asking for one feed measures the HTTP "
        "path; asking for every unit feed in turn makes most requests run the version query too.",
        "- A unit feed's version query reads one invitation row per meeting of the unit (here "
        f"{args.meetings:,}, spread over the whole table). An index on `invitation (point_id, "
        "meeting_id, updated_at)` would let SQLite answer it from the index alone, and a larger "
        "SQLite page cache (`PRAGMA cache_size`) helps too.",
        "- uvicorn's access log (on in `confhub serve`) writes a line per request, a good share "
        "of what a `304` costs; behind nginx, which logs every request anyway, it can be left "
        "off. The runs without it use the same application factory as `confhub serve --workers "
        "N`: "
        "`python -m uvicorn confhub.app:create_app_from_env --factory --no-access-log "
        "--workers N`.",
        "- The load average is the whole machine's (client and server share its CPUs); when it "
        f"is above {os.cpu_count()}, other work was running as well and the numbers are lower "
        "than an idle machine's.",
        "",
    ]
    return "\n".join(lines)


def _measure_rates(
    args: argparse.Namespace, url: str, folder: Path, unit_codes: list[int]
) -> list[RateResult]:
    one = [f"/calendar/units/{CAM_TU}.ics"]
    every_unit = [f"/calendar/units/{code}.ics" for code in unit_codes]
    runs = [
        (ServerSetup(f"uvicorn, no access log, {w} worker(s)", w, access_log=False), one)
        for w in args.workers
    ]
    runs.append((ServerSetup("`confhub serve` (access log on), 1 worker", 1, True), one))
    busiest = max(args.workers)
    runs.append(
        (ServerSetup(f"uvicorn, no access log, {busiest} worker(s)", busiest, False), every_unit)
    )
    results = []
    for setup, paths in runs:
        port = _free_port()
        server = start_server(url, port, setup, folder)
        try:
            # The best of a few runs: on a shared machine, other work only ever slows a run down.
            rate = max(
                asyncio.run(conditional_rate(port, paths, args.connections, args.seconds))
                for _ in range(args.runs)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        feeds = f"unit {CAM_TU}" if len(paths) == 1 else f"all {len(paths)} unit feeds in turn"
        results.append(RateResult(setup, feeds, rate, os.getloadavg()[0]))
        print(f"{setup.label}, {feeds}: {rate:,.0f} conditional requests/s", flush=True)
    return results


async def _unit_codes(url: str) -> list[int]:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session:
            query = select(ConnectionPoint.unit_code).where(
                ConnectionPoint.province_code == PROVINCE, ConnectionPoint.unit_code.is_not(None)
            )
            return sorted({code for code in await session.scalars(query) if code is not None})
    finally:
        await engine.dispose()


def main() -> None:
    """Run the benchmark, print the results and write them to docs/performance.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per build measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0, help="per conditional run")
    parser.add_argument("--runs", type=int, default=3, help="conditional runs, the best kept")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-report", action="store_true", help="do not write the report")
    args = parser.parse_args()
    command = " ".join(["python bench/feeds.py", *sys.argv[1:]])
    print(f"Reproduce with: .venv/bin/{command}", flush=True)
    with tempfile.TemporaryDirectory(prefix="confhub-bench-") as tmp:
        folder = Path(tmp)
        url = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
        migrate.upgrade(url)
        started = time.perf_counter()
        points = asyncio.run(seed(url, args.meetings))
        elapsed = time.perf_counter() - started
        print(f"Seeded {args.meetings:,} meetings × {points} points in {elapsed:.0f} s", flush=True)
        unit_feed = Feed(FeedKind.UNIT, CAM_TU, own_unit_code=CAM_TU)
        built = [
            asyncio.run(
                measure_build(url, Feed(FeedKind.PROVINCE, PROVINCE), "province 38", args.repeat)
            ),
            asyncio.run(measure_build(url, unit_feed, f"unit {CAM_TU}", args.repeat)),
        ]
        for r in built:
            print(
                f"{r.name}: {r.events} events, {r.size:,} bytes; version {r.version * 1000:.1f} ms,"
                f" load {r.load * 1000:.0f} ms, build {r.build * 1000:.0f} ms,"
                f" floor {r.floor * 1000:.0f} ms: {r.build / r.floor:.2f}× the floor",
                flush=True,
            )
        rates = _measure_rates(args, url, folder, asyncio.run(_unit_codes(url)))
    section = report(args, f".venv/bin/{command}", points, built, rates)
    if not args.no_report:
        write_report(section)
        print(f"Wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
