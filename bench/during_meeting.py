"""Benchmark of the roll call with the desk's traffic in its window (issue #19): the national
meeting's 3,321 phones on the live channel and 50 boards watching, every point checking in within
the window, and in the same window 300 points asking to speak, 200 reporting an incident and 3
announcements to every point (each phone answering `announcement_seen` at once, as the check-in
page does).

Two runs on the production stack (`confhub serve` on PostgreSQL + Redis, one process unless
`--processes 2`), each on a fresh database: `baseline` (the roll call alone, bench/rollcall.py's
classic run) and `desk` (the same with the desk's traffic). It counts what was lost or came twice
(check-ins, speaking requests, incidents and announcements, on every phone and board), the
announcements' delivery from the secretariat's POST to each phone (p50, p99, the last), and the
check-in (send → ack) and fan-out (send → the last board) latencies of both runs. The load
generator and the servers share this machine: the load average is printed beside the numbers.

Run: `.venv/bin/python bench/during_meeting.py` (`--help` for sizes); it prints the command that
reproduces it and, unless `--no-report`, writes its section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _rollcall_setup as setup
import httpx
import rollcall
from _during_clients import desk_worker_main
from _report import replace_section
from _rollcall_clients import WorkerPlan
from _rollcall_measure import Meter, percentile, summarize
from _rollcall_worker import raise_fd_limit

SECTION = "## During the meeting: speaking, incidents and announcements in the roll call's window"


class DeskFleet(rollcall.Fleet):
    """bench/rollcall.py's fleet, its workers speaking the desk's messages too."""

    def __init__(self, plans: dict[str, list[WorkerPlan]]) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.pipes = {}
        self.processes = []
        for role, role_plans in plans.items():
            self.pipes[role] = []
            for plan in role_plans:
                parent_end, child_end = context.Pipe()
                process = context.Process(
                    target=desk_worker_main, args=(child_end, plan), daemon=True
                )
                process.start()
                self.pipes[role].append(parent_end)
                self.processes.append(process)


def announce(stage: rollcall.Stage, number: int) -> tuple[float, int, str | None]:
    """The secretariat's announcement to every point: when it was posted, the answer, its id."""
    url = f"http://127.0.0.1:{stage.ports[0]}/api/v1/meetings/{stage.meeting_id}/announcements"
    sent_at = time.monotonic()
    response = httpx.post(
        url,
        json={
            "text": f"Thông báo số {number}: các điểm cầu tắt micrô",
            "announcement_id": f"a{number}",
        },
        headers={"Cookie": stage.cookie or ""},
        timeout=60,
        trust_env=False,
    )
    if not response.is_success:
        print(f"  announcement {number}: {response.status_code} {response.text[:300]}", flush=True)
        return sent_at, response.status_code, None
    return sent_at, response.status_code, response.json().get("announcement_id")


