"""How fast one `confhub serve` connects point sockets, and what each costs its CPU.

One process on PostgreSQL + Redis, a meeting inviting `--points` points (every unit of the
country by default), no board and no check-in: only chairs' phones opening their check-in links'
sockets (each from its own address, as the proxy in front says), `--concurrency` handshakes in
flight at a time. A connection is counted from its handshake to its snapshot, then the phone
heartbeats once (as the live page does) and waits for its pong. Two rounds:

1. **cold**: the first connection of every link (the process looks each link up);
2. **warm**: every socket closed, presence stored offline, then every phone back at once (the
   storm's reconnection; the process's memory of the links, 10 s, has expired by then).

Printed per round: connections a second, p50 / p99 of one connection, and the server's CPU
time per connection while connecting and including what it stored afterwards (presence, within
`--settle` s; the server's idle CPU over as long, measured before, is subtracted). CPU time
varies less than times on a shared machine; it falls as more connections arrive together
(they share link lookups and snapshot reads), so `--rate 110` starts them at random moments at
the rush's pace instead of all at once. Also printed: the load generator's and PostgreSQL's and
Redis's CPU per connection, how busy the machine was, and PostgreSQL's transactions and rows
per connection (`pg_stat_database`). `--profile FILE` records the server with py-spy through
the cold round (folded stacks); `--cprofile FILE` runs it under cProfile on the CPU clock
(bench/_cprofile_serve.py). Results and what they showed: docs/performance.md.

    .venv/bin/python bench/connect_rate.py [--points 3321] [--concurrency 100] [--rate 110]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _rollcall_setup as setup
import asyncpg  # type: ignore[import-untyped]
from _rollcall_worker import raise_fd_limit
from websockets.asyncio.client import ClientConnection, connect


def phone_address(index: int) -> str:
    """Each chair's phone its own address (the per-address handshake limit counts them)."""
    number = index + 1
    return f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"


async def one_point(
    url: str, address: str, gate: asyncio.Semaphore, start_at: float
) -> tuple[ClientConnection | None, float, str | None]:
    """At `start_at`, open a point's socket, read its snapshot, heartbeat once and read the
    pong."""
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    async with gate:
        started = time.monotonic()
        for attempt in range(20):
            try:
                ws = await connect(
                    url,
                    additional_headers={"X-Forwarded-For": address},
                    compression=None,
                    max_size=None,
                    open_timeout=120,
                    proxy=None,
                )
                break
            except Exception as exc:  # refused (503/429) or reset: a phone tries again
                if attempt == 19:
                    return None, 0.0, f"{type(exc).__name__}: {exc}"[:200]
                await asyncio.sleep(0.5)
        snapshot = json.loads(await ws.recv())
        connected = time.monotonic() - started
        if snapshot.get("type") != "snapshot":
            return ws, connected, f"first message was {snapshot.get('type')!r}"
        await ws.send(json.dumps({"type": "heartbeat", "sent_at": int(time.time() * 1000)}))
        while json.loads(await ws.recv()).get("type") != "pong":
            pass
        return ws, connected, None


async def connect_all(
    port: int, meeting_id: int, tokens: list[tuple[int, str]], concurrency: int, rate: float
) -> tuple[list[ClientConnection], list[float], list[str], float]:
    """Every point at once (or `rate` a second, at random moments), `concurrency` handshakes
    in flight; sockets, times, failures and the wall time."""
    gate = asyncio.Semaphore(concurrency)
    started = time.monotonic()
    spread = len(tokens) / rate if rate else 0.0
    rng = random.Random(2025)  # noqa: S311 - moments, not secrets
    outcomes = await asyncio.gather(
        *(
            one_point(
                f"ws://127.0.0.1:{port}/ws/meetings/{meeting_id}?token={token}",
                phone_address(index),
                gate,
                started + rng.uniform(0.0, spread),
            )
            for index, (_, token) in enumerate(tokens)
        )
    )
    wall = time.monotonic() - started
    sockets = [ws for ws, _, _ in outcomes if ws is not None]
    times = [seconds for ws, seconds, failure in outcomes if failure is None]
    failures = [failure for _, _, failure in outcomes if failure is not None]
    return sockets, times, failures, wall


