"""The tables of bench/rollcall.py and its section of docs/performance.md (the other sections
of that file belong to other benchmarks and are kept as they are)."""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPORT = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
SECTION = "## Roll call (bench/rollcall.py)"
INTRO = (
    "# Performance\n\nNumbers measured by the scripts in `bench/`, each of which prints the "
    "command that reproduces it and rewrites its own section below.\n"
)
TARGETS = {"checkin_p99_ms": 150.0, "fanout_p99_ms": 250.0, "rss_mib": 300.0}

# What profiling showed; kept next to the numbers it explains (see write_section).
ANALYSIS = ""


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


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
        "machine busy before / during",
        "`SELECT 1` round trip before",
        "load generator CPU",
        "PostgreSQL + Redis CPU",
    )
    for r in results:
        settle = "—" if r["settle_s"] is None else f"{r['settle_s']:.1f} s"
        services = f"{r['services_pct']:.0f} %" if r["services_pct"] else "—"
        rows.append(
            f"| {r['label']} | {settle} | "
            f"{r['machine_before_pct']:.0f} % / {r['machine_pct']:.0f} % | "
            f"{r['pg_round_trip_us']:,.0f} µs | {r['load_pct']:.0f} % | {services} |"
        )
    return rows


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
            ("peak RSS per process", max(r["rss_mib"], default=0.0), TARGETS["rss_mib"], "MiB"),
        ]
        parts = []
        for name, value, target, unit in checks:
            if value is None:
                parts.append(f"{name}: not measured")
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
        f"links) and {args.boards} boards (admin session) on the live channel, permessage-deflate "
        f"{'off' if args.no_compression else 'on'}; every point heartbeats on connect and every "
        f"10 s and checks in once at a random moment of a {args.window:g} s window, started once "
        "every board shows every point online. *Check-in* is send → ack; *fan-out* is send → "
        "the last of the boards seeing that point's delta; *lost* counts (board, check-in) "
        "pairs never seen, *dup* versions seen twice. CPU is per cent of one core during the "
        "window and the drain after it; peak RSS is each server process's VmHWM.",
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
    text = section(command, args, results)
    current = REPORT.read_text(encoding="utf-8") if REPORT.exists() else INTRO
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        updated = "".join(lines[:start]) + text + ("\n" + tail if tail else "")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(updated, encoding="utf-8")
