"""The floor of bench/rollcall.py: a bare `websockets` broadcast server speaking just enough of
confhub's live channel for the same load generator.

`/board` sockets get a snapshot (the check-ins so far) and then every check-in;
`/point?point_id=N` sockets get a snapshot, a `pong` per `heartbeat` and an `ack` per
`checkin`, which is numbered and broadcast to every board with
`websockets.asyncio.server.broadcast` — no database, no framework.
Run: `python bench/_rollcall_floor.py --port 8765`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed


class Floor:
    """The boards and the version counter."""

    def __init__(self) -> None:
        self.boards: set[ServerConnection] = set()
        self.version = 0
        self.checked_in: dict[int, dict[str, Any]] = {}

    async def handle(self, ws: ServerConnection) -> None:
        """Route a socket by its path."""
        assert ws.request is not None
        parts = urlsplit(ws.request.path)
        if parts.path == "/board":
            await self._board(ws)
            return
        point_id = int(parse_qs(parts.query).get("point_id", ["0"])[0])
        await self._point(ws, point_id)

    async def _board(self, ws: ServerConnection) -> None:
        points = list(self.checked_in.values())
        await ws.send(json.dumps({"type": "snapshot", "version": self.version, "points": points}))
        self.boards.add(ws)
        try:
            await ws.wait_closed()
        finally:
            self.boards.discard(ws)

    async def _point(self, ws: ServerConnection, point_id: int) -> None:
        snapshot = {"type": "snapshot", "version": self.version, "points": [{"point_id": point_id}]}
        await ws.send(json.dumps(snapshot))
        try:
            async for raw in ws:
                await self._message(ws, json.loads(raw))
        except ConnectionClosed:
            pass

    async def _message(self, ws: ServerConnection, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "heartbeat":
            pong = {"type": "pong", "sent_at": message.get("sent_at")}
            pong["server_time"] = int(time.time() * 1000)
            await ws.send(json.dumps(pong))
        elif kind == "checkin":
            self.version += 1
            delta = {
                "type": "checkin",
                "version": self.version,
                "point_id": message["point_id"],
                "status": message["status"],
                "delegates_present": message.get("delegates_present"),
            }
            self.checked_in[message["point_id"]] = delta
            broadcast(self.boards, json.dumps(delta))
            ack = {"type": "ack", "idempotency_key": message["idempotency_key"]}
            ack["version"] = self.version
            await ws.send(json.dumps(ack))


async def main(port: int) -> None:
    """Serve until killed."""
    floor = Floor()
    async with serve(floor.handle, "127.0.0.1", port, max_size=2**20, backlog=4096) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(parser.parse_args().port))
