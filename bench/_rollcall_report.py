"""The tables of bench/rollcall.py and its section of docs/performance.md (the other sections
of that file belong to other benchmarks and are kept as they are)."""

from __future__ import annotations

import argparse
import math
import os
import platform
from datetime import UTC, datetime
from typing import Any

from _report import replace_section

SECTION = "## Roll call (bench/rollcall.py)"
TARGETS = {"checkin_p99_ms": 150.0, "fanout_p99_ms": 250.0, "rss_mib": 300.0}

# What profiling showed (py-spy, `--profile`, and the in-process measurements named here);
# written by hand, so re-read it when the numbers above it change.
ANALYSIS = """**What dominates.** The bare `websockets` floor moves the same messages in
milliseconds, so neither the load generator nor the message volume (about 17,000 board
messages a second, under the ~35,000/s of a minimal Litestar channels handler) is what is slow.

- *Storing check-ins* was the bottleneck of the first runs (SQLite p50 8.9 s, p99 17.4 s;
  PostgreSQL + Redis p50 2.9 s, p99 5.8 s): one transaction of about twelve ORM statements per
  check-in, one at a time per meeting. Now (`attendance/writer.py`) the check-ins that arrive
  while one transaction is being stored are stored together in the next, with about eight
  statements and one commit per burst, whatever its size (the meeting's version counter taken
  first, repeated keys found in one `IN` query, the points' rows written with one `UPDATE` and
  one `INSERT`, the events and records inserted in one statement each). The boards receive
  each burst as one frame. That alone gave SQLite p50 2.7 s / p99 3.9 s and PostgreSQL + Redis
  0.5 s / 2.2 s.
- *Presence* was next: every change of a point's presence (or of its round-trip time) cost
  four ORM statements, 3,321 of them while everyone connects, and `touch_alive` loaded every
  point's row every 20 s to refresh `seen_at`. A meeting's presence changes are now written in
  a few statements per batch of 50, points leaving are stored the same way (3,321 sockets
  closing together were 3,321 transactions queued at once, 50 MiB at the peak), and the
  refresh is one `UPDATE … IN` per 500 points.
- *Connecting* 3,321 points on PostgreSQL took 2 to 7 minutes: each point's snapshot counts the
  meeting's totals, and while a fresh meeting's table statistics lag, PostgreSQL planned that
  join as a nested loop over every pair (1.8 s per count, `EXPLAIN ANALYZE`). The totals a
  point's snapshot shows are now counted once per version and second in each process.
- *Garbage collection* made the last tail. Check-in latency plotted against time was flat at
  20–40 ms except for half a second in which it reached 650 ms; a timer on Python's collector
  (`gc.callbacks`, now the `confhub_gc_pause_seconds` metric) showed full collections of the
  700,000 objects a process holds with 3,321 sockets taking 0.3–0.6 s, several a minute.
  `confhub serve` now freezes what startup built out of every collection and starts a young
  collection after 50,000 new objects instead of 700 (`system/serving.py`), so in-flight
  objects mostly die before promotion and full collections became rare: none in the window
  since (the *GC in window* column), and p99 went from 550–1,400 ms to 40–60 ms.
- *Memory.* A point's socket cost about 90 KiB at first, 42 KiB of it permessage-deflate's
  compressor and decompressor, which `confhub serve` declines (live messages are a few dozen
  bytes). Fifty boards opening together each read and encoded all 3,321 points (60 MiB at
  once); boards asking at the same time now share one read and one encoded frame
  (`attendance/snapshots.py`). A point socket kept an idle sender task and an `asyncio.Queue`
  (about 3 KiB); the sender now starts when there is something to send. openpyxl is imported
  by the two requests that use it (10 MiB a process).
  What is left is about 35 KiB of Python objects per socket (`tracemalloc` with 2,000
  sockets: the handshake's headers as websockets, uvicorn and Litestar each keep them, about
  7 KiB; the frames of Litestar's middleware stack, about 6 KiB; uvicorn's protocol, its
  queue and events, about 5 KiB; the rest spread thin) on top of about 115 MiB that every
  process holds before its first socket (Litestar with SQLAlchemy 52 MiB, Advanced Alchemy's
  Litestar extension with Alembic 15 MiB, pydantic 8 MiB, confhub itself 11 MiB). Of an idle
  process's 120 MiB, 100 MiB are anonymous memory, and `tracemalloc` finds 87 MiB of Python
  allocations there: 42 MiB are the code objects of the imported modules, the rest spread thin
  over SQLAlchemy (12 MiB), Litestar and the others; capping glibc's arenas
  (`MALLOC_ARENA_MAX=2`) changed nothing (two processes 196 + 195 MiB against 195 + 196).
  One process holds 3,321 sockets under 300 MiB on either database; two processes pay that
  115 MiB twice, so their sum stays near 400 MiB, and would need each process's own start
  under about 90 MiB to fit in 300.

Runs vary with whatever else the machine is doing (see *machine busy before*); with other test
suites running the same day, every setup, the floor included, was several times slower. Runs
on an idle machine vary too: over the runs of 2026-12-06 after the collector change, the
check-in p99 was 39–86 ms on SQLite, 52–112 ms on one PostgreSQL process and 52–149 ms on
two; a young collection that falls in the window (the *GC in window* column) adds its pause
to the check-ins waiting on it.

The processes measured run from the development environment, which also holds pydantic (a
test-only dependency pulls it in, and Litestar loads its pydantic support whenever it is
installed): about 8 MiB a process that a production install (`requirements/prod.txt`) does
not have.

Fixed in `src/confhub/attendance/` while writing this benchmark (each measured before and
after): concurrent check-ins on SQLite failed with "database is locked" and the socket closed
(a savepoint's read snapshot cannot wait for the write lock; the transaction now takes the
lock first); a point's snapshot loaded every invited point to count the totals (about 1 s per
connection with 3,321 points, now counted in SQL); check-ins queue per process and meeting
instead of filling the connection pool; HTTP check-ins hand their request's connection back
before waiting for the writer (a burst of them otherwise held every pooled connection); a delta
was offered to every socket of the meeting (now to the boards and that point's clients only);
a board's snapshot is read as columns, not ORM objects; every attendance writer takes the
meeting's counter before a point's row (no deadlock between a check-in burst and a presence
batch on PostgreSQL)."""


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if math.isfinite(value) else "never"


