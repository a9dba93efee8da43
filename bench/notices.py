"""Benchmark of the notices: invite every one of the country's 3,321 points and deliver.

A fresh SQLite database (or `--database-url`, e.g. PostgreSQL) holds every unit with its
default point, each with an e-mail in the directory. A meeting invites all 3,321 points as a
draft; scheduling it records the 3,321 invitation notices in its transaction (what is timed:
target 2 s). Then one process's outbox delivers them to a local SMTP server running in a process
of its own (aiosmtpd), batch after batch, each message with its `.ics` written as the worker
writes it (target 200 messages a second), while the resident memory is watched (growth target
50 MiB). Counts at the end show nothing lost or doubled: messages received, distinct
Message-IDs, recipients, and the deliveries' states in the database.

It prints the command that reproduces it and writes its section of docs/performance.md.
Run: `.venv/bin/python bench/notices.py` (`--help` for the options).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _report import replace_section
from sqlalchemy import func, insert, select

from confhub.accounts.principal import Principal
from confhub.accounts.services import UserService
from confhub.db import migrate
from confhub.db.engine import create_engine, session_maker
from confhub.meetings.services import MeetingService
from confhub.notices import listeners as notices_listeners
from confhub.notices.models import NoticeDelivery
from confhub.notices.outbox import Outbox
from confhub.notices.policy import SESSION_INFO_KEY, NoticePolicy
from confhub.notices.worker import transports_of
from confhub.points import listeners as points_listeners
from confhub.points.models import ConnectionPoint, PointContacts
from confhub.settings import Settings
from confhub.units.loader import load_units

# Connected by importing them: loaded units get their points, a scheduled meeting its notices.
SIGNAL_LISTENERS = (points_listeners, notices_listeners)

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Notices (bench/notices.py)"
COMMAND = ".venv/bin/python bench/notices.py"
PASSWORD = "a long enough password"  # noqa: S105 - a throwaway database's account


def rss_mib() -> float:
    """This process's resident memory now, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def prepare(url: str) -> tuple[int, int, int]:
    """Units, points with e-mails, an admin and a draft meeting inviting every point; the
    meeting's id, how many points it invites, and the admin's id."""
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session, session.begin():
            await load_units(session)
            point_ids = list(
                await session.scalars(
                    select(ConnectionPoint.id).where(ConnectionPoint.unit_code.is_not(None))
                )
            )
            await session.execute(
                insert(PointContacts),
                [
                    {
                        "point_id": p,
                        "chair_name": f"Chủ tịch {p}",
                        "phones": [],
                        "email": f"ubnd.{p}@example.gov.vn",
                    }
                    for p in point_ids
                ],
            )
            user = await UserService(session=session).create_user(
                email="admin@example.gov.vn", password=PASSWORD, role="admin"
            )
            service = MeetingService(session=session)
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
            meeting = await service.create_meeting(
                province_code=38,
                title="Hội nghị trực tuyến toàn quốc triển khai mô hình chính quyền hai cấp",
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                convening_body="Văn phòng Chính phủ",
            )
            points = list(
                await session.scalars(
                    select(ConnectionPoint).where(ConnectionPoint.id.in_(point_ids))
                )
            )
            await service.invite_points(meeting, points)
            return meeting.id, len(points), user.id
    finally:
        await engine.dispose()


async def schedule(url: str, settings: Settings, meeting_id: int, user_id: int) -> float:
    """Schedule the meeting (recording its invitations) and commit; seconds taken."""
    engine = create_engine(url)
    try:
        maker = session_maker(engine)
        async with maker(info={SESSION_INFO_KEY: NoticePolicy.of(settings)}) as session:
            service = MeetingService(session=session)
            user = await UserService(session=session).get(user_id)
            meeting = await service.get_visible(Principal.of(user, None), meeting_id)
            started = time.perf_counter()
            await service.change_status(meeting, Principal.of(user, None), "scheduled")
            await session.commit()
            return time.perf_counter() - started
    finally:
        await engine.dispose()


