"""Setting the stage for bench/rollcall.py: databases, the seeded meeting, servers as real
subprocesses, and what /proc says about their CPU time and memory."""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import select, text

from confhub.accounts.principal import Principal
from confhub.accounts.services import UserService
from confhub.db import is_sqlite
from confhub.db.engine import create_engine, session_maker
from confhub.meetings.invitations import InvitationService
from confhub.meetings.models import Invitation, MeetingStatus
from confhub.meetings.roll_call_limits import RollCallChanges
from confhub.meetings.services import MeetingService
from confhub.units.models import Unit

BENCH = Path(__file__).resolve().parent
CONFHUB = str(Path(sys.executable).with_name("confhub"))
FLOOR_SCRIPT = BENCH / "_rollcall_floor.py"
POSTGRES_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432"
# Database 0: the test suite takes 15, 14, … 1 (tests/helpers/services.py) and flushes each one
# it takes, which deleted a running benchmark's sessions (the secretariat's 401s at high load in
# docs/performance.md, issue #19). Pub/sub ignores the database number, so the PostgreSQL
# meeting also gets an id no test uses (the channel is `meeting:{id}`).
REDIS_URL = "redis://127.0.0.1:6379/0"
ADMIN_EMAIL = "rollcall-bench@example.org"
NATIONAL_PROVINCE = 1  # Hà Nội convenes; every unit of the country is invited
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Seed:
    """The meeting the benchmark runs, its admin and every invited point's check-in token."""

    meeting_id: int
    admin_email: str
    admin_password: str
    tokens: list[tuple[int, str]]