def _pair(a: float | None, b: float | None, unit: str = "ms") -> str:
    return f"{_ms(a)} / {_ms(b)} {unit}"


def main_rows(results: list[dict[str, Any]]) -> list[str]:
    """The headline table."""
    rows = [
        "| setup | points up | connect: all / p99 one | check-in p50 / p99 | "
        "fan-out p50 / p99 | lost / dup | server CPU | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        rss = " + ".join(f"{m:.0f}" for m in r["rss_mib"])
        rows.append(
            f"| {r['label']} | {r['connected']:,}/{r['points']:,} | "
            f"{r['connect_wall_s']:.1f} s / {_ms(r['connect_p99_ms'])} ms | "
            f"{_pair(r['checkin_p50_ms'], r['checkin_p99_ms'])} | "
            f"{_pair(r['fanout_p50_ms'], r['fanout_p99_ms'])} | "
            f"**{r['lost']} / {r['duplicated']}** | {r['server_pct']:.0f} % | {rss} MiB |"
        )
    return rows


def _header(*columns: str) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "| --- |" + " ---: |" * (len(columns) - 1)]


def traffic_rows(results: list[dict[str, Any]]) -> list[str]:
    """What flowed in the window, and what went wrong."""
    rows = _header(
        "setup",
        "deltas per board (check-in / presence / other)",
        "frames per board",
        "commit → hub p50 / p99",
        "check-in max / fan-out max",
        "gaps / re-snapshots",
        "check-ins retried / never acked",
        "server tracebacks / client errors",
    )
    for r in results:
        hub = "—"
        if r["hub_lag_p50_ms"] is not None:
            hub = "≤ " + _pair(r["hub_lag_p50_ms"], r["hub_lag_p99_ms"])
        kinds = dict(r["deltas_per_board"])
        checkin, presence = kinds.pop("checkin", 0), kinds.pop("presence", 0)
        rows.append(
            f"| {r['label']} | {checkin:,.0f} / {presence:,.0f} / {sum(kinds.values()):,.0f} | "
            f"{r['frames_per_board']:,.0f} | {hub} | "
            f"{_pair(r['checkin_max_ms'], r['fanout_max_ms'])} | "
            f"{r['gaps']} / {r['resnapshots']} | {r['retried']} / {r['sent'] - r['acked']} | "
            f"{r['server_errors']} / {len(r['client_errors'])} |"
        )
    return rows


