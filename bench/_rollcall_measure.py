"""What bench/rollcall.py measures: CPU time of the processes involved, the servers' own
commit → hub lag, and the latencies and counts computed from the clients' records."""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import _rollcall_setup as setup


@dataclass
class Meter:
    """CPU seconds of the servers, the load generator, PostgreSQL/Redis and the machine."""

    servers: list[int]
    load: list[int]
    services: list[int]
    ports: list[int] = field(default_factory=list)
    started: float = 0.0
    marks: dict[str, float] = field(default_factory=dict)
    lag_marks: list[dict[float, float]] = field(default_factory=list)
    gc_marks: list[dict[str, float]] = field(default_factory=list)

    def _read(self) -> dict[str, float]:
        busy, total = setup.machine_busy_seconds()
        return {
            "server": sum(setup.cpu_seconds(pid) for pid in self.servers),
            "load": sum(setup.cpu_seconds(pid) for pid in self.load),
            "services": sum(setup.cpu_seconds(pid) for pid in self.services),
            "busy": busy,
            "total": total,
        }

    def begin(self) -> None:
        """Start measuring."""
        self.lag_marks = [setup.fanout_lag_buckets(port) for port in self.ports]
        self.gc_marks = [setup.gc_pauses(port) for port in self.ports]
        self.started = time.monotonic()
        self.marks = self._read()

    def end(self) -> dict[str, float | None]:
        """Per cent of one core for each group (the machine: per cent of all its cores)."""
        wall = time.monotonic() - self.started
        now = self._read()
        used = {k: now[k] - self.marks[k] for k in now}
        lags = [setup.fanout_lag_buckets(port) for port in self.ports]
        hub_p50, hub_p99 = lag_quantiles(self.lag_marks, lags)
        gcs = [setup.gc_pauses(port) for port in self.ports]
        gc_used = {
            key: sum(new[key] - old[key] for old, new in zip(self.gc_marks, gcs, strict=True))
            for key in ("count", "seconds", "middle", "middle_seconds", "full", "full_seconds")
        }
        return {
            "gc_full": gc_used["full"] if self.ports else None,
            "gc_full_ms": 1000 * gc_used["full_seconds"],
            "gc_all": gc_used["count"],
            "gc_all_ms": 1000 * gc_used["seconds"],
            "gc_middle": gc_used["middle"],
            "gc_middle_ms": 1000 * gc_used["middle_seconds"],
            "hub_lag_p50_ms": hub_p50,
            "hub_lag_p99_ms": hub_p99,
            "wall_s": wall,
            "server_pct": 100 * used["server"] / wall,
            "load_pct": 100 * used["load"] / wall,
            "services_pct": 100 * used["services"] / wall,
            "machine_pct": 100 * used["busy"] / max(used["total"], 1e-9),
        }


def lag_quantiles(
    before: list[dict[float, float]], after: list[dict[float, float]]
) -> tuple[float | None, float | None]:
    """Bucket upper bounds (ms) of the p50 and p99 commit → hub lag between two scrapes."""
    merged: dict[float, float] = {}
    for old, new in zip(before, after, strict=True):
        for bound, count in new.items():
            merged[bound] = merged.get(bound, 0.0) + count - old.get(bound, 0.0)
    total = merged.get(math.inf, 0.0)
    if not total:
        return None, None

    def bound_of(q: float) -> float:
        return 1000 * next(b for b in sorted(merged) if merged[b] >= q * total)

    return bound_of(0.5), bound_of(0.99)


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0..100) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def latencies(
    points: list[dict[str, Any]], boards: list[dict[str, Any]]
) -> tuple[list[float], list[float]]:
    """Check-in (send → ack) and fan-out (send → last board) latencies in ms, one per check-in
    sent. One never acknowledged, or never seen by every board, counts as infinitely late: the
    percentiles are of every check-in sent, not only of those that made it in time. Fan-out
    counts the boards that had their snapshot before the check-in was sent (a board opened
    later shows it in its snapshot)."""
    checkin, fanout = [], []
    for point in points:
        sent_at = point["sent_at"]
        if sent_at is None:
            continue
        checkin.append(1000 * (point["acked_at"] - sent_at) if point["acked_at"] else math.inf)
        watching = [b for b in boards if (b.get("ready_at") or 0.0) < sent_at]
        if not watching:
            continue
        seen = [board["seen"].get(point["point_id"]) for board in watching]
        last = max(seen, default=None) if all(s is not None for s in seen) else None
        fanout.append(math.inf if last is None else 1000 * (last - sent_at))
    return checkin, fanout