def drive(stage: rollcall.Stage, args: argparse.Namespace, with_desk: bool) -> dict[str, Any]:
    """Boards, then phones, presence settles; the check-in window (with the desk's traffic)."""
    load_before = os.getloadavg()
    fleet = DeskFleet(rollcall.plans_for(stage, args, f"{stage.key}-{int(time.time())}"))
    services = setup.service_pids()
    meter = Meter(stage.pids, fleet.pids, services, stage.ports)
    sent_announcements: list[tuple[float, int, str | None]] = []
    profilers: list[tuple[int, Path]] = []
    try:
        fleet.ask("boards", "connect")
        started = time.monotonic()
        points_up = fleet.ask("points", "connect")
        connected_at = time.monotonic()
        connected = len(stage.points) - sum(len(r["failures"]) for r in points_up)
        print(f"  {connected} points connected in {connected_at - started:.1f} s", flush=True)
        settle = rollcall.wait_settled(fleet, connected, connected_at, args)
        meter.begin()
        writer_before = {port: setup.writer_buckets(port) for port in stage.ports}
        profilers = rollcall.start_profilers(stage, args)
        start_at = time.monotonic() + 0.5
        if with_desk:
            chosen = random.Random(args.seed).sample(  # noqa: S311 - which points, not secrets
                [point_id for point_id, _ in stage.points], args.speaking + args.incidents
            )
            kinds = dict.fromkeys(chosen[: args.speaking], "speak")
            kinds |= dict.fromkeys(chosen[args.speaking :], "incident")
            fleet.ask("points", "desk", (start_at, args.window, kinds))
        fleet.ask("boards", "start", start_at)
        fleet.ask("points", "start", start_at)
        if with_desk:
            for number in range(1, args.announcements + 1):
                when = start_at + args.window * number / (args.announcements + 1)
                time.sleep(max(0.0, when - time.monotonic()))
                sent_announcements.append(announce(stage, number))
        time.sleep(max(0.0, start_at + args.window - time.monotonic()))
        answers = fleet.ask("points", "finish", (start_at + args.window + args.drain, None))
        points = [p for answer in answers for p in answer["points"]]
        sent = frozenset(p["point_id"] for p in points if p["sent_at"] is not None)
        # Phones get the drain to receive the announcements; boards to see every delta.
        deadline = time.monotonic() + args.drain
        wait_announcements(fleet, sent_announcements, connected, deadline)
        boards = fleet.ask("boards", "finish", (deadline, sent))[0]["boards"]
        points = [p for a in fleet.ask("points", "finish", (0.0, None)) for p in a["points"]]
        usage = meter.end()
        writer = [
            setup.writer_summary(writer_before[port], setup.writer_buckets(port))
            for port in stage.ports
        ]
    finally:
        fleet.close()
    for pid, output in profilers:
        rollcall.print_profile(pid, output)
    label = f"{'with the desk' if with_desk else 'roll call alone'}"
    return (
        summarize(label, len(stage.points), points, boards)
        | usage
        | desk_summary(points, boards, sent_announcements, args, with_desk)
        | {
            "writer": writer,
            "settle_s": settle,
            "load_before": load_before,
            "load_after": os.getloadavg(),
            "rss_mib": [setup.peak_rss_mib(pid) for pid in stage.pids],
        }
    )


def wait_announcements(
    fleet: DeskFleet, sent: list[tuple[float, int, str | None]], phones: int, deadline: float
) -> None:
    """Until every connected phone has every announcement, or the deadline."""
    if not sent:
        return
    while time.monotonic() < deadline:
        answers = fleet.ask("points", "finish", (0.0, None))
        got = sum(
            1
            for answer in answers
            for point in answer["points"]
            for times in point["announcements"].values()
            if times
        )
        if got >= phones * len(sent):
            return
        time.sleep(0.5)


def desk_summary(
    points: list[dict[str, Any]],
    boards: list[dict[str, Any]],
    announcements: list[tuple[float, int, str | None]],
    args: argparse.Namespace,
    with_desk: bool,
) -> dict[str, Any]:
    """What the desk's traffic came to: lost and doubled, and the announcements' delivery."""
    if not with_desk:
        return {}
    live = [b for b in boards if b["failure"] is None]
    phones = [p for p in points if p["failure"] is None]
    result: dict[str, Any] = {}
    for kind, seen_key in (("speak", "requests_seen"), ("incident", "incidents_seen")):
        asked = [p for p in points if p["desk_kind"] == kind and p["desk_sent_at"] is not None]
        acked = [p for p in asked if p["desk_acked_at"] is not None]
        latency = [1000 * (p["desk_acked_at"] - p["desk_sent_at"]) for p in acked]
        ids = {p["desk_id"] for p in acked}
        result[f"{kind}_sent"] = len(asked)
        result[f"{kind}_acked"] = len(acked)
        result[f"{kind}_ack_twice"] = sum(p["desk_acks"] > 1 for p in asked)
        result[f"{kind}_errors"] = [e for p in asked for e in p["desk_errors"]][:5]
        result[f"{kind}_ack_p99_ms"] = percentile(latency, 99)
        result[f"{kind}_missing_on_boards"] = sum(len(ids - b[seen_key].keys()) for b in live)
    result["incident_repeats"] = sum(b["incident_repeats"] for b in live)
    delivery: list[float] = []
    missing = twice = 0
    for sent_at, _status, announcement_id in announcements:
        for phone in phones:
            times = phone["announcements"].get(announcement_id, [])
            if not times:
                missing += 1
                delivery.append(math.inf)
                continue
            twice += len(times) > 1
            delivery.append(1000 * (times[0] - sent_at))
    counted = [
        b["announcement_counts"].get(a_id, (0, 0, 0)) for b in live for _, _, a_id in announcements
    ]
    return result | {
        "announcements_sent": [status for _, status, _ in announcements],
        "announcement_missing": missing,
        "announcement_twice": twice,
        "announcement_p50_ms": percentile(delivery, 50),
        "announcement_p99_ms": percentile(delivery, 99),
        "announcement_max_ms": max(delivery, default=None),
        # the fewest phones any board counted as having seen an announcement
        "announcement_seen_min": min((c[1] for c in counted), default=None),
        "phones": len(phones),
    }


