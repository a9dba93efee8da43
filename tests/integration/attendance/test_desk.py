"""Incidents and announcements on the live channel (issue #19, items 2 and 3): a point's tap
reaches the boards and only its own phone, the technician's steps come back to it, a dropped
board catches up by resync, a link cannot act for another point, a point that reports too often
is told to wait; an announcement reaches the points addressed and the boards count receipts.

The meeting is the demo's upcoming conference (scheduled, 166 points), served by uvicorn with
the real `websockets` client, as in test_protocol.py.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from confhub.attendance.desk.incidents import MAX_OPEN_PER_POINT
from tests.integration.attendance.conftest import (
    Frame,
    Served,
    connect,
    point_tokens,
    quiet,
    recv_frame,
    recv_message,
)
from tests.integration.attendance.test_protocol import http, organizer

pytestmark = pytest.mark.integration


def incident(incident_id: str, kind: str = "no_audio", **fields: Any) -> str:
    """An incident as the phone sends it."""
    return json.dumps({"type": "incident", "incident_id": incident_id, "kind": kind} | fields)


def of(kind: str, **match: Any) -> Any:
    """A predicate for `recv_message`: a message of `kind` with these fields."""
    return lambda m: m.get("type") == kind and all(m.get(k) == v for k, v in match.items())


async def two_points(served: Served, cookie: str) -> tuple[tuple[int, str], tuple[int, str]]:
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    first, second = sorted(tokens)[:2]
    return (first, tokens[first]), (second, tokens[second])


async def test_an_incident_reaches_the_board_and_its_point_only_and_comes_back_resolved(
    served: Served,
) -> None:
    cookie = await organizer(served)
    (mine, token), (other, other_token) = await two_points(served, cookie)
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    phone = await connect(served.ws_url(served.meeting_id, token))
    neighbour = await connect(served.ws_url(served.meeting_id, other_token))
    for ws in (board, phone, neighbour):
        assert (await recv_frame(ws))["type"] == "snapshot"

    await phone.send(incident("inc-1", "no_video", note="Mất hình từ 14:05"))
    ack = await recv_message(phone, of("ack", id="inc-1"))
    assert ack["version"] > 0 and ack["duplicate"] is False
    seen = await recv_message(board, of("incident", incident_id="inc-1"))
    assert seen["point_id"] == mine and seen["kind"] == "no_video" and seen["state"] == "open"
    assert seen["note"] == "Mất hình từ 14:05" and seen["version"] == ack["version"]
    # The same tap sent again (a retry after a lost ack) is the same incident.
    await phone.send(incident("inc-1", "no_video"))
    again = await recv_message(phone, of("ack", id="inc-1"))
    assert again["version"] == ack["version"] and again["duplicate"] is True

    async with http(served, cookie) as client:
        url = f"/api/v1/meetings/{served.meeting_id}/incidents/inc-1"
        taken = await client.patch(url, json={"state": "acknowledged"})
        assert taken.status_code == 200, taken.text
        done = await client.patch(url, json={"state": "resolved", "note": "Đã đổi cáp HDMI"})
        assert done.json()["state"] == "resolved"
        back = await client.patch(url, json={"state": "acknowledged"})
        assert back.status_code == 409
        unknown = await client.patch(url, json={"state": "resolved", "colour": "red"})
        assert unknown.status_code == 400
    states = [
        (await recv_message(phone, of("incident", incident_id="inc-1")))["state"] for _ in range(2)
    ]
    assert states == ["acknowledged", "resolved"]
    # The neighbour saw none of it.
    assert not [m for m in await quiet(neighbour, 0.5) if m.get("type") == "incident"]
    # A phone that was away meanwhile learns of the resolution from its snapshot; the board's
    # snapshot keeps open incidents only.
    again_snapshot = (await _snapshot(served, token))["incidents"]
    assert [(i["incident_id"], i["state"]) for i in again_snapshot] == [("inc-1", "resolved")]
    assert again_snapshot[0]["resolution"] == "Đã đổi cáp HDMI"
    board_again = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    assert (await recv_frame(board_again))["incidents"] == []
    await board_again.close()

    async with http(served) as anonymous:
        refused = await anonymous.patch(url, json={"state": "resolved"})
    assert refused.status_code == 401
    async with http(served) as link:
        with_token = await link.patch(
            url, json={"state": "resolved"}, headers={"X-Checkin-Token": token}
        )
    assert with_token.status_code == 401  # a link never handles incidents
    del other
    for ws in (board, phone, neighbour):
        await ws.close()


async def test_a_link_cannot_report_for_another_point_and_a_point_is_limited(
    served: Served,
) -> None:
    cookie = await organizer(served)
    (mine, token), (other, _other_token) = await two_points(served, cookie)
    phone = await connect(served.ws_url(served.meeting_id, token))
    await recv_frame(phone)
    await phone.send(incident("not-mine", point_id=other))
    refused = await recv_message(phone, of("error"))
    assert refused["status_code"] == 403 and refused["id"] == "not-mine"
    await phone.send(incident("bad kind", kind="fire"))
    bad = await recv_message(phone, of("error"))
    assert bad["status_code"] == 400 and bad["detail"].startswith("incident_id")
    for n in range(MAX_OPEN_PER_POINT):
        await phone.send(incident(f"limit-{n}", point_id=mine))
        await recv_message(phone, of("ack", id=f"limit-{n}"))
    await phone.send(incident("one-too-many"))
    limited = await recv_message(phone, of("error", id="one-too-many"))
    assert limited["status_code"] == 429
    # Over HTTP the same: 429 with Retry-After.
    async with http(served) as client:
        response = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/incidents",
            json={"incident_id": "http-1", "kind": "other"},
            headers={"X-Checkin-Token": token},
        )
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    await phone.close()


async def test_a_board_that_dropped_gets_the_missed_incidents_by_resync(served: Served) -> None:
    cookie = await organizer(served)
    (mine, token), _ = await two_points(served, cookie)
    phone = await connect(served.ws_url(served.meeting_id, token))
    await recv_frame(phone)
    await phone.send(incident("before", "no_audio"))
    await recv_message(phone, of("ack", id="before"))
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    since = (await recv_frame(board))["version"]
    assert since > 0
    await board.close()  # the secretariat's Wi-Fi drops

    await phone.send(incident("while-away", "disconnected"))
    ack = await recv_message(phone, of("ack", id="while-away"))

    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    snapshot = await recv_frame(board)
    assert [i["incident_id"] for i in snapshot["incidents"]] == ["before", "while-away"]
    assert snapshot["incidents"][0]["point_name"]
    await board.send(json.dumps({"type": "resync", "since": since}))
    missed = await recv_message(board, of("incident", incident_id="while-away"))
    assert missed["version"] == ack["version"] and missed["point_id"] == mine

    # A point's own snapshot carries its open incidents, never another's.
    own = (await _snapshot(served, token))["incidents"]
    assert [i["incident_id"] for i in own] == ["before", "while-away"]
    for ws in (board, phone):
        await ws.close()


async def _snapshot(served: Served, token: str) -> Frame:
    ws = await connect(served.ws_url(served.meeting_id, token))
    try:
        return await recv_frame(ws)
    finally:
        await ws.close()


async def test_an_announcement_reaches_the_points_addressed_and_the_board_counts_receipts(
    served: Served,
) -> None:
    cookie = await organizer(served)
    (mine, token), (_other, other_token) = await two_points(served, cookie)
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    phone = await connect(served.ws_url(served.meeting_id, token))
    neighbour = await connect(served.ws_url(served.meeting_id, other_token))
    for ws in (board, phone, neighbour):
        await recv_frame(ws)

    async with http(served, cookie) as client:
        points = (
            await client.get(f"/api/v1/meetings/{served.meeting_id}/points", params={"limit": 500})
        ).json()["items"]
        unit_of = {p["point_id"]: p["unit_code"] for p in points}
        sent = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/announcements",
            json={"text": "5 phút nữa bắt đầu", "announcement_id": "a-all"},
        )
        assert sent.status_code == 201, sent.text
        assert sent.json()["addressed"] == 166
        again = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/announcements",
            json={"text": "5 phút nữa bắt đầu", "announcement_id": "a-all"},
        )
        assert again.status_code == 200
        some = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/announcements",
            json={"text": "Các điểm cầu tắt micrô", "unit_codes": [unit_of[mine]]},
        )
        assert some.status_code == 201 and some.json()["addressed"] >= 1
        nobody = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/announcements",
            json={"text": "x", "unit_codes": [70]},
        )
        assert nobody.status_code == 400 and "unit_codes" in nobody.text

    shown = await recv_message(phone, of("announcement", announcement_id="a-all"))
    assert shown["text"] == "5 phút nữa bắt đầu" and "to_points" not in shown
    targeted = await recv_message(phone, of("announcement", text="Các điểm cầu tắt micrô"))
    assert "to_points" not in targeted
    at_board = await recv_message(board, of("announcement", announcement_id="a-all"))
    assert at_board["addressed"] == 166 and at_board["seen"] == 0
    neighbour_got = [m for m in await quiet(neighbour, 0.7) if m.get("type") == "announcement"]
    assert [m["announcement_id"] for m in neighbour_got] == ["a-all"]

    await phone.send(json.dumps({"type": "announcement_seen", "announcement_id": "a-all"}))
    await recv_message(phone, of("ack", id="a-all"))
    counted = await recv_message(board, of("announcement", announcement_id="a-all", seen=1))
    assert counted["acknowledged"] == 0
    await phone.send(json.dumps({"type": "announcement_ack", "announcement_id": "a-all"}))
    acked = await recv_message(phone, of("ack", id="a-all"))
    counted = await recv_message(board, of("announcement", announcement_id="a-all", acknowledged=1))
    assert counted["version"] == acked["version"]
    # Counts go to the boards only: no phone hears another's acknowledgement.
    assert not [m for m in await quiet(neighbour, 0.5) if m.get("type") == "announcement"]
    await phone.send(json.dumps({"type": "announcement_ack", "announcement_id": "a-all"}))
    assert (await recv_message(phone, of("ack", id="a-all")))["version"] == acked["version"]

    # The phone's snapshot keeps what it has not acknowledged, the neighbour's what it has not.
    mine_now = await _snapshot(served, token)
    assert [a["text"] for a in mine_now["announcements"]] == ["Các điểm cầu tắt micrô"]
    theirs = await _snapshot(served, other_token)
    assert [a["announcement_id"] for a in theirs["announcements"]] == ["a-all"]
    # A point cannot acknowledge what was not addressed to it.
    some_id = some.json()["announcement_id"]
    await neighbour.send(json.dumps({"type": "announcement_ack", "announcement_id": some_id}))
    assert (await recv_message(neighbour, of("error", id=some_id)))["status_code"] == 403
    for ws in (board, phone, neighbour):
        await ws.close()


async def test_the_reports_count_incidents_per_point(served: Served) -> None:
    cookie = await organizer(served)
    (mine, token), _ = await two_points(served, cookie)
    async with http(served) as link:
        for n, kind in enumerate(("no_video", "no_audio")):
            made = await link.post(
                f"/api/v1/meetings/{served.meeting_id}/incidents",
                json={"incident_id": f"r-{n}", "kind": kind, "note": "=HYPERLINK(1)"},
                headers={"X-Checkin-Token": token},
            )
            assert made.status_code == 201, made.text
    async with http(served, cookie) as client:
        await client.patch(
            f"/api/v1/meetings/{served.meeting_id}/incidents/r-0", json={"state": "resolved"}
        )
        report = await client.get("/api/v1/reports/incidents.csv", params={"province": 38})
        assert report.status_code == 200, report.text
        rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
        assert rows[1][3:8] == ["2", "1", "1", "0", "0"]
        assert rows[1][-1] == "1"  # one still open
        page = await client.get("/reports/incidents", params={"province": 38})
        assert page.status_code == 200 and "Báo cáo sự cố" in page.text
        backwards = await client.get(
            "/api/v1/reports/incidents.csv",
            params={"province": 38, "from": "2025-02-01", "to": "2025-01-01"},
        )
        assert backwards.status_code == 400
        attendance = await client.get(f"/api/v1/meetings/{served.meeting_id}/attendance.csv")
        table = list(csv.reader(io.StringIO(attendance.content.decode("utf-8-sig"))))
        column = table[0].index("Sự cố")
        counted = [row[column] for row in table[1:167] if row[column] not in ("", "0")]
        assert counted == ["2"]
    del mine
