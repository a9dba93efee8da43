"""Benchmark of the live roll call: one national meeting, every unit's point connected to the
live channel, every point checking in within a minute, 50 boards watching.

Four setups in one run, each served by real subprocesses on this machine:

1. `sqlite`: `confhub serve`, one process, SQLite, in-memory fan-out;
2. `pg1`: one `confhub serve` process on PostgreSQL and Redis (the production stack, every
   socket in one process);
3. `pg`: two `confhub serve` processes on two ports sharing PostgreSQL and Redis (half the
   points and boards on each);
4. `floor`: a bare `websockets` broadcast server (bench/_rollcall_floor.py) taking the same
   clients and messages, with no database and no framework.

The load generator runs in separate processes (bench/_rollcall_worker.py): boards signed in as
an admin, points with their `?token=` check-in links (each from its own address, as the proxy
says), heartbeating at once and every 10 s. By default it runs the **rush**
(bench/_rollcall_rush.py): connecting, check-ins and boards opening overlap within a minute,
then every point socket drops and reconnects at once. `--classic` runs the tidy version:
boards first, then the points, and once every board shows every point online each point sends
one check-in at a random moment of `--window`. Check-in latency is send → ack; fan-out latency
is send → the last board (of those open then) seeing that point's delta. Lost = a sent check-in
some board neither saw nor had in its snapshot; duplicated = a version a board saw twice, or a
second check-in delta of a point.

It prints the command that reproduces it and writes its section of docs/performance.md.
Run: `.venv/bin/python bench/rollcall.py` (`--help` for sizes; about 5 minutes a setup).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import _rollcall_rush as rush
import _rollcall_setup as setup
from _rollcall_clients import BoardSpec, PointSpec, WorkerPlan
from _rollcall_measure import Meter, summarize
from _rollcall_report import format_table, write_section
from _rollcall_rush_report import format_rush, write_rush_section
from _rollcall_worker import raise_fd_limit, worker_main


@dataclass
class Stage:
    """One setup under test: its servers and how clients reach them."""

    key: str
    label: str
    ports: list[int]
    pids: list[int]
    meeting_id: int = 0
    points: list[tuple[int, str]] = field(default_factory=list)
    cookie: str | None = None
    logs: list[Path] = field(default_factory=list)
    folder: Path | None = None

    @property
    def is_floor(self) -> bool:
        """The bare broadcast server speaks only a sketch of the live channel."""
        return self.key == "floor"

    def point_url(self, index: int, point_id: int, token: str) -> str:
        """Point clients alternate between the servers."""
        port = self.ports[index % len(self.ports)]
        if self.is_floor:
            return f"ws://127.0.0.1:{port}/point?point_id={point_id}"
        return f"ws://127.0.0.1:{port}/ws/meetings/{self.meeting_id}?token={token}"

    def board_page(self) -> str | None:
        """The board's page (the floor has none)."""
        if self.is_floor:
            return None
        return f"http://127.0.0.1:{self.ports[0]}/m/{self.meeting_id}/live"

    def board_url(self, index: int) -> str:
        """Boards alternate between the servers too."""
        port = self.ports[index % len(self.ports)]
        if self.is_floor:
            return f"ws://127.0.0.1:{port}/board"
        return f"ws://127.0.0.1:{port}/ws/meetings/{self.meeting_id}"


class Fleet:
    """The load-generator processes and their command pipes."""

    def __init__(self, plans: dict[str, list[WorkerPlan]]) -> None:
        context = multiprocessing.get_context("fork")
        self.pipes: dict[str, list[Connection]] = {}
        self.processes: list[BaseProcess] = []
        for role, role_plans in plans.items():
            self.pipes[role] = []
            for plan in role_plans:
                parent_end, child_end = context.Pipe()
                process = context.Process(target=worker_main, args=(child_end, plan), daemon=True)
                process.start()
                self.pipes[role].append(parent_end)
                self.processes.append(process)

    @property
    def pids(self) -> list[int]:
        """Process ids of the load generator."""
        return [p.pid for p in self.processes if p.pid is not None]

    def ask(self, role: str, command: str, argument: Any = None) -> list[Any]:
        """Send a command to every worker of a role and wait for all the answers."""
        for pipe in self.pipes[role]:
            pipe.send((command, argument))
        return [pipe.recv() for pipe in self.pipes[role]]

    def close(self) -> None:
        """Close every socket and end the workers."""
        for role in self.pipes:
            self.ask(role, "close")
        for process in self.processes:
            process.join(timeout=10)


