"""Points connecting at the same moment (the start of a national meeting, every phone after a
network failure) share one read of their snapshots: each still gets its own point, its own
incidents and its own place in the speaking queue, nothing of its neighbours'; and what the
shared read (with the meeting-wide parts read once per version) encodes is byte for byte the
snapshot each point's own read gives of the same state."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from litestar.serialization import encode_json

from confhub.attendance import views
from confhub.attendance.desk.state import desk_state
from confhub.attendance.presence import HEARTBEAT_EVERY
from confhub.attendance.snapshots import SnapshotReads
from confhub.db.engine import sqlalchemy_config
from confhub.meetings.models import Meeting
from tests.conftest import make_settings
from tests.integration.attendance.conftest import (
    Served,
    connect,
    point_tokens,
    recv_frame,
    recv_message,
)
from tests.integration.attendance.test_protocol import http, http_checkin, organizer
from tests.integration.attendance.test_speaking import patch


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


async def _alone(db_config: Any, meeting_id: int, point_id: int) -> str:
    """A point's snapshot as one socket's own read gives it (`views.snapshot`, its desk)."""
    async with db_config.get_session() as session:
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        own = frozenset({point_id})
        message = await views.snapshot(session, meeting, own, False)
        message.update(await desk_state(session, meeting_id, own))
    message["heartbeat_every_ms"] = int(HEARTBEAT_EVERY * 1000)
    return encode_json(message).decode("utf-8")


async def _speak(served: Served, token: str, request_id: str) -> None:
    async with http(served) as client:
        response = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/speaking",
            json={"request_id": request_id, "topic": "Giải ngân vốn", "minutes": 4},
            headers={"X-Checkin-Token": token},
        )
    assert response.status_code == 201, response.text


async def test_a_shared_read_encodes_what_each_points_own_read_would(
    served: Served, tmp_path: Path
) -> None:
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    chosen = sorted(tokens)[:6]
    response = await http_checkin(served, tokens[chosen[0]], chosen[0], "own-1")
    assert response.status_code == 201, response.text
    await _speak(served, tokens[chosen[1]], "first")
    await _speak(served, tokens[chosen[2]], "second")
    db_config = sqlalchemy_config(make_settings(served.database_url, tmp_path))
    reads = SnapshotReads(db_config)
    try:
        views = [frozenset({p}) for p in chosen]
        for step in range(2):
            shared = await asyncio.gather(
                *(reads.read(served.meeting_id, view, False) for view in views)
            )
            for point_id, (_, text) in zip(chosen, shared, strict=True):
                assert text == await _alone(db_config, served.meeting_id, point_id)
            if step == 0:  # the queue changes: the next read is of a new version
                accepted = await patch(served, cookie, "second", state="accepted", position=1)
                assert accepted.status_code == 200, accepted.text
        assert json.loads(shared[2][1])["speaking"]["position"] == 1
    finally:
        await db_config.get_engine().dispose()