async def close_all(sockets: list[ClientConnection]) -> None:
    """Close every socket with a closing handshake (the phones leave)."""
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def quantile(values: list[float], share: float) -> float:
    """The `share` quantile (nearest rank) of `values`, 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _database_counts(database: str) -> dict[str, int]:
    connection = await asyncpg.connect(setup.POSTGRES_ADMIN_DSN)
    try:
        row = await connection.fetchrow(
            "SELECT xact_commit + xact_rollback AS transactions, tup_returned + tup_fetched AS "
            "rows_read, tup_inserted + tup_updated + tup_deleted AS rows_written "
            "FROM pg_stat_database WHERE datname = $1",
            database,
        )
    finally:
        await connection.close()
    return dict(row) if row else {}


def database_counts(url: str) -> dict[str, int]:
    """PostgreSQL's counts of the benchmark database's transactions and rows so far (a
    backend reports its own within `--settle` s: 10 s after it last went idle at most)."""
    return asyncio.new_event_loop().run_until_complete(_database_counts(url.rsplit("/", 1)[1]))


def idle_cpu_rate(pid: int, seconds: float) -> float:
    """The server's CPU seconds per second with nothing connected (its loops, the poll)."""
    before = setup.cpu_seconds(pid)
    time.sleep(seconds)
    return (setup.cpu_seconds(pid) - before) / seconds


def run_round(
    name: str,
    pid: int,
    port: int,
    meeting_id: int,
    tokens: list[tuple[int, str]],
    args: argparse.Namespace,
    idle_rate: float,
    profile: Path | None = None,
) -> tuple[dict[str, Any], list[ClientConnection]]:
    """Connect every point and measure; returns the numbers and the open sockets."""
    database_before = database_counts(args.database_url)
    load_before = os.getloadavg()[0]
    cpu_before = setup.cpu_seconds(pid)
    client_before = time.process_time()
    services_before = {pid: setup.cpu_seconds(pid) for pid in setup.service_pids()}
    machine_before = setup.machine_busy_seconds()
    profiler = setup.start_profiler(pid, profile, args.profile_seconds) if profile else None
    if args.cprofile and name == "cold":
        os.kill(pid, signal.SIGUSR1)
    loop = asyncio.get_event_loop()
    sockets, times, failures, wall = loop.run_until_complete(
        connect_all(port, meeting_id, tokens, args.concurrency, args.rate)
    )
    if args.cprofile and name == "cold":
        os.kill(pid, signal.SIGUSR2)
    cpu_connecting = setup.cpu_seconds(pid) - cpu_before
    client_cpu = time.process_time() - client_before
    # PostgreSQL's backends that lived through the round (the pool's; not those it opened).
    services_after = {pid: setup.cpu_seconds(pid) for pid in setup.service_pids()}
    services_cpu = sum(
        services_after[pid] - before
        for pid, before in services_before.items()
        if pid in services_after and services_after[pid] >= before
    )
    machine_after = setup.machine_busy_seconds()
    machine_pct = (
        100 * (machine_after[0] - machine_before[0]) / (machine_after[1] - machine_before[1])
    )
    time.sleep(args.settle)
    cpu_total = setup.cpu_seconds(pid) - cpu_before - idle_rate * (wall + args.settle)
    if profiler is not None:
        profiler.wait()
    connected = len(times)
    database_after = database_counts(args.database_url)
    per_connection = {
        key: (database_after[key] - database_before[key]) / max(connected, 1)
        for key in database_before
    }
    result = per_connection | {
        "round": name,
        "connected": connected,
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "wall_s": wall,
        "per_second": connected / wall if wall else 0.0,
        "p50_ms": 1000 * statistics.median(times) if times else 0.0,
        "p99_ms": 1000 * quantile(times, 0.99),
        "cpu_connecting_ms": 1000 * cpu_connecting / max(connected, 1),
        "cpu_total_ms": 1000 * cpu_total / max(connected, 1),
        "server_busy_pct": 100 * cpu_connecting / wall if wall else 0.0,
        "client_cpu_ms": 1000 * client_cpu / max(connected, 1),
        "services_cpu_ms": 1000 * services_cpu / max(connected, 1),
        "machine_busy_pct": machine_pct,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "rss_mib": setup.peak_rss_mib(pid, "VmRSS"),
        "idle_rss_mib": args.idle_rss_mib,
    }
    return result, sockets


def print_round(result: dict[str, Any]) -> None:
    """One round's lines."""
    r = result
    print(
        f"{r['round']}: {r['connected']:,} connected ({r['failures']} failed) in "
        f"{r['wall_s']:.1f} s = {r['per_second']:,.0f}/s; one connection p50 / p99 "
        f"{r['p50_ms']:,.0f} / {r['p99_ms']:,.0f} ms; load average {r['load_before']:.1f} / "
        f"{r['load_after']:.1f}\n"
        f"  CPU per connection: server {r['cpu_connecting_ms']:.2f} ms connecting, "
        f"{r['cpu_total_ms']:.2f} ms with presence stored ({r['server_busy_pct']:.0f} % of a "
        f"core); the clients {r['client_cpu_ms']:.2f} ms; PostgreSQL and Redis "
        f"{r['services_cpu_ms']:.2f} ms; the machine {r['machine_busy_pct']:.0f} % busy\n"
        f"  per connection: {r['transactions']:.2f} transactions, {r['rows_read']:.0f} rows "
        f"read, {r['rows_written']:.1f} written; server RSS {r['rss_mib']:.1f} MiB, "
        f"{r['idle_rss_mib']:.1f} idle: "
        f"{1024 * (r['rss_mib'] - r['idle_rss_mib']) / max(r['connected'], 1):.1f} KiB a socket",
        flush=True,
    )
    if r["first_failure"]:
        print(f"  first failure: {r['first_failure']}")