def plans_for(stage: Stage, args: argparse.Namespace, run_id: str) -> dict[str, list[WorkerPlan]]:
    """Points spread over `--point-procs` workers; all boards in one more."""
    common = {
        "window": args.window,
        "heartbeat_every": 10.0,
        "connect_concurrency": args.connect_concurrency,
        "compression": None if args.no_compression else "deflate",
        "run_id": run_id,
        "report_rtt": not args.no_rtt,
        "connect_attempts": 3 if args.classic else 20,
    }
    specs = [
        PointSpec(stage.point_url(i, point_id, token), point_id, phone_address(i))
        for i, (point_id, token) in enumerate(stage.points)
    ]
    procs = max(1, args.point_procs)
    point_plans = [
        WorkerPlan(points=specs[i::procs], seed=args.seed + i, **common) for i in range(procs)
    ]
    page = None if args.classic else stage.board_page()
    boards = [BoardSpec(stage.board_url(i), stage.cookie, page) for i in range(args.boards)]
    board_plan = WorkerPlan(boards=boards, seed=args.seed, **common)
    return {"boards": [board_plan], "points": point_plans}


def phone_address(index: int) -> str:
    """A chair's phone's own address (10.0.0.1, 10.0.0.2, …): counted by the per-address
    handshake limit as the proxy in front reports it."""
    number = index + 1
    return f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"


def drive(stage: Stage, args: argparse.Namespace) -> dict[str, Any]:
    """The rush (default) or the classic run, with how busy the machine was around it."""
    idle_busy = setup.machine_busy_pct()  # other work on the machine, before we start
    round_trip = setup.postgres_round_trip_us()  # how long a process waits to be scheduled
    load_before = os.getloadavg()[0]
    if args.classic:
        result = drive_classic(stage, args)
    else:
        fleet = Fleet(plans_for(stage, args, f"{stage.key}-{int(time.time())}"))
        services = setup.service_pids() if stage.key.startswith("pg") else []
        meter = Meter(stage.pids, fleet.pids, services, [] if stage.is_floor else stage.ports)
        try:
            result = rush.run(fleet, meter, stage.pids, stage.label, len(stage.points), args)
        finally:
            fleet.close()
    return result | {
        "machine_before_pct": idle_busy,
        "pg_round_trip_us": round_trip,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "rss_mib": [setup.peak_rss_mib(pid) for pid in stage.pids],
    }


def drive_classic(stage: Stage, args: argparse.Namespace) -> dict[str, Any]:
    """Connect boards then points, let presence settle, run the check-in window, collect."""
    fleet = Fleet(plans_for(stage, args, f"{stage.key}-{int(time.time())}"))
    services = setup.service_pids() if stage.key.startswith("pg") else []
    meter = Meter(stage.pids, fleet.pids, services, [] if stage.is_floor else stage.ports)
    try:
        boards_up = fleet.ask("boards", "connect")[0]
        started = time.monotonic()
        points_up = fleet.ask("points", "connect")
        connected_at = time.monotonic()
        connected = len(stage.points) - sum(len(r["failures"]) for r in points_up)
        print(f"  {connected} points connected in {connected_at - started:.1f} s", flush=True)
        settle = None if stage.is_floor else wait_settled(fleet, connected, connected_at, args)
        rss_connected = [setup.peak_rss_mib(pid, "VmRSS") for pid in stage.pids]
        meter.begin()
        profilers = start_profilers(stage, args)
        point_results, board_results = check_in_window(fleet, args)
        usage = meter.end()
    finally:
        fleet.close()
    for pid, output in profilers:
        print_profile(pid, output)
    if stage.folder is not None:  # every client's times, for a closer look (kept with --keep)
        (stage.folder / "clients.json").write_text(
            json.dumps({"points": point_results, "boards": board_results}, default=str)
        )
    return (
        summarize(stage.label, len(stage.points), point_results, board_results)
        | usage
        | {
            "connect_wall_s": connected_at - started,
            "settle_s": settle,
            "board_failures": boards_up["failures"],
            "rss_connected_mib": rss_connected,
        }
    )


