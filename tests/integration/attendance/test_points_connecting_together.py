"""Points connecting at the same moment (the start of a national meeting, every phone after a
network failure) share one read of their snapshots: each still gets its own point, its own
incidents and its own place in the speaking queue, nothing of its neighbours'."""

from __future__ import annotations

import asyncio
import json

from tests.integration.attendance.conftest import (
    Served,
    connect,
    point_tokens,
    recv_frame,
    recv_message,
)
from tests.integration.attendance.test_protocol import http_checkin, organizer


async def test_points_connecting_together_each_get_their_own_snapshot(served: Served) -> None:
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    chosen = sorted(tokens)[:40]
    answered = chosen[:5]
    for n, point_id in enumerate(answered):
        response = await http_checkin(
            served, tokens[point_id], point_id, f"together-{point_id}", delegates_present=n + 3
        )
        assert response.status_code in {200, 201}, response.text
    reporter = await connect(served.ws_url(served.meeting_id, tokens[chosen[7]]))
    await recv_frame(reporter)
    await reporter.send(json.dumps({"type": "incident", "incident_id": "t-1", "kind": "no_audio"}))
    await recv_message(reporter, lambda m: m.get("type") == "ack")
    await reporter.close()

    sockets = await asyncio.gather(
        *(connect(served.ws_url(served.meeting_id, tokens[p])) for p in chosen)
    )
    snapshots = await asyncio.gather(*(recv_frame(ws) for ws in sockets))
    for ws in sockets:
        await ws.close()

    for point_id, snapshot in zip(chosen, snapshots, strict=True):
        assert snapshot["type"] == "snapshot"
        assert [p["point_id"] for p in snapshot["points"]] == [point_id]
        own = snapshot["points"][0]
        if point_id in answered:
            assert own["status"] == "present"
            assert own["delegates_present"] == answered.index(point_id) + 3
        else:
            assert own["status"] == "pending"
        assert snapshot["totals"]["present"] == 5
        assert snapshot["totals"]["invited"] == 166
        assert snapshot["speaking"]["queue"] == []
        expected = ["t-1"] if point_id == chosen[7] else []
        assert [i["incident_id"] for i in snapshot["incidents"]] == expected
