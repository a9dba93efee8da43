"""What opening one live board costs a quiet server: its page, then its socket's snapshot.

One `confhub serve` on PostgreSQL + Redis, a meeting inviting `--points` points (every unit of
the country by default), nobody else connected. Boards open one after another (the page, then
the socket to its snapshot, as bench/rollcall.py's boards do) and close. Printed: the page's
time and size, the time to the snapshot (the board's first full state) and its size, as p50 and
the slowest, and the server's CPU time per opening, which varies less than times on a shared
machine. The rush (bench/rollcall.py) shows the same openings among 3,321 connecting points.

    .venv/bin/python bench/board_open.py [--points 3321] [--boards 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import _rollcall_setup as setup
import httpx
from websockets.asyncio.client import connect


async def open_boards(
    port: int, meeting_id: int, cookie: str, count: int
) -> list[dict[str, float]]:
    """Open `count` boards one after another: page, socket, snapshot; then close each."""
    headers = {"Cookie": cookie}
    page_url = f"http://127.0.0.1:{port}/m/{meeting_id}/live"
    socket_url = f"ws://127.0.0.1:{port}/ws/meetings/{meeting_id}"
    openings = []
    async with httpx.AsyncClient(headers=headers, timeout=120, trust_env=False) as client:
        for _ in range(count):
            started = time.monotonic()
            response = await client.get(page_url)
            response.raise_for_status()
            paged = time.monotonic()
            async with connect(
                socket_url, additional_headers=headers, max_size=None, proxy=None
            ) as ws:
                snapshot = await ws.recv()
            done = time.monotonic()
            openings.append(
                {
                    "page_ms": (paged - started) * 1000,
                    "page_kb": len(response.content) / 1024,
                    "state_ms": (done - started) * 1000,
                    "snapshot_kb": len(snapshot) / 1024,
                }
            )
    return openings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=3321)
    parser.add_argument("--boards", type=int, default=20)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with (
        tempfile.TemporaryDirectory(prefix="board-open-") as name,
        setup.postgres_database() as url,
    ):
        folder = Path(name)
        env = setup.base_env(folder, url, setup.REDIS_URL)
        setup.prepare_database(env)
        seed = asyncio.run(setup.seed_meeting(url, args.points))
        port = setup.free_port()
        process = setup.start_confhub(env, port, folder / "server.log")
        try:
            setup.wait_ready(port, process, http=True)
            cookie = setup.login_cookie(port, seed.admin_email, seed.admin_password)
            asyncio.run(open_boards(port, seed.meeting_id, cookie, 2))  # warm up
            cpu = setup.cpu_seconds(process.pid)
            openings = asyncio.run(open_boards(port, seed.meeting_id, cookie, args.boards))
            cpu = setup.cpu_seconds(process.pid) - cpu
        finally:
            setup.stop(process)
    print(f"load average after: {os.getloadavg()[0]:.1f}")

    def column(name: str) -> str:
        values = [o[name] for o in openings]
        return f"{statistics.median(values):,.0f} / {max(values):,.0f}"

    print(f"{args.boards} boards of {args.points:,} points, one after another:")
    print(f"  page p50 / slowest: {column('page_ms')} ms, {openings[-1]['page_kb']:,.0f} KiB")
    print(f"  first full state (page → snapshot) p50 / slowest: {column('state_ms')} ms")
    print(f"  snapshot: {openings[-1]['snapshot_kb']:,.0f} KiB")
    print(f"  server CPU per opening: {cpu / args.boards * 1000:,.0f} ms")


if __name__ == "__main__":
    main()