def check_in_window(
    fleet: Fleet, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every point checks in once within the window; wait for acks and boards (or the drain)."""
    start_at = time.monotonic() + 0.5
    fleet.ask("boards", "start", start_at)
    fleet.ask("points", "start", start_at)
    time.sleep(max(0.0, start_at + args.window - time.monotonic()))
    answers = fleet.ask("points", "finish", (start_at + args.window + args.drain, None))
    points = [p for answer in answers for p in answer["points"]]
    sent = frozenset(p["point_id"] for p in points if p["sent_at"] is not None)
    # Boards get `--drain` seconds after the last acknowledgement (or the acks' deadline).
    boards = fleet.ask("boards", "finish", (time.monotonic() + args.drain, sent))[0]["boards"]
    return points, boards


def start_profilers(stage: Stage, args: argparse.Namespace) -> list[tuple[int, Path]]:
    """With `--profile`, py-spy records each server through the window."""
    if not args.profile or stage.folder is None:
        return []
    started = []
    for pid in stage.pids:
        output = stage.folder / f"profile-{stage.key}-{pid}.txt"
        if setup.start_profiler(pid, output, args.window + 3) is not None:
            started.append((pid, output))
    return started


def print_profile(pid: int, output: Path) -> None:
    """The busiest frames of one server's profile."""
    for _ in range(50):  # py-spy writes its file when its duration ends
        if output.exists() and output.stat().st_size:
            break
        time.sleep(0.2)
    if not output.exists():
        print(f"  no profile of {pid}")
        return
    print(f"  profile of server {pid} ({output}): inclusive %, self %, frame")
    for frame, inclusive, own in setup.top_frames(output):
        print(f"    {inclusive:5.1f} {own:5.1f}  {frame}")


QUIET_S = 2.0


def wait_settled(
    fleet: Fleet, connected: int, connected_at: float, args: argparse.Namespace
) -> float | None:
    """Seconds from the last point connecting until every board shows every point online and
    presence has gone quiet: past the second heartbeat (it carries the first round-trip time,
    published once) and no presence delta for QUIET_S. None when `--settle` runs out."""
    earliest = connected_at + 10.0 + 3.0
    while time.monotonic() - connected_at < args.settle:
        status = fleet.ask("boards", "status")[0]
        now = time.monotonic()
        quiet = now - status["last_presence_at"] >= QUIET_S
        if status["online_min"] >= connected and now >= earliest and quiet:
            return now - connected_at
        time.sleep(0.25)
    return None


def server_errors(logs: list[Path]) -> int:
    """Tracebacks the servers logged."""
    return sum(log.read_text(errors="replace").count("Traceback") for log in logs if log.exists())


def serve_and_drive(
    stage: Stage, env: dict[str, str], folder: Path, seed: setup.Seed, args: argparse.Namespace
) -> dict[str, Any]:
    """Start one `confhub serve` per port, sign the admin in (sessions live in the server, or
    in Redis when configured), drive, stop."""
    processes = []
    stage.folder = folder
    try:
        for port in stage.ports:
            log = folder / f"server-{port}.log"
            processes.append(setup.start_confhub(env, port, log))
            stage.logs.append(log)
        for port, process in zip(stage.ports, processes, strict=True):
            setup.wait_ready(port, process, http=True)
        stage.pids = [p.pid for p in processes]
        stage.cookie = setup.login_cookie(stage.ports[0], seed.admin_email, seed.admin_password)
        result = drive(stage, args)
    finally:
        for process in processes:
            setup.stop(process)
    return result | {"server_errors": server_errors(stage.logs)}


def run_sqlite(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One process on a SQLite file, in-memory fan-out."""
    url = f"sqlite+aiosqlite:///{folder / 'rollcall.sqlite3'}"
    env = setup.base_env(folder, url, None)
    setup.prepare_database(env)
    seed = asyncio.run(setup.seed_meeting(url, args.points))
    ports = [setup.free_port()]
    stage = Stage("sqlite", "SQLite, 1 process", ports, [], seed.meeting_id, seed.tokens)
    return serve_and_drive(stage, env, folder, seed, args)


def run_pg(args: argparse.Namespace, folder: Path, processes: int = 2) -> dict[str, Any]:
    """Processes on their own ports sharing a fresh PostgreSQL database and Redis."""
    with setup.postgres_database() as url:
        env = setup.base_env(folder, url, setup.REDIS_URL)
        setup.prepare_database(env)
        seed = asyncio.run(setup.seed_meeting(url, args.points))
        ports = [setup.free_port() for _ in range(processes)]
        label = f"PostgreSQL + Redis, {processes} process{'es' if processes > 1 else ''}"
        key = "pg" if processes == 2 else f"pg{processes}"
        stage = Stage(key, label, ports, [], seed.meeting_id, seed.tokens)
        return serve_and_drive(stage, env, folder, seed, args)


def run_pg_one(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """The production stack in one process: what 3,321 sockets cost it, without a second
    process's own baseline."""
    return run_pg(args, folder, processes=1)


def run_floor(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """The bare `websockets` broadcast server, same clients and messages."""
    port = setup.free_port()
    log = folder / "floor.log"
    process = setup.start_floor(port, log)
    points = [(point_id, "") for point_id in range(1, args.points + 1)]
    label = "floor: bare websockets"
    stage = Stage("floor", label, [port], [process.pid], 0, points, None, [log], folder)
    try:
        setup.wait_ready(port, process, http=False)
        result = drive(stage, args)
    finally:
        setup.stop(process)
    return result | {"server_errors": server_errors(stage.logs)}


def print_errors(result: dict[str, Any]) -> None:
    """The most frequent errors clients saw, and check-ins that needed a retry."""
    counts = collections.Counter(result["client_errors"])
    for error, number in counts.most_common(5):
        print(f"  client error ×{number}: {error}")
    if result["retried"]:
        print(f"  {result['retried']} check-ins were refused at first and sent again")


RUNNERS = {"sqlite": run_sqlite, "pg1": run_pg_one, "pg": run_pg, "floor": run_floor}


def parse_args() -> argparse.Namespace:
    """The sizes of the run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=3321, help="invited points, one client each")
    parser.add_argument("--boards", type=int, default=50)
    parser.add_argument(
        "--classic",
        action="store_true",
        help="check-ins only once every point is connected and presence is quiet",
    )
    parser.add_argument(
        "--window", type=float, default=10.0, help="seconds for every check-in (classic)"
    )
    parser.add_argument("--runs", type=int, default=1, help="runs per setup; medians reported")
    parser.add_argument("--only", choices=sorted(RUNNERS), action="append", help="repeatable")
    parser.add_argument("--point-procs", type=int, default=1, help="point client processes")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--settle", type=float, default=60.0, help="max wait for presence")
    parser.add_argument(
        "--drain", type=float, default=30.0, help="max wait for acks after the window, then boards"
    )
    parser.add_argument("--seed", type=int, default=2025)
    rush.add_arguments(parser)
    parser.add_argument("--no-compression", action="store_true", help="no permessage-deflate")
    parser.add_argument(
        "--no-rtt", action="store_true", help="heartbeats without rtt_ms (presence stays quiet)"
    )
    parser.add_argument("--no-report", action="store_true", help="do not write the report")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--profile", action="store_true", help="py-spy the servers (with --keep)")
    return parser.parse_args()


def main() -> None:
    """Run the setups, print the table and write docs/performance.md."""
    args = parse_args()
    command = shlex.join([".venv/bin/python", "bench/rollcall.py", *sys.argv[1:]])
    print(f"Reproduce with: {command}", flush=True)
    raise_fd_limit()
    show = format_table if args.classic else format_rush
    default = ["sqlite", "pg1", "pg", "floor"] if args.classic else ["pg1", "pg", "floor"]
    results = []
    for key in args.only or default:
        runs = []
        for run in range(max(1, args.runs)):
            print(f"{key}: preparing (run {run + 1} of {args.runs})", flush=True)
            folder = Path(tempfile.mkdtemp(prefix=f"confhub-rollcall-{key}-"))
            try:
                runs.append(RUNNERS[key](args, folder))
            finally:
                if args.keep:
                    print(f"  kept {folder} (server logs, database)", flush=True)
                else:
                    setup.remove(folder)
            print(show(runs[-1:]), flush=True)
            print_errors(runs[-1])
        results.append(median_of(runs))
    print(show(results))
    print(f"Reproduce with: {command}")
    if not args.no_report:
        (write_section if args.classic else write_rush_section)(command, args, results)


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several runs of a setup: the median of every number (and of each
    process's memory), the rest from the first run; `runs` keeps each run's own result."""
    merged = dict(runs[0])
    for key in runs[0]:
        values: list[Any] = [run.get(key) for run in runs]
        if all(_number(v) for v in values):
            merged[key] = statistics.median(values)
        elif all(isinstance(v, list) and v and all(_number(x) for x in v) for v in values):
            merged[key] = [statistics.median(column) for column in zip(*values, strict=False)]
    merged["client_errors"] = [e for run in runs for e in run["client_errors"]]
    return merged | {"runs": runs}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


if __name__ == "__main__":
    main()