def run(args: argparse.Namespace, with_desk: bool) -> dict[str, Any]:
    """A fresh PostgreSQL database, `--processes` servers on Redis, one drive."""
    folder = Path(tempfile.mkdtemp(prefix="confhub-during-"))
    try:
        with setup.postgres_database() as url:
            env = setup.base_env(folder, url, setup.REDIS_URL)
            setup.prepare_database(env)
            seed = asyncio.run(setup.seed_meeting(url, args.points))
            ports = [setup.free_port() for _ in range(args.processes)]
            key = "desk" if with_desk else "baseline"
            stage = rollcall.Stage(key, key, ports, [], seed.meeting_id, seed.tokens)
            processes = []
            stage.folder = folder
            try:
                for port in ports:
                    log = folder / f"server-{port}.log"
                    processes.append(setup.start_confhub(env, port, log))
                    stage.logs.append(log)
                for port, process in zip(ports, processes, strict=True):
                    setup.wait_ready(port, process, http=True)
                stage.pids = [p.pid for p in processes]
                stage.cookie = setup.login_cookie(ports[0], seed.admin_email, seed.admin_password)
                result = drive(stage, args, with_desk)
            finally:
                for process in processes:
                    setup.stop(process)
            return result | {"server_errors": rollcall.server_errors(stage.logs)}
    finally:
        if not args.keep:
            setup.remove(folder)


def ms(value: float | None) -> str:
    """A latency for the table."""
    if value is None:
        return "–"
    return "never" if math.isinf(value) else f"{value:,.0f}"


