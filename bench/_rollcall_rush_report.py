"""The rush's tables (bench/_rollcall_rush.py) and its section of docs/performance.md."""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _report import replace_section
from _rollcall_report import _header, _ms, _pair

SECTION = "## Roll call: the rush (bench/rollcall.py)"
# The targets (#20), for an idle 2-core machine.
TARGETS = {"checkin_p99_ms": 100.0, "fanout_p99_ms": 100.0, "board_state_p99_ms": 1000.0}
STORM_TARGET_S = 10.0

# Written by hand from the runs and profiles: re-read it when the numbers above it change.
ANALYSIS = Path(__file__).with_name("_rollcall_rush_analysis.md")


def _mib(values: list[float]) -> str:
    return " + ".join(f"{m:.0f}" for m in values) + " MiB"


def main_rows(results: list[dict[str, Any]]) -> list[str]:
    """The headline table, one row per setup (medians when several runs)."""
    rows = _header(
        "setup",
        "points up",
        "check-in p50 / p99",
        "fan-out p99",
        "board's first full state p99 (page p99)",
        "storm: all back (p99 one)",
        "lost / dup",
        "presence deltas < 1 s apart",
        "server CPU (CPU-s)",
        "peak RSS",
        "load average before / after",
    )
    for r in results:
        rows.append(
            f"| {r['label']} | {r['connected']:,.0f}/{r['points']:,} | "
            f"{_pair(r['checkin_p50_ms'], r['checkin_p99_ms'])} | {_ms(r['fanout_p99_ms'])} ms | "
            f"{_ms(r['board_state_p99_ms'])} ms ({_ms(r['board_page_p99_ms'])} ms) | "
            f"{r['storm_back_s']:.1f} s ({_ms(r['storm_p99_ms'])} ms) | "
            f"**{r['lost']:.0f} / {r['duplicated']:.0f}** | {r['presence_too_soon']:.0f} | "
            f"{r['server_pct']:.0f} % ({r['server_pct'] * r['wall_s'] / 100:.0f} s) | "
            f"{_mib(r['rss_mib'])} | "
            f"{r['load_before']:.1f} / {r['load_after']:.1f} |"
        )
    return rows


def detail_rows(results: list[dict[str, Any]]) -> list[str]:
    """What else happened: connections, retries, failures, memory after each phase."""
    rows = _header(
        "setup",
        "connect p50 / p99 one",
        "check-in max / fan-out max",
        "check-ins retried / never acked",
        "storm: reconnected / failed",
        "presence deltas per board",
        "RSS after the rush / peak",
        "server tracebacks / client errors",
        "GC in rush: full / all (pause)",
    )
    for r in results:
        gc = "—"
        if r.get("gc_full") is not None:
            full = f"{r['gc_full']:.0f} ({r['gc_full_ms']:,.0f} ms)"
            gc = f"{full} / {r['gc_all']:.0f} ({r['gc_all_ms']:,.0f} ms)"
        rows.append(
            f"| {r['label']} | {_pair(r['connect_p50_ms'], r['connect_p99_ms'])} | "
            f"{_pair(r['checkin_max_ms'], r['fanout_max_ms'])} | "
            f"{r['retried']:.0f} / {r['sent'] - r['acked']:.0f} | "
            f"{r['storm_reconnected']:,.0f} / {r['storm_failed']:.0f} | "
            f"{r['presence_per_board']:,.0f} | {_mib(r['rss_rush_mib'])} / {_mib(r['rss_mib'])} | "
            f"{r['server_errors']:.0f} / {len(r['client_errors'])} | {gc} |"
        )
    return rows