def base_env(folder: Path, database_url: str, redis_url: str | None) -> dict[str, str]:
    """The environment every `confhub` subprocess of one scenario gets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFHUB_")}
    env |= {
        "CONFHUB_DATABASE_URL": database_url,
        "CONFHUB_SECRET_KEY": secrets.token_urlsafe(48),
        "CONFHUB_MEDIA_DIR": str(folder / "media"),
        "CONFHUB_BASE_URL": "http://127.0.0.1:8000",
    }
    if redis_url:
        env["CONFHUB_REDIS_URL"] = redis_url
    return env


def prepare_database(env: dict[str, str]) -> None:
    """`confhub db upgrade` and `confhub units load`, as an operator would."""
    for command in (["db", "upgrade"], ["units", "load"]):
        subprocess.run([CONFHUB, *command], env=env, check=True, capture_output=True)  # noqa: S603


async def _postgres(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"confhub_rollcall_{uuid.uuid4().hex[:10]}"
    asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_BASE}/{name}"
    finally:
        asyncio.run(_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def seed_meeting(database_url: str, points: int) -> Seed:
    """An admin, and a scheduled national meeting inviting the default points of the first
    `points` units (all 3,321 by default) through the services the API uses."""
    password = secrets.token_urlsafe(12)
    engine = create_engine(database_url)
    try:
        async with session_maker(engine)() as session, session.begin():
            admin = await UserService(session=session).create_user(
                email=ADMIN_EMAIL, password=password, role="admin", full_name="Roll-call bench"
            )
            principal = Principal.of(admin)
            if not is_sqlite(engine):
                first_id = 700_000 + secrets.randbelow(200_000)
                sequence = "pg_get_serial_sequence('meeting', 'id')"
                await session.execute(text(f"SELECT setval({sequence}, {first_id})"))
            now = datetime.now(UTC).replace(microsecond=0)
            meeting = await MeetingService(session=session).create_meeting(
                province_code=NATIONAL_PROVINCE,
                title="Hội nghị trực tuyến toàn quốc (benchmark)",
                starts_at=now + timedelta(minutes=5),
                ends_at=now + timedelta(hours=3),
                status=MeetingStatus.SCHEDULED,
                created_by_id=admin.id,
                actor=principal,
                roll_call=RollCallChanges(roll_call_opens_at=now),  # the roll call is open
            )
            codes = list(await session.scalars(select(Unit.code).order_by(Unit.code)))
            await InvitationService(session=session).invite(
                meeting, principal, unit_codes=codes[:points]
            )
            rows = await session.execute(
                select(Invitation.point_id, Invitation.checkin_token)
                .where(Invitation.meeting_id == meeting.id)
                .order_by(Invitation.point_id)
            )
            tokens = [(int(point_id), str(token)) for point_id, token in rows]
            return Seed(meeting.id, ADMIN_EMAIL, password, tokens)
    finally:
        await engine.dispose()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_confhub(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """`confhub serve` on 127.0.0.1:port (already migrated), logging to a file."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603
            [CONFHUB, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def start_floor(port: int, log: Path) -> subprocess.Popen[bytes]:
    """The bare `websockets` broadcast server."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, str(FLOOR_SCRIPT), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_ready(
    port: int, process: subprocess.Popen[bytes], http: bool, timeout: float = 60
) -> None:
    """Wait for `/readyz` (confhub) or an open port (the floor); fail if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            if not http:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2, trust_env=False)
            if response.status_code == 200:
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready after {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate one server we started, killing it if it will not stop."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def login_cookie(port: int, email: str, password: str) -> str:
    """Sign in through the API; returns the Cookie header a board sends."""
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/auth/login",
        json={"email": email, "password": password},
        timeout=30,
        trust_env=False,
    )
    response.raise_for_status()
    return f"confhub_session={response.cookies['confhub_session']}"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mib(pid: int, field: str = "VmHWM") -> float:
    """The process's peak resident set (VmHWM; VmRSS: now), in MiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def service_pids(names: tuple[str, ...] = ("postgres", "redis-server")) -> list[int]:
    """Processes of the database and Redis (read-only look at /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm in names:
            pids.append(int(entry.name))
    return pids


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores, from /proc/stat."""
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


def remove(folder: Path) -> None:
    """Delete a scenario's temporary folder."""
    shutil.rmtree(folder, ignore_errors=True)


def start_profiler(pid: int, output: Path, seconds: float) -> subprocess.Popen[bytes] | None:
    """`py-spy record` of one server for `seconds` (None when py-spy is not installed)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        return None
    command = [py_spy, "record", "--pid", str(pid), "--rate", "100", "--format", "raw"]
    command += ["--duration", str(max(1, round(seconds))), "--output", str(output)]
    command += ["--function", "--nonblocking"]
    if os.environ.get("CONFHUB_BENCH_PROFILE") == "timeline":
        # A timeline (chrome://tracing's format) at 250 Hz, to find which work kept the loop
        # busy when; top_frames cannot read it.
        command = [{"raw": "chrometrace", "100": "250"}.get(c, c) for c in command]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def top_frames(folded: Path, count: int = 25) -> list[tuple[str, float, float]]:
    """(frame, inclusive %, self %) of the busiest frames of a py-spy raw (folded) profile."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        samples = int(number)
        total += samples
        frames = [f.split(" (")[0] + " (" + f.rsplit("/", 1)[-1] for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + samples
        own[frames[-1]] = own.get(frames[-1], 0) + samples
    ranked = sorted(inclusive.items(), key=lambda item: item[1], reverse=True)[:count]
    return [(f, 100 * n / max(total, 1), 100 * own.get(f, 0) / max(total, 1)) for f, n in ranked]


def machine_busy_pct(seconds: float = 1.0) -> float:
    """How busy the whole machine is right now (per cent of all cores), over `seconds`."""
    busy, total = machine_busy_seconds()
    time.sleep(seconds)
    busy_after, total_after = machine_busy_seconds()
    return 100 * (busy_after - busy) / max(total_after - total, 1e-9)


def _metrics(port: int) -> str:
    """A server's /metrics text; empty when it does not answer."""
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30, trust_env=False)
    except httpx.HTTPError:
        return ""
    return response.text


def fanout_lag_buckets(port: int) -> dict[float, float]:
    """Cumulative buckets of `confhub_live_fanout_lag_seconds` (commit → this process's hub)
    from a server's /metrics; empty when it has none."""
    buckets: dict[float, float] = {}
    for line in _metrics(port).splitlines():
        if line.startswith("confhub_live_fanout_lag_seconds_bucket{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[math.inf if bound == "+Inf" else float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def _as_class(line: str, metric: str, kind: str, label: str) -> str:
    """A line of `metric` written as the writer histograms' `kind` with the class `label`."""
    if not line.startswith(metric):
        return line
    line = line.replace(metric, f"confhub_writer_{kind}_seconds_")
    if "{" in line:
        return line.replace("{", f'{{priority="{label}",', 1)
    return line.replace(" ", f'{{priority="{label}"}} ', 1)


def writer_buckets(port: int) -> dict[tuple[str, str, float], float]:
    """Cumulative buckets of the writer queue's histograms from a server's /metrics, keyed by
    (`wait` or `held`, class, bound), plus each one's `sum` under bound -1."""
    found: dict[tuple[str, str, float], float] = {}
    for line in _metrics(port).splitlines():
        # Two more histograms read as classes of their own: the server's time to answer a
        # check-in (`answer checkin`) and the event loop's lag (`lag loop`).
        line = _as_class(line, "confhub_live_checkin_seconds_", "answer", "checkin")
        line = _as_class(line, "confhub_event_loop_lag_seconds_", "lag", "loop")
        for kind in ("wait", "held", "lag", "answer"):
            prefix = f"confhub_writer_{kind}_seconds_"
            if not line.startswith(prefix):
                continue
            priority = line.split('priority="', 1)[1].split('"', 1)[0]
            value = float(line.rsplit(" ", 1)[1])
            if line.startswith(prefix + "bucket{"):
                bound = line.split('le="', 1)[1].split('"', 1)[0]
                found[(kind, priority, math.inf if bound == "+Inf" else float(bound))] = value
            elif line.startswith(prefix + "sum{"):
                found[(kind, priority, -1.0)] = value
    return found


def writer_summary(
    before: dict[tuple[str, str, float], float], after: dict[tuple[str, str, float], float]
) -> dict[str, dict[str, float]]:
    """Per `wait`/`held` and class, between two readings: transactions, mean and the bucket
    bound holding the 99th percentile (seconds)."""
    summary: dict[str, dict[str, float]] = {}
    for kind, priority in sorted({(k, p) for k, p, _ in after}):
        bounds = sorted(b for k, p, b in after if (k, p) == (kind, priority) and b >= 0)
        counts = [after[(kind, priority, b)] - before.get((kind, priority, b), 0.0) for b in bounds]
        total = counts[-1] if counts else 0.0
        if not total:
            continue
        seconds = after[(kind, priority, -1.0)] - before.get((kind, priority, -1.0), 0.0)
        p99 = next(b for b, c in zip(bounds, counts, strict=True) if c >= 0.99 * total)
        most = next(b for b, c in zip(bounds, counts, strict=True) if c >= total)
        over_100ms = total - next(c for b, c in zip(bounds, counts, strict=True) if b >= 0.1)
        summary[f"{kind} {priority}"] = {
            "count": total,
            "mean": seconds / total,
            "p99": p99,
            "max": most,
            "over_100ms": over_100ms,
        }
    return summary


def gc_pauses(port: int) -> dict[str, float]:
    """Collections and pause seconds of the garbage collector so far, from a server's /metrics:
    `count`/`seconds` of every generation, `full`/`full_seconds` of full collections only."""
    totals = dict.fromkeys(
        ("count", "seconds", "middle", "middle_seconds", "full", "full_seconds"), 0.0
    )
    for line in _metrics(port).splitlines():
        for suffix, key in (("_count{", "count"), ("_sum{", "seconds")):
            if line.startswith("confhub_gc_pause_seconds" + suffix):
                value = float(line.rsplit(" ", 1)[1])
                totals[key] += value
                if 'generation="2"' in line:
                    totals["full" if key == "count" else "full_seconds"] += value
                if 'generation="1"' in line:
                    totals["middle" if key == "count" else "middle_seconds"] += value
    return totals


async def _round_trip_us(dsn: str, count: int) -> float:
    connection = await asyncpg.connect(dsn)
    try:
        for _ in range(20):
            await connection.fetchval("SELECT 1")
        started = time.perf_counter()
        for _ in range(count):
            await connection.fetchval("SELECT 1")
        return 1e6 * (time.perf_counter() - started) / count
    finally:
        await connection.close()


def postgres_round_trip_us(count: int = 500) -> float:
    """Microseconds of one `SELECT 1` round trip to PostgreSQL right now: on a busy machine
    this grows from tens of microseconds to milliseconds, and every query pays it."""
    return asyncio.run(_round_trip_us(POSTGRES_ADMIN_DSN, count))