def print_profile(output: Path) -> None:
    """The busiest frames of the cold round's profile."""
    for _ in range(50):
        if output.exists() and output.stat().st_size:
            break
        time.sleep(0.2)
    if not output.exists():
        print("  no profile (py-spy missing?)")
        return
    print(f"profile ({output}): inclusive %, self %, frame")
    for frame, inclusive, own in setup.top_frames(output, 40):
        print(f"  {inclusive:5.1f} {own:5.1f}  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=3321)
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="connections a second at random moments (0: all)"
    )
    parser.add_argument(
        "--settle", type=float, default=11.0, help="s after connecting, for CPU and counts"
    )
    parser.add_argument(
        "--cold-only", action="store_true", help="one round (the memory per socket: shorter)"
    )
    parser.add_argument("--profile", type=Path, help="py-spy the cold round into this file")
    parser.add_argument("--profile-seconds", type=float, default=30.0)
    parser.add_argument("--server-log", type=Path, help="keep the server's log here")
    parser.add_argument(
        "--env", action="append", default=[], help="KEY=VALUE for the server (repeatable)"
    )
    parser.add_argument(
        "--cprofile", type=Path, help="cProfile (CPU clock) the cold round's connecting into this"
    )
    args = parser.parse_args()
    raise_fd_limit()
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    asyncio.set_event_loop(asyncio.new_event_loop())
    with (
        tempfile.TemporaryDirectory(prefix="connect-rate-") as name,
        setup.postgres_database() as url,
    ):
        args.database_url = url
        folder = Path(name)
        env = setup.base_env(folder, url, setup.REDIS_URL)
        env |= dict(item.split("=", 1) for item in args.env)
        setup.prepare_database(env)
        seed = asyncio.run(setup.seed_meeting(url, args.points))
        asyncio.set_event_loop(asyncio.new_event_loop())
        port = setup.free_port()
        process = start_server(env, port, folder / "server.log", args.cprofile)
        loop = asyncio.get_event_loop()
        try:
            setup.wait_ready(port, process, http=True)
            idle_rate = idle_cpu_rate(process.pid, 3.0)
            # Above it, what the open sockets hold (read after `--settle`, sockets still open).
            args.idle_rss_mib = setup.peak_rss_mib(process.pid, "VmRSS")
            print(f"server idle RSS {args.idle_rss_mib:.1f} MiB", flush=True)
            cold, sockets = run_round(
                "cold",
                process.pid,
                port,
                seed.meeting_id,
                seed.tokens,
                args,
                idle_rate,
                args.profile,
            )
            print_round(cold)
            loop.run_until_complete(close_all(sockets))
            if args.cold_only:
                return
            time.sleep(args.settle)
            warm, sockets = run_round(
                "warm", process.pid, port, seed.meeting_id, seed.tokens, args, idle_rate
            )
            print_round(warm)
            loop.run_until_complete(close_all(sockets))
        finally:
            setup.stop(process)
            log = (folder / "server.log").read_text(errors="replace")
            tracebacks = log.count("Traceback")
            if args.server_log:
                args.server_log.write_text(log)
            print(f"server tracebacks: {tracebacks}")
    if args.profile:
        print_profile(args.profile)
    if args.cprofile:
        print_cprofile(args.cprofile)


def start_server(
    env: dict[str, str], port: int, log: Path, cprofile: Path | None
) -> subprocess.Popen[bytes]:
    """`confhub serve`, under bench/_cprofile_serve.py with `--cprofile`."""
    if cprofile is None:
        return setup.start_confhub(env, port, log)
    wrapper = Path(__file__).with_name("_cprofile_serve.py")
    command = [sys.executable, str(wrapper), str(cprofile.resolve()), "serve", "--host"]
    command += ["127.0.0.1", "--port", str(port), "--no-migrate"]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


def print_cprofile(output: Path) -> None:
    """The functions that spent the most CPU themselves, then the most CPU below them."""
    for _ in range(50):
        if output.exists() and output.stat().st_size:
            break
        time.sleep(0.2)
    stats = pstats.Stats(str(output))
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(60)


if __name__ == "__main__":
    main()