def run_lines(results: list[dict[str, Any]]) -> list[str]:
    """Each run's own headline numbers, when there were several."""
    lines = []
    for r in results:
        runs = r.get("runs", [])
        if len(runs) < 2:
            continue
        each = "; ".join(
            f"{_pair(x['checkin_p50_ms'], x['checkin_p99_ms'])}, fan-out {_ms(x['fanout_p99_ms'])}"
            f" ms, board {_ms(x['board_state_p99_ms'])} ms, storm {x['storm_back_s']:.1f} s"
            f" (load {x['load_before']:.1f})"
            for x in runs
        )
        lines.append(f"- {r['label']}, each run (check-in p50 / p99): {each}.")
    return lines


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    """Each confhub setup against the issue's targets."""
    lines = []
    for r in results:
        if r["label"].startswith("floor"):
            continue
        parts = []
        for key, name in (
            ("checkin_p99_ms", "check-in p99"),
            ("fanout_p99_ms", "fan-out p99"),
            ("board_state_p99_ms", "board's first full state p99"),
        ):
            value, target = r[key], TARGETS[key]
            verdict = "met" if value is not None and value <= target else "**missed**"
            parts.append(f"{name} {_ms(value)} ms (target {target:,.0f}: {verdict})")
        storm = (
            "met" if r["storm_back_s"] <= STORM_TARGET_S and not r["storm_failed"] else "**missed**"
        )
        parts.append(f"storm {r['storm_back_s']:.1f} s (target {STORM_TARGET_S:.0f}: {storm})")
        clean = r["lost"] == 0 and r["duplicated"] == 0 and r["acked"] == r["sent"]
        parts.append("nothing lost or duplicated" if clean else "**something lost or duplicated**")
        lines.append(f"- {r['label']}: " + "; ".join(parts) + ".")
    return lines


def format_rush(results: list[dict[str, Any]]) -> str:
    """Both tables, for the terminal."""
    return "\n".join(main_rows(results)) + "\n\n" + "\n".join(detail_rows(results))


def section(command: str, args: argparse.Namespace, results: list[dict[str, Any]]) -> str:
    """The Markdown section."""
    runs = f"medians of {args.runs} runs" if args.runs > 1 else "one run"
    lines = [
        SECTION,
        "",
        f"`{command}` — {datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs ({platform.machine()}), servers and load generator on the same "
        f"machine, {runs} a setup.",
        "",
        f"One meeting inviting {args.points:,} points, {args.points:,} point clients (check-in "
        f"links, each from its own address through the trusted proxy) and {args.boards} boards "
        f"(admin session). Point sockets connect at random moments of the first "
        f"{args.connect_over:g} s, each point checks in over its socket at a random moment of the "
        f"first {args.checkin_over:g} s (at once if it connected later), and the boards open — "
        f"their page, then their socket — during the first {args.boards_over:g} s; so connecting, "
        "presence and check-ins overlap. Then the **storm**: every point socket is dropped "
        "without a closing handshake and reconnects at once (at most "
        f"{args.storm_concurrency:,} handshakes in flight). *Fan-out* counts the boards open "
        "when the check-in was sent; *lost* is a check-in a board neither saw nor had in its "
        "snapshot; *board's first full state* is the page's request to the socket's snapshot; "
        "*storm: all back* is the drop to the last point's snapshot. *Server CPU* is per cent of "
        "one core over the rush and its drain, and the CPU seconds that was: on a busy machine "
        "the work done, which varies less than the latencies. *Presence deltas < 1 s "
        "apart* counts, over every board and the whole run, a point's presence delta arriving "
        "within a second of its previous one (presence not coalesced). The 1-minute load "
        "average is the machine's, other engineers' test runs included.",
        "",
        *main_rows(results),
        "",
        *detail_rows(results),
        "",
        *run_lines(results),
        "",
        "Targets (issue #20, for an idle machine): check-in and fan-out p99 ≤ 100 ms, a board's "
        "first full state ≤ 1 s, all points back ≤ 10 s after the storm, nothing lost or "
        "duplicated.",
        "",
        *verdicts(results),
        "",
    ]
    lines += [ANALYSIS.read_text(encoding="utf-8")]
    return "\n".join(lines)


def write_rush_section(
    command: str, args: argparse.Namespace, results: list[dict[str, Any]]
) -> None:
    """Replace (or add) the rush's section of docs/performance.md, keeping the others."""
    replace_section(SECTION, section(command, args, results))