def storm_summary(points: list[dict[str, Any]], started: float, back_at: float) -> dict[str, Any]:
    """The storm: every point socket dropped and reconnecting at once; until the last snapshot."""
    times = [1000 * p["storm_s"] for p in points if p["storm_s"] is not None]
    return {
        "storm_back_s": back_at - started,
        "storm_reconnected": len(times),
        "storm_failed": sum(p["storm_failure"] is not None for p in points),
        "storm_p50_ms": percentile(times, 50),
        "storm_p99_ms": percentile(times, 99),
    }


def summarize(
    label: str, invited: int, points: list[dict[str, Any]], boards: list[dict[str, Any]]
) -> dict[str, Any]:
    """Latencies in ms, counts of what went missing or came twice."""
    sent = {p["point_id"]: p["sent_at"] for p in points if p["sent_at"] is not None}
    # Boards that opened (in the rush, one may still be opening when the run ends).
    live = [b for b in boards if b["failure"] is None and b["connect_s"] is not None]
    checkin, fanout = latencies(points, live)
    kinds: dict[str, int] = {}
    for board in live:
        for kind, count in board["kinds"].items():
            kinds[kind] = kinds.get(kind, 0) + count
    connect = [1000 * p["connect_s"] for p in points if p["connect_s"] is not None]
    first_state = [1000 * b["connect_s"] for b in live if b["connect_s"] is not None]
    pages = [1000 * b["page_s"] for b in live if b.get("page_s") is not None]
    return {
        "label": label,
        "points": invited,
        "connected": len(connect),
        "boards": len(live),
        "connect_p50_ms": percentile(connect, 50),
        "connect_p99_ms": percentile(connect, 99),
        "sent": len(sent),
        "acked": sum(math.isfinite(ms) for ms in checkin),
        "retried": sum(p["retries"] > 0 for p in points),
        "checkin_p50_ms": percentile(checkin, 50),
        "checkin_p99_ms": percentile(checkin, 99),
        "checkin_max_ms": max((ms for ms in checkin if math.isfinite(ms)), default=None),
        "fanout_p50_ms": percentile(fanout, 50),
        "fanout_p99_ms": percentile(fanout, 99),
        "fanout_max_ms": max((ms for ms in fanout if math.isfinite(ms)), default=None),
        "lost": sum(
            len(sent.keys() - b["seen"].keys() - b.get("from_snapshot", set())) for b in live
        ),
        "board_state_p50_ms": percentile(first_state, 50),
        "board_state_p99_ms": percentile(first_state, 99),
        "board_page_p99_ms": percentile(pages, 99),
        "presence_too_soon": sum(b.get("presence_too_soon", 0) for b in live),
        "duplicated": sum(b["duplicates"] + b["repeated_checkins"] for b in live),
        "gaps": sum(b["gaps"] + b["out_of_order"] for b in live),
        "resnapshots": sum(b["snapshots"] for b in live),
        "deltas_per_board": {k: v / max(len(live), 1) for k, v in kinds.items()},
        "frames_per_board": statistics.mean(b["frames"] for b in live) if live else 0,
        "chars_per_board": statistics.mean(b.get("chars", 0) for b in live) if live else 0,
        "client_errors": [e for p in points for e in p["errors"]]
        + [e for b in live for e in b["errors"]]
        + [
            f"closed by the server ({c['close_code']})"
            for c in [*points, *live]
            if c["closed_early"]
        ],
        "closed_early": sum(p["closed_early"] for p in points)
        + sum(b["closed_early"] for b in live),
    }