def condition_rows(results: list[dict[str, Any]]) -> list[str]:
    """How busy the machine was: before the run, and who used it during the window."""
    rows = _header(
        "setup",
        "presence settled",
        "RSS once connected",
        "machine busy before / during",
        "`SELECT 1` round trip before",
        "load generator CPU",
        "PostgreSQL + Redis CPU",
        "GC in window: full / all (pause)",
    )
    for r in results:
        settle = "—" if r["settle_s"] is None else f"{r['settle_s']:.1f} s"
        services = f"{r['services_pct']:.0f} %" if r["services_pct"] else "—"
        rss = " + ".join(f"{m:.0f}" for m in r["rss_connected_mib"])
        rows.append(
            f"| {r['label']} | {settle} | {rss} MiB | "
            f"{r['machine_before_pct']:.0f} % / {r['machine_pct']:.0f} % | "
            f"{r['pg_round_trip_us']:,.0f} µs | {r['load_pct']:.0f} % | {services} | "
            f"{_collections(r)} |"
        )
    return rows


def _collections(r: dict[str, Any]) -> str:
    """Garbage collections during the window, and how long they stopped the servers."""
    if r.get("gc_full") is None:
        return "—"
    return (
        f"{r['gc_full']:.0f} ({r['gc_full_ms']:,.0f} ms) / "
        f"{r['gc_all']:.0f} ({r['gc_all_ms']:,.0f} ms)"
    )


def format_table(results: list[dict[str, Any]]) -> str:
    """Both tables, for the terminal."""
    tables = [main_rows(results), traffic_rows(results), condition_rows(results)]
    return "\n\n".join("\n".join(table) for table in tables)


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    """Each confhub setup against the targets, met or missed by how much."""
    lines = []
    for r in results:
        if r["label"].startswith("floor"):
            continue
        checks = [
            ("check-in p99", r["checkin_p99_ms"], TARGETS["checkin_p99_ms"], "ms"),
            ("fan-out p99", r["fanout_p99_ms"], TARGETS["fanout_p99_ms"], "ms"),
            ("peak RSS (all server processes)", sum(r["rss_mib"]), TARGETS["rss_mib"], "MiB"),
        ]
        parts = []
        for name, value, target, unit in checks:
            if value is None:
                parts.append(f"{name}: not measured")
            elif not math.isfinite(value):
                parts.append(f"{name}: beyond the drain (target {target:,.0f} {unit}: **missed**)")
            elif value <= target:
                parts.append(f"{name} {value:,.0f} {unit} (target {target:,.0f}: met)")
            else:
                missed = f"missed by {value - target:,.0f} {unit}, ×{value / target:.1f}"
                parts.append(f"{name} {value:,.0f} {unit} (target {target:,.0f}: **{missed}**)")
        clean = r["lost"] == 0 and r["duplicated"] == 0 and r["acked"] == r["sent"]
        parts.append(
            "no message lost or duplicated"
            if clean
            else f"**{r['lost']} lost, {r['duplicated']} duplicated, "
            f"{r['sent'] - r['acked']} check-ins not acknowledged**"
        )
        lines.append(f"- {r['label']}: " + "; ".join(parts) + ".")
    return lines


def section(command: str, args: argparse.Namespace, results: list[dict[str, Any]]) -> str:
    """The Markdown section."""
    lines = [
        SECTION,
        "",
        f"`{command}` — {datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs ({platform.machine()}), servers and load generator on the same "
        "machine.",
        "",
        f"One meeting inviting {args.points:,} points; {args.points:,} point clients (check-in "
        f"links) and {args.boards} boards (admin session) on the live channel, the clients "
        f"offering permessage-deflate {'never' if args.no_compression else 'always'} (`confhub "
        f"serve` declines it, the bare server accepts it); every point heartbeats on connect "
        f"and every 10 s and checks in once at a random moment of a {args.window:g} s window, "
        "started once every board shows every point online and presence has been quiet for 2 s "
        "(past the second heartbeat). *Check-in* is send → ack (a check-in never acknowledged "
        "counts as infinitely late); *fan-out* is send → "
        "the last of the boards seeing that point's delta; *lost* counts (board, check-in) "
        "pairs never seen, *dup* versions seen twice. The load generator is two more processes "
        "on the same machine (points; boards), and a point sends a refused check-in again "
        "after 1 s, as a phone would. CPU is per cent of one core during the window and the "
        "drain after it; peak RSS is each server process's VmHWM.",
        "",
        *main_rows(results),
        "",
        *traffic_rows(results),
        "",
        *condition_rows(results),
        "",
        "Targets on this 2-core machine: nothing lost or duplicated, check-in p99 under "
        "150 ms, fan-out p99 under 250 ms, under 300 MiB resident for 3,321 connections.",
        "",
        *verdicts(results),
        "",
    ]
    if ANALYSIS:
        lines += [ANALYSIS, ""]
    return "\n".join(lines)


def write_section(command: str, args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    """Replace (or add) this benchmark's section of docs/performance.md, keeping the others."""
    replace_section(SECTION, section(command, args, results))