def writer_lines(results: list[dict[str, Any]]) -> list[str]:
    """The meeting's writer queue through the window (the servers' /metrics): per class, the
    transactions, and the mean and 99th-percentile bucket of waiting for a turn and holding it."""
    lines = [
        "| run | writer class | transactions | waited mean / p99 ≤ ms | held mean / p99 ≤ ms |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for r in results:
        for server, summary in enumerate(r.get("writer", []), start=1):
            for priority in ("checkin", "desk", "background"):
                wait, held = summary.get(f"wait {priority}"), summary.get(f"held {priority}")
                if wait is None or held is None:
                    continue
                lines.append(
                    f"| {r['label']} (server {server}) | {priority} | {wait['count']:,.0f} "
                    f"| {1000 * wait['mean']:,.1f} / {1000 * wait['p99']:,.0f} "
                    f"| {1000 * held['mean']:,.1f} / {1000 * held['p99']:,.0f} |"
                )
    for r in results:
        for server, summary in enumerate(r.get("writer", []), start=1):
            answer = summary.get("answer checkin")
            if answer is not None:
                lines.append(
                    f"\n{r['label']} (server {server}): {answer['count']:,.0f} check-ins answered "
                    f"on the live channel, read → ack sent mean {1000 * answer['mean']:,.1f} ms, "
                    f"p99 ≤ {1000 * answer['p99']:,.0f} ms (the server's side of the latency)."
                )
            lag = summary.get("lag loop")
            if lag is not None:
                lines.append(
                    f"\n{r['label']} (server {server}): the event loop ran its 50 ms timer "
                    f"{lag['count']:,.0f} times, {lag['over_100ms']:,.0f} of them over 100 ms "
                    f"late, the latest ≤ {1000 * lag['max']:,.0f} ms (mean "
                    f"{1000 * lag['mean']:,.1f} ms); garbage collections {r['gc_all']:,.0f} "
                    f"({r['gc_all_ms']:,.0f} ms), of the middle generation "
                    f"{r['gc_middle']:,.0f} ({r['gc_middle_ms']:,.0f} ms), full ones "
                    f"{r['gc_full']:,.0f} ({r['gc_full_ms']:,.0f} ms); commit → this "
                    f"process's sockets p50 ≤ {ms(r['hub_lag_p50_ms'])} ms, p99 ≤ "
                    f"{ms(r['hub_lag_p99_ms'])} ms; the load generator used "
                    f"{r['load_pct']:.0f} % of a core."
                )
    return lines


def table(results: list[dict[str, Any]]) -> str:
    """The roll call's numbers side by side, then the desk's."""
    lines = [
        "| run | load avg (1 min) before → after | check-in p50 / p99 ms | fan-out p50 / p99 ms "
        "| check-ins acked / sent | lost | duplicated | server CPU % (seconds) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['label']} | {r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} "
            f"| {ms(r['checkin_p50_ms'])} / {ms(r['checkin_p99_ms'])} "
            f"| {ms(r['fanout_p50_ms'])} / {ms(r['fanout_p99_ms'])} "
            f"| {r['acked']:,} / {r['sent']:,} | {r['lost']} | {r['duplicated']} "
            f"| {r['server_pct']:.0f} ({r['server_pct'] * r['wall_s'] / 100:.1f} s) |"
        )
    lines += [
        "",
        "What each board received from the window's start: "
        + "; ".join(
            f"{r['label']} {r['frames_per_board']:,.0f} frames, "
            f"{r['chars_per_board'] / 2**20:,.1f} MiB, "
            f"{r['deltas_per_board'].get('speaking', 0):,.0f} `speaking` deltas"
            for r in results
        )
        + ".",
    ]
    lines += ["", *writer_lines(results)]
    desk = next((r for r in results if "speak_sent" in r), None)
    if desk is None:
        return "\n".join(lines)
    lines += [
        "",
        "| the desk's traffic | sent | acknowledged | acknowledged twice | missing on a board "
        "| ack p99 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kind, name in (("speak", "speaking requests"), ("incident", "incidents")):
        lines.append(
            f"| {name} | {desk[f'{kind}_sent']} | {desk[f'{kind}_acked']} "
            f"| {desk[f'{kind}_ack_twice']} | {desk[f'{kind}_missing_on_boards']} "
            f"| {ms(desk[f'{kind}_ack_p99_ms'])} |"
        )
    sent = desk["announcements_sent"]
    lines += [
        "",
        f"Announcements: {len(sent)} sent (answers {', '.join(map(str, sent))}) to "
        f"{desk['phones']:,} phones: {desk['announcement_missing']} deliveries missing, "
        f"{desk['announcement_twice']} twice; delivery from the POST to the phone p50 "
        f"{ms(desk['announcement_p50_ms'])} ms, p99 {ms(desk['announcement_p99_ms'])} ms, the "
        f"last {ms(desk['announcement_max_ms'])} ms; the boards' `seen` count reached at least "
        f"{desk['announcement_seen_min']} of {desk['phones']:,} (boards re-sent a snapshot "
        f"{desk.get('resnapshots', 0)} times: counts then come from the snapshot, which this "
        "client does not read).",
    ]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    """The sizes of the run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=3321)
    parser.add_argument("--boards", type=int, default=50)
    parser.add_argument("--speaking", type=int, default=300, help="points asking to speak")
    parser.add_argument("--incidents", type=int, default=200, help="points reporting one")
    parser.add_argument("--announcements", type=int, default=3)
    parser.add_argument("--window", type=float, default=10.0, help="seconds of the roll call")
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2))
    parser.add_argument("--point-procs", type=int, default=1, help="phone client processes")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--settle", type=float, default=60.0)
    parser.add_argument("--drain", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--only", choices=("baseline", "desk"), action="append")
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy the servers (with --keep)")
    args = parser.parse_args()
    # What bench/rollcall.py's plans expect of a classic run.
    args.classic, args.no_rtt = True, False
    return args


def main() -> None:
    """Both runs, the table, and docs/performance.md."""
    args = parse_args()
    command = shlex.join([".venv/bin/python", "bench/during_meeting.py", *sys.argv[1:]])
    print(f"Reproduce with: {command}", flush=True)
    raise_fd_limit()
    results = []
    for key in args.only or ["baseline", "desk"]:
        print(f"{key}: preparing", flush=True)
        results.append(run(args, key == "desk"))
        print(table(results[-1:]), flush=True)
        errors = results[-1]["client_errors"][:5]
        if errors:
            print(f"  client errors: {errors}")
    print(table(results))
    print(f"Reproduce with: {command}")
    if not args.no_report:
        body = (
            f"{SECTION}\n\n{__doc__.split(chr(10) + chr(10))[1]}\n\n"
            f"Reproduce with: `{command}` ({os.cpu_count()} cores shared with other work; "
            f"the load average beside each run)\n\n{table(results)}\n"
        )
        replace_section(SECTION, body)


if __name__ == "__main__":
    main()