async def deliver(url: str, settings: Settings) -> tuple[float, int, float, float, int]:
    """Run the outbox until nothing is due: seconds, messages, RSS before and peak, passes."""
    engine = create_engine(url)
    outbox = Outbox(NoticePolicy.of(settings), transports_of(settings))
    delivered, passes = 0, 0
    before = peak = rss_mib()
    try:
        maker = session_maker(engine)
        started = time.perf_counter()
        while True:
            async with maker() as session:
                result = await outbox.deliver_due(session)
            passes += 1
            delivered += result.delivered
            peak = max(peak, rss_mib())
            if not result.claimed:
                break
        return time.perf_counter() - started, delivered, before, peak, passes
    finally:
        await engine.dispose()


async def states(url: str) -> dict[str, int]:
    """How many deliveries are in each state."""
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session:
            rows = await session.execute(
                select(NoticeDelivery.state, func.count()).group_by(NoticeDelivery.state)
            )
            return {state: int(count) for state, count in rows}
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/performance.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        migrate.upgrade(url)
        port = free_port()
        sink = subprocess.Popen(  # noqa: S603
            [sys.executable, str(Path(__file__).with_name("_smtp_sink.py")), str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert sink.stdout is not None and sink.stdin is not None
            assert sink.stdout.readline().strip() == "ready"
            settings = Settings(
                database_url=url,
                smtp_url=f"smtp://127.0.0.1:{port}",
                mail_from="giaymoi@example.gov.vn",
            )
            meeting_id, invited, user_id = asyncio.run(prepare(url))
            record_seconds = asyncio.run(schedule(url, settings, meeting_id, user_id))
            seconds, delivered, rss_before, rss_peak, passes = asyncio.run(deliver(url, settings))
            sink.stdin.close()
            received = json.loads(sink.stdout.readline())
        finally:
            sink.wait(timeout=30)
        counted = asyncio.run(states(url))
    engine = "PostgreSQL" if "postgresql" in url else "SQLite"
    rate = delivered / seconds if seconds else 0.0
    growth = rss_peak - rss_before
    lines = [
        SECTION,
        "",
        f"`{COMMAND}` — {datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs ({platform.machine()}), {engine}; the SMTP server (aiosmtpd) "
        "runs in a process of its own on the same CPUs.",
        "",
        f"A meeting invites all {invited:,} points of the country (every unit's default point, "
        "each with an e-mail in the directory); scheduling it records one invitation notice and "
        "one e-mail delivery per point in its transaction. One process's outbox then delivers "
        "them in batches of 200 over 4 SMTP connections at once, each e-mail with its `.ics` "
        "written as the worker writes it.",
        "",
        f"Load average when it ended: {os.getloadavg()[0]:.1f} (the whole machine's; above the "
        "number of CPUs, other work was running as well and the numbers are lower than an idle "
        "machine's).",
        "",
        "| measure | result | target |",
        "| --- | ---: | ---: |",
        f"| time to record the {invited:,} notices (schedule + commit) "
        f"| **{record_seconds:.2f} s** | ≤ 2 s |",
        f"| delivery rate to the local SMTP server | **{rate:,.0f} messages/s** "
        f"({delivered:,} in {seconds:.1f} s, {passes} passes) | ≥ 200/s |",
        f"| resident memory growth while delivering | **{growth:.1f} MiB** "
        f"({rss_before:.0f} → {rss_peak:.0f} MiB) | ≤ 50 MiB |",
        "",
        f"Counts: the server received {received['messages']:,} messages with "
        f"{received['ids']:,} distinct Message-IDs for {received['recipients']:,} recipients; "
        "the deliveries' states in the database: "
        + ", ".join(f"{state} {count:,}" for state, count in sorted(counted.items()))
        + ". Nothing lost, nothing doubled when the three counts and `delivered` are all "
        f"{invited:,}.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    print(f"Reproduce: {COMMAND}")
    if not args.no_report:
        replace_section(SECTION, text)


if __name__ == "__main__":
    main()
