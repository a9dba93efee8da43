"""The rush of bench/rollcall.py (its default): the first minutes of a national meeting, as
they happen rather than in tidy phases.

From `start_at`, each point's socket connects at a random moment of `--connect-over` seconds
and checks in over it at a random moment of `--checkin-over` (at once, when it connected
later), and the boards open (page, then socket) at random moments of `--boards-over`; so
connecting, presence and check-ins overlap. Then the **storm**: every point socket is dropped
without a closing handshake (a network or proxy failing) and reconnects at once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any, Protocol

import _rollcall_setup as setup
from _rollcall_measure import Meter, storm_summary, summarize

# After the storm, presence deltas still reach the boards for a round or two of the presence
# loop (every 2 s): the coalescing check waits for them.
PRESENCE_SETTLE_S = 5.0
PROGRESS_EVERY_S = 10.0


class Commands(Protocol):
    """The load generator (rollcall.Fleet): a command to every worker of a role."""

    def ask(self, role: str, command: str, argument: Any = None) -> list[Any]: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The rush's sizes."""
    parser.add_argument("--connect-over", type=float, default=30.0, help="seconds (rush)")
    parser.add_argument("--checkin-over", type=float, default=60.0, help="seconds (rush)")
    parser.add_argument("--boards-over", type=float, default=20.0, help="seconds (rush)")
    parser.add_argument(
        "--storm-concurrency", type=int, default=1000, help="handshakes in flight (storm)"
    )


def run(
    fleet: Commands,
    meter: Meter,
    pids: list[int],
    label: str,
    invited: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The rush then the storm; the numbers of both."""
    meter.begin()
    start_at = time.monotonic() + 1.0
    plan = {
        "start_at": start_at,
        "connect_over": args.connect_over,
        "checkin_over": args.checkin_over,
        "boards_over": args.boards_over,
    }
    fleet.ask("boards", "rush", plan)
    fleet.ask("points", "rush", plan)
    end = start_at + max(args.connect_over, args.checkin_over, args.boards_over)
    _progress(fleet, end)
    answers = fleet.ask("points", "finish", (end + args.drain, None))
    points = [p for answer in answers for p in answer["points"]]
    sent = frozenset(p["point_id"] for p in points if p["sent_at"] is not None)
    boards = fleet.ask("boards", "finish", (time.monotonic() + args.drain, sent))[0]["boards"]
    usage = meter.end()
    rss_rush = [setup.peak_rss_mib(pid) for pid in pids]
    print(f"  rush done in {time.monotonic() - start_at:.1f} s; storm", flush=True)
    storm_at = time.monotonic() + 1.0
    backs = fleet.ask("points", "storm", (storm_at, args.storm_concurrency))
    after = fleet.ask("points", "finish", (time.monotonic(), None))
    storm = storm_summary(
        [p for answer in after for p in answer["points"]],
        storm_at,
        max(b["back_at"] for b in backs),
    )
    time.sleep(PRESENCE_SETTLE_S)
    boards_after = fleet.ask("boards", "finish", (time.monotonic(), None))[0]["boards"]
    result = summarize(label, invited, points, boards)
    return (
        result
        | usage
        | storm
        | {
            "rss_rush_mib": rss_rush,
            "presence_too_soon": sum(b["presence_too_soon"] for b in boards_after),
            "presence_per_board": statistics.mean(
                [b["kinds"].get("presence", 0) for b in boards_after] or [0]
            ),
            "board_failures": [b["failure"] for b in boards if b["failure"]],
        }
    )


def _progress(fleet: Commands, end: float) -> None:
    """Wait for the rush's end, printing how far it got every PROGRESS_EVERY_S."""
    while (remaining := end - time.monotonic()) > 0:
        time.sleep(min(PROGRESS_EVERY_S, remaining))
        status = fleet.ask("points", "status")
        sent = sum(s["sent"] for s in status)
        acked = sum(s["acked"] for s in status)
        load = os.getloadavg()[0]
        print(f"    sent {sent}, acked {acked}; load average {load:.1f}", flush=True)
