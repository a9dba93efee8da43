"""The live channel of the contract (`/ws/meetings/{id}`), spoken by the real `websockets`
client to the app served by uvicorn, with HTTP check-ins, history and reports alongside.

The meeting is the demo's upcoming conference (scheduled, 166 Thanh Hóa points, Cẩm Tú's
check-in link in the seed). Each test has its own copy of the database and its own server.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from openpyxl import load_workbook
from sqlalchemy import select

from confhub.accounts.services import UserService
from confhub.attendance import events
from confhub.attendance.models import EventType, PointAttendance
from confhub.attendance.report import COLUMNS
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed
from confhub.settings import DEFAULT_WS_MAX_MESSAGE_BYTES, DEFAULT_WS_MESSAGE_BURST
from tests.integration.attendance.conftest import (
    SESSION_COOKIE,
    Frame,
    Served,
    close_code,
    connect,
    login_cookie,
    point_tokens,
    quiet,
    recv_frame,
    recv_message,
    recv_messages_until,
    serve_demo,
    token_of,
)

pytestmark = pytest.mark.integration

POINT_FIELDS = {
    "point_id",
    "unit_code",
    "name",
    "chair",
    "status",
    "delegates_present",
    "presence",
    "rtt_ms",
    "signal",
}
CAM_TU = 15148
HOAN_KIEM = 70  # a ward of Hà Nội, not invited to Thanh Hóa's meetings
PASSWORD = "a-long-password-1"
POLICY_VIOLATION = 1008


async def organizer(served: Served) -> str:
    """The secretariat's session cookie."""
    return await login_cookie(
        served.url, served.seed.organizer_email, served.seed.organizer_password
    )


def http(served: Served, cookie: str | None = None) -> httpx.AsyncClient:
    """An HTTP client for the served app, signed in when a cookie is given."""
    cookies = {SESSION_COOKIE: cookie} if cookie else None
    return httpx.AsyncClient(base_url=served.url, cookies=cookies, timeout=10)


async def cam_tu_point_id(served: Served) -> int:
    """The point id behind the seed's Cẩm Tú check-in link."""
    ws = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    try:
        snapshot = await recv_frame(ws)
    finally:
        await ws.close()
    return int(snapshot["points"][0]["point_id"])


async def http_checkin(
    served: Served, token: str, point_id: int, key: str, **fields: Any
) -> httpx.Response:
    """A check-in over HTTP through a check-in link's token."""
    body = {"point_id": point_id, "idempotency_key": key, "status": "present"} | fields
    if body["status"] == "present":
        body.setdefault("delegates_present", 10)
    async with http(served) as client:
        return await client.post(
            f"/api/v1/meetings/{served.meeting_id}/checkins",
            json=body,
            headers={"X-Checkin-Token": token},
        )


async def history(served: Served, cookie: str, point_id: int | None = None) -> list[dict[str, Any]]:
    """Every check-in record of the meeting (or one point), oldest first."""
    params: dict[str, Any] = {"limit": 500}
    if point_id is not None:
        params["point_id"] = point_id
    async with http(served, cookie) as client:
        response = await client.get(f"/api/v1/meetings/{served.meeting_id}/checkins", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def checkin_frame(point_id: int, key: str, **fields: Any) -> str:
    """A check-in as a point's client sends it."""
    message = {"type": "checkin", "point_id": point_id, "idempotency_key": key} | fields
    message.setdefault("status", "present")
    if message["status"] == "present":
        message.setdefault("delegates_present", 7)
    return json.dumps(message)


def is_type(kind: str) -> Any:
    """A predicate for `recv_message`."""
    return lambda message: message.get("type") == kind


def versions_of(messages: list[Frame]) -> list[int]:
    """The versions of the deltas among `messages` (acks, pongs and errors have none)."""
    return [
        int(m["version"])
        for m in messages
        if m.get("type") in {"checkin", "presence", "signal", "meeting"}
    ]


# -- snapshot ----------------------------------------------------------------------------------


async def test_snapshot_on_connect_for_board_link_and_chair(served: Served) -> None:
    cookie = await organizer(served)
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    snapshot = await recv_frame(board)
    await board.close()
    assert snapshot["type"] == "snapshot"
    assert snapshot["version"] == 0
    assert snapshot["meeting"]["id"] == served.meeting_id
    assert snapshot["meeting"]["status"] == "scheduled"
    assert snapshot["totals"]["invited"] == 166
    assert snapshot["totals"]["pending"] == 166
    assert len(snapshot["points"]) == 166
    assert len({p["point_id"] for p in snapshot["points"]}) == 166
    for point in snapshot["points"]:
        assert point.keys() >= POINT_FIELDS
        assert point["status"] == "pending"
        assert point["presence"] == "offline"
    assert snapshot["heartbeat_every_ms"] > 0

    link = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    own = await recv_frame(link)
    await link.close()
    assert own["type"] == "snapshot"
    assert own["totals"]["invited"] == 166
    assert len(own["points"]) == 1
    assert own["points"][0]["unit_code"] == CAM_TU
    assert own["points"][0]["chair"] == "Phạm Thị Nhàn"
    assert "chair_phone" not in own["points"][0]

    chair = await login_cookie(served.url, served.seed.chair_email, served.seed.chair_password)
    signed_in = await connect(served.ws_url(served.meeting_id), cookie=chair)
    mine = await recv_frame(signed_in)
    await signed_in.close()
    assert [p["unit_code"] for p in mine["points"]] == [CAM_TU]


# -- order -------------------------------------------------------------------------------------


async def test_board_receives_contiguous_versions_from_many_points(served: Served) -> None:
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    chosen = sorted(tokens)[:6]
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    start = (await recv_frame(board))["version"]
    points = [await connect(served.ws_url(served.meeting_id, tokens[p])) for p in chosen]
    for ws in points:
        assert (await recv_frame(ws))["type"] == "snapshot"

    async def answer(ws: Any, point_id: int) -> list[Frame]:
        for n in range(4):
            await ws.send(checkin_frame(point_id, f"order-{point_id}-{n}", delegates_present=n + 1))
        return await recv_messages_until(
            ws, lambda got: sum(m.get("type") == "ack" for m in got) == 4
        )

    replies = await asyncio.gather(*(answer(ws, p) for ws, p in zip(points, chosen, strict=True)))
    acked = sorted(int(m["version"]) for got in replies for m in got if m["type"] == "ack")
    assert len(set(acked)) == 24
    assert all(m.get("duplicate") is False for got in replies for m in got if m["type"] == "ack")

    seen = await recv_messages_until(
        board, lambda got: bool(got) and max(versions_of(got), default=0) >= acked[-1]
    )
    versions = versions_of(seen)
    # Presence deltas of the six clients may be interleaved; the sequence still has no hole.
    assert versions == list(range(start + 1, versions[-1] + 1)), versions
    checkins = {int(m["version"]): m for m in seen if m["type"] == "checkin"}
    assert set(acked) <= set(checkins)
    last = {m["point_id"]: m for m in sorted(checkins.values(), key=lambda m: m["version"])}
    assert {p: last[p]["delegates_present"] for p in chosen} == dict.fromkeys(chosen, 4)
    for ws in [board, *points]:
        await ws.close()


async def test_a_burst_of_checkins_is_stored_once_each_and_refusals_stay_apart(
    served: Served,
) -> None:
    """Answers arriving together are stored together (one transaction for the burst): each
    still gets its own answer, a key sent twice at once is stored once, and a refused answer
    in the middle of the burst does not take the others down with it."""
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    chosen = sorted(tokens)[:40]
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    start = (await recv_frame(board))["version"]
    twice, refused, other = chosen[0], chosen[1], chosen[2]

    sends = [
        http_checkin(served, tokens[p], p, f"burst-{p}", delegates_present=1 + p % 50)
        for p in chosen
        if p != refused
    ]
    sends += [
        http_checkin(
            served, tokens[twice], twice, f"burst-{twice}", delegates_present=1 + twice % 50
        ),
        http_checkin(served, tokens[refused], refused, f"burst-{refused}", status="absent"),
        # Another point's link may not answer for this one, even in the same burst.
        http_checkin(served, tokens[other], refused, "burst-stolen", delegates_present=1),
    ]
    replies = await asyncio.gather(*sends)
    codes = sorted(r.status_code for r in replies)
    assert codes.count(201) == 39 and codes.count(200) == 1, codes
    assert [c for c in codes if c >= 400] == [400, 403], codes
    stored = [r.json() for r in replies if r.status_code in (200, 201)]
    by_key: dict[str, set[tuple[int, int]]] = {}
    for body in stored:
        by_key.setdefault(body["idempotency_key"], set()).add((body["id"], body["version"]))
    assert len(by_key) == 39 and all(len(ids) == 1 for ids in by_key.values())
    versions = sorted(version for ((_id, version),) in by_key.values())
    assert len(set(versions)) == 39

    seen = await recv_messages_until(
        board, lambda got: max(versions_of(got), default=0) >= versions[-1]
    )
    assert versions_of(seen) == list(range(start + 1, versions_of(seen)[-1] + 1))
    checkins = {m["point_id"]: m for m in seen if m["type"] == "checkin"}
    assert set(checkins) == set(chosen) - {refused}
    assert all(checkins[p]["delegates_present"] == 1 + p % 50 for p in checkins)
    records = await history(served, cookie)
    assert sorted(
        r["idempotency_key"] for r in records if r["idempotency_key"].startswith("b")
    ) == (sorted(by_key))
    await board.close()


async def test_joining_mid_stream_gets_snapshot_first_then_contiguous_deltas(
    served: Served,
) -> None:
    """Boards that connect while check-ins pour in never see a delta before their snapshot, nor
    a hole after it."""
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    writers = sorted(tokens)[:4]
    stop = asyncio.Event()

    async def write(point_id: int) -> int:
        n = 0
        async with http(served) as client:
            while not stop.is_set():
                response = await client.post(
                    f"/api/v1/meetings/{served.meeting_id}/checkins",
                    json={
                        "point_id": point_id,
                        "status": "present",
                        "delegates_present": 1 + n % 500,
                        "idempotency_key": f"stream-{point_id}-{n}",
                    },
                    headers={"X-Checkin-Token": tokens[point_id]},
                )
                assert response.status_code == 201, response.text
                n += 1
        return n

    writing = [asyncio.create_task(write(p)) for p in writers]
    try:
        for _ in range(8):
            board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
            first = await recv_frame(board)
            assert first["type"] == "snapshot", first
            after = await recv_messages_until(
                board, lambda got: len(versions_of(got)) >= 5, within=10
            )
            versions = versions_of(after)
            assert versions == list(range(first["version"] + 1, versions[-1] + 1)), (
                first["version"],
                versions,
            )
            await board.close()
    finally:
        stop.set()
        written = await asyncio.gather(*writing)
    assert sum(written) > 20


# -- resync ------------------------------------------------------------------------------------


async def test_resync_after_a_gap_returns_exactly_the_missed_deltas(served: Served) -> None:
    cookie = await organizer(served)
    point_id = await cam_tu_point_id(served)
    token = served.seed.cam_tu_token
    assert (await http_checkin(served, token, point_id, "before")).status_code == 201
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    seen = (await recv_frame(board))["version"]
    assert seen > 0  # `since: 0` asks for a snapshot, not deltas
    await board.close()

    answers = []
    for n in range(5):
        response = await http_checkin(served, token, point_id, f"gap-{n}", delegates_present=n + 1)
        assert response.status_code == 201, response.text
        answers.append(response.json())

    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    snapshot = await recv_frame(board)
    assert snapshot["version"] == answers[-1]["version"]
    await board.send(json.dumps({"type": "resync", "since": seen}))
    missed = await recv_messages_until(board, lambda got: len(got) >= 5)
    assert [m["version"] for m in missed] == [a["version"] for a in answers]
    assert [m["version"] for m in missed] == list(range(seen + 1, seen + 6))
    assert [m["type"] for m in missed] == ["checkin"] * 5
    assert [m["delegates_present"] for m in missed] == [1, 2, 3, 4, 5]
    assert await quiet(board, 0.5) == []

    await board.send(json.dumps({"type": "resync", "since": 0}))
    fresh = await recv_frame(board)
    assert fresh["type"] == "snapshot"
    assert fresh["version"] == snapshot["version"]
    assert fresh["totals"]["present"] == 1

    # A version the server has not reached (e.g. the database was rebuilt): a fresh snapshot,
    # not silence until the counter catches up.
    await board.send(json.dumps({"type": "resync", "since": snapshot["version"] + 1000}))
    fresh = await recv_frame(board)
    assert fresh["type"] == "snapshot"
    await board.close()

    # A client further behind than the event log answers gives a snapshot.
    engine = create_engine(served.database_url)
    try:
        async with session_maker(engine)() as session, session.begin():
            await events.append_many(
                session,
                served.meeting_id,
                [
                    events.Delta(EventType.MEETING, {"meeting": {"note": n}})
                    for n in range(events.MAX_RESYNC_EVENTS + 1)
                ],
                broadcast=False,
            )
    finally:
        await engine.dispose()
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    latest = await recv_frame(board)
    assert latest["version"] == snapshot["version"] + events.MAX_RESYNC_EVENTS + 1
    await board.send(json.dumps({"type": "resync", "since": snapshot["version"]}))
    far = await recv_frame(board)
    assert far["type"] == "snapshot"
    assert far["version"] == latest["version"]
    await board.close()


# -- idempotency and history -------------------------------------------------------------------


async def test_a_repeated_key_stores_one_record_over_websocket_and_http(served: Served) -> None:
    cookie = await organizer(served)
    point_id = await cam_tu_point_id(served)
    token = served.seed.cam_tu_token
    link = await connect(served.ws_url(served.meeting_id, token))
    await recv_frame(link)

    await link.send(checkin_frame(point_id, "same-key", delegates_present=12))
    first = await recv_message(link, is_type("ack"))
    assert first["duplicate"] is False
    assert first["idempotency_key"] == "same-key"
    await link.send(checkin_frame(point_id, "same-key", delegates_present=99))
    again = await recv_message(link, is_type("ack"))
    assert again["duplicate"] is True
    assert again["version"] == first["version"]

    over_http = await http_checkin(served, token, point_id, "same-key", delegates_present=55)
    assert over_http.status_code == 200, over_http.text
    assert over_http.json()["version"] == first["version"]
    assert over_http.json()["delegates_present"] == 12

    created = await http_checkin(served, token, point_id, "http-key", delegates_present=13)
    assert created.status_code == 201
    repeated = await http_checkin(served, token, point_id, "http-key", delegates_present=14)
    assert repeated.status_code == 200
    assert repeated.json()["id"] == created.json()["id"]
    await link.send(checkin_frame(point_id, "http-key", delegates_present=15))
    cross = await recv_message(link, is_type("ack"))
    assert cross["duplicate"] is True
    assert cross["version"] == created.json()["version"]
    await link.close()

    records = await history(served, cookie, point_id)
    assert [(r["idempotency_key"], r["delegates_present"]) for r in records] == [
        ("same-key", 12),
        ("http-key", 13),
    ]
    assert len(await history(served, cookie)) == 2


async def test_a_correction_adds_a_record_and_the_state_follows_it(served: Served) -> None:
    cookie = await organizer(served)
    point_id = await cam_tu_point_id(served)
    token = served.seed.cam_tu_token
    present = await http_checkin(served, token, point_id, "first", delegates_present=20)
    absent = await http_checkin(
        served, token, point_id, "second", status="absent", reason="Mất điện do bão"
    )
    assert (present.status_code, absent.status_code) == (201, 201)
    assert absent.json()["version"] > present.json()["version"]

    records = await history(served, cookie, point_id)
    assert [(r["status"], r["delegates_present"], r["reason"]) for r in records] == [
        ("present", 20, None),
        ("absent", None, "Mất điện do bão"),
    ]
    async with http(served, cookie) as client:
        state = (await client.get(f"/api/v1/meetings/{served.meeting_id}/attendance")).json()
    assert state["version"] == absent.json()["version"]
    (point,) = [p for p in state["points"] if p["point_id"] == point_id]
    assert (point["status"], point["reason"]) == ("absent", "Mất điện do bão")
    assert state["totals"]["absent"] == 1
    assert state["totals"]["present"] == 0


# -- who may -----------------------------------------------------------------------------------


async def test_a_link_cannot_answer_for_another_point(served: Served) -> None:
    cookie = await organizer(served)
    own = await cam_tu_point_id(served)
    other = next(
        p for p in sorted(await point_tokens(served.url, cookie, served.meeting_id)) if p != own
    )
    link = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    await recv_frame(link)
    await link.send(checkin_frame(other, "not-mine"))
    refused = await recv_message(link, lambda m: m["type"] in ("error", "ack"))
    assert refused["type"] == "error"
    assert refused["idempotency_key"] == "not-mine"
    assert "own connection point" in refused["detail"]
    assert refused["status_code"] == 403  # what the API answers; the page's script tells by it
    # The socket is still usable.
    await link.send(json.dumps({"type": "heartbeat", "sent_at": 1}))
    assert (await recv_message(link, is_type("pong")))["sent_at"] == 1
    await link.close()

    over_http = await http_checkin(served, served.seed.cam_tu_token, other, "not-mine-http")
    assert over_http.status_code == 403
    assert await history(served, cookie) == []


async def test_a_chair_of_an_uninvited_unit_is_closed_with_1008(served: Served) -> None:
    engine = create_engine(served.database_url)
    try:
        async with session_maker(engine)() as session, session.begin():
            await UserService(session=session).create_user(
                email="chutich@hoankiem.example",
                password=PASSWORD,
                role="chair",
                unit_code=HOAN_KIEM,
            )
    finally:
        await engine.dispose()
    outsider = await login_cookie(served.url, "chutich@hoankiem.example", PASSWORD)
    ws = await connect(served.ws_url(served.meeting_id), cookie=outsider)
    assert await close_code(ws) == POLICY_VIOLATION


async def test_anonymous_unknown_and_revoked_tokens_are_closed_with_1008(served: Served) -> None:
    anonymous = await connect(served.ws_url(served.meeting_id))
    assert await close_code(anonymous) == POLICY_VIOLATION
    unknown = await connect(served.ws_url(served.meeting_id, "not-a-token"))
    assert await close_code(unknown) == POLICY_VIOLATION
    wrong_meeting = await connect(
        served.ws_url(served.seed.past_meeting_id, served.seed.cam_tu_token)
    )
    assert await close_code(wrong_meeting) == POLICY_VIOLATION
    missing = await connect(served.ws_url(999_999, served.seed.cam_tu_token))
    assert await close_code(missing) == POLICY_VIOLATION

    cookie = await organizer(served)
    point_id = await cam_tu_point_id(served)
    async with http(served, cookie) as client:
        revoked = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/points/{point_id}/checkin-link/revoke"
        )
        assert revoked.status_code == 200, revoked.text
        assert revoked.json().get("checkin_url") is None
    stale = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    assert await close_code(stale) == POLICY_VIOLATION
    over_http = await http_checkin(served, served.seed.cam_tu_token, point_id, "after-revoke")
    assert over_http.status_code == 404


async def test_a_foreign_origin_is_refused_and_the_site_itself_accepted(served: Served) -> None:
    cookie = await organizer(served)
    evil = await connect(
        served.ws_url(served.meeting_id), cookie=cookie, origin="http://evil.example"
    )
    assert await close_code(evil) == POLICY_VIOLATION
    same_site = await connect(served.ws_url(served.meeting_id), cookie=cookie, origin=served.url)
    assert (await recv_frame(same_site))["type"] == "snapshot"
    await same_site.close()
    kiosk = await connect(
        served.ws_url(served.meeting_id, served.seed.cam_tu_token), origin="http://evil.example"
    )
    assert await close_code(kiosk) == POLICY_VIOLATION


# -- bad input ---------------------------------------------------------------------------------


GARBAGE: list[str | bytes] = [
    "not json at all",
    "[1, 2, 3]",
    '"just a string"',
    "null",
    '{"no": "type"}',
    '{"type": 5}',
    '{"type": "dance"}',
    '{"type": "checkin", "point_id": "POINT", "status": "present", "delegates_present": 1, '
    '"idempotency_key": "g1"}',
    '{"type": "checkin", "point_id": null, "status": "present", "idempotency_key": "g2"}',
    '{"type": "checkin", "status": "present", "idempotency_key": "g3"}',
    '{"type": "checkin", "point_id": 1e999, "status": "present", "delegates_present": 1, '
    '"idempotency_key": "g4"}',
    '{"type": "checkin", "point_id": 100000000000000000000000000000, "status": "present", '
    '"delegates_present": 1, "idempotency_key": "g5"}',
    '{"type": "resync", "since": "abc"}',
    '{"type": "resync", "since": 1e999}',
    '{"type": "resync", "since": [1]}',
    '{"type": "signal", "signal": "excellent"}',
    b"\x00\xff\xfe binary garbage",
    "x" * (DEFAULT_WS_MAX_MESSAGE_BYTES + 1),
    json.dumps({"type": "heartbeat", "sent_at": 1, "padding": "y" * DEFAULT_WS_MAX_MESSAGE_BYTES}),
]


def checkins_with_bad_fields(point_id: int) -> list[str]:
    """Well-formed check-ins of the right point with wrong field types or values."""
    return [
        checkin_frame(point_id, "b1", delegates_present="abc"),
        checkin_frame(point_id, "b2", delegates_present=1e999),
        checkin_frame(point_id, "b3", delegates_present=True),
        checkin_frame(point_id, "b4", delegates_present=-3),
        checkin_frame(point_id, "b5", status="maybe"),
        checkin_frame(point_id, "b6", status="absent"),  # no reason
        checkin_frame(point_id, ""),
        checkin_frame(point_id, "k" * 101),
        json.dumps({"type": "checkin", "point_id": point_id, "status": "present"}),
    ]


@pytest.fixture
def roomy(demo_db: str, demo_seed: DemoSeed, tmp_path: Path) -> Iterator[Served]:
    """The served app with a message burst that every frame of a test fits in: for tests about
    what frames say, not how fast they come."""
    with serve_demo(demo_db, demo_seed, tmp_path, ws_message_burst=100) as demo:
        yield demo


async def test_garbage_frames_get_an_error_and_the_socket_keeps_working(roomy: Served) -> None:
    served = roomy
    cookie = await organizer(served)
    point_id = await cam_tu_point_id(served)
    link = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    await recv_frame(link)
    frames: list[str | bytes] = [*GARBAGE, *checkins_with_bad_fields(point_id)]
    for frame in frames:
        await link.send(frame)
        reply = await recv_message(link, lambda m: m["type"] in ("error", "ack", "pong"))
        assert reply["type"] == "error", (frame[:80], reply)
        assert isinstance(reply["detail"], str) and reply["detail"], reply
    await link.send(json.dumps({"type": "heartbeat", "sent_at": 42}))
    assert (await recv_message(link, is_type("pong")))["sent_at"] == 42
    await link.send(checkin_frame(point_id, "good", delegates_present=8))
    ack = await recv_message(link, is_type("ack"))
    assert ack["duplicate"] is False
    await link.close()
    assert [r["idempotency_key"] for r in await history(served, cookie)] == ["good"]


async def test_a_flood_is_throttled_then_closed_and_others_are_not_slowed(
    served: Served,
) -> None:
    cookie = await organizer(served)
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    await recv_frame(board)
    link = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    await recv_frame(link)

    # A burst: some answers, some "slow down", and the socket stays open.
    for n in range(60):
        await link.send(json.dumps({"type": "heartbeat", "sent_at": n}))
    replies = await recv_messages_until(link, lambda got: len(got) >= 60)
    assert {m["type"] for m in replies} <= {"pong", "error", "presence"}
    slowed = [m for m in replies if m["type"] == "error"]
    assert slowed and all("slow down" in m["detail"] for m in slowed)
    assert sum(m["type"] == "pong" for m in replies) >= DEFAULT_WS_MESSAGE_BURST
    await asyncio.sleep(1.5)
    await link.send(json.dumps({"type": "heartbeat", "sent_at": 1000}))
    assert (await recv_message(link, lambda m: m.get("sent_at") == 1000))["type"] == "pong"

    # Sustained abuse: closed with 1008, while another client is answered promptly.
    async def flood() -> None:
        try:
            for n in range(300):
                await link.send(json.dumps({"type": "heartbeat", "sent_at": n}))
        except websockets.ConnectionClosed:
            pass

    flooding = asyncio.create_task(flood())
    started = time.monotonic()
    await board.send(json.dumps({"type": "heartbeat", "sent_at": 7}))
    assert (await recv_message(board, is_type("pong"), within=2))["sent_at"] == 7
    assert time.monotonic() - started < 1.0
    await flooding
    assert await close_code(link, within=10) == POLICY_VIOLATION

    # The server still serves newcomers.
    again = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    assert (await recv_frame(again))["type"] == "snapshot"
    await again.close()
    await board.close()


# -- heartbeat and presence --------------------------------------------------------------------


async def test_heartbeat_is_answered_with_pong_echoing_sent_at(served: Served) -> None:
    link = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    await recv_frame(link)
    sent_at = int(time.time() * 1000)
    await link.send(json.dumps({"type": "heartbeat", "sent_at": sent_at}))
    pong = await recv_message(link, is_type("pong"))
    assert pong["sent_at"] == sent_at
    assert abs(pong["server_time"] - time.time() * 1000) < 5000
    await link.close()


# Presence rounds for the tests that wait for them, instead of production's every 2 s.
ROUND_EVERY = 0.5


@pytest.fixture
def quick_rounds(demo_db: str, demo_seed: DemoSeed, tmp_path: Path) -> Iterator[Served]:
    """The served app, storing and broadcasting presence every `ROUND_EVERY` seconds."""
    with serve_demo(demo_db, demo_seed, tmp_path, presence_every_seconds=ROUND_EVERY) as demo:
        yield demo


async def test_presence_goes_online_and_offline_on_the_board(quick_rounds: Served) -> None:
    served = quick_rounds
    cookie = await organizer(served)
    point_id = await cam_tu_point_id(served)
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    await recv_frame(board)

    def presence_of(state: str) -> Any:
        return lambda m: (
            m["type"] == "presence" and m["point_id"] == point_id and m["presence"] == state
        )

    link = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    await recv_frame(link)
    await link.send(json.dumps({"type": "heartbeat", "sent_at": 1, "rtt_ms": 40}))
    online = await recv_message(board, presence_of("online"), within=6)
    assert online["version"] > 0
    other_board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    shown = await recv_frame(other_board)
    (point,) = [p for p in shown["points"] if p["point_id"] == point_id]
    assert point["presence"] == "online"
    assert shown["totals"]["online"] == 1
    await other_board.close()

    await link.close()
    offline = await recv_message(board, presence_of("offline"), within=6)
    assert offline["version"] > online["version"]
    await board.close()


async def store_presence(served: Served, point_id: int, seen_at: datetime) -> None:
    """Store a point as online, last seen at `seen_at`, as a serving process does."""
    engine = create_engine(served.database_url)
    try:
        async with session_maker(engine)() as session, session.begin():
            row = await session.scalar(
                select(PointAttendance).where(
                    PointAttendance.meeting_id == served.meeting_id,
                    PointAttendance.point_id == point_id,
                )
            )
            if row is None:
                row = PointAttendance(meeting_id=served.meeting_id, point_id=point_id)
                session.add(row)
            row.presence, row.seen_at, row.rtt_ms = "online", seen_at, 35
    finally:
        await engine.dispose()


# Sweeps at every presence round, instead of production's every 10 s.
SWEEP_EVERY = ROUND_EVERY


@pytest.fixture
def sweeping(demo_db: str, demo_seed: DemoSeed, tmp_path: Path) -> Iterator[Served]:
    """The served app, sweeping stale points at every (quick) presence round."""
    with serve_demo(
        demo_db,
        demo_seed,
        tmp_path,
        presence_sweep_seconds=SWEEP_EVERY,
        presence_every_seconds=ROUND_EVERY,
    ) as demo:
        yield demo


async def test_a_point_left_online_by_a_dead_process_goes_offline(sweeping: Served) -> None:
    """The process holding a point's socket died: nobody said goodbye, nobody refreshes the
    point's `seen_at`; once it is stale every board is told the point is offline."""
    served = sweeping
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    # No websocket of the point may come and go here: its goodbye would write the same row.
    point_id = next(p for p, token in tokens.items() if token == served.seed.cam_tu_token)
    await store_presence(served, point_id, datetime.now(UTC))
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    snapshot = await recv_frame(board)
    (shown,) = [p for p in snapshot["points"] if p["point_id"] == point_id]
    assert shown["presence"] == "online"

    await store_presence(served, point_id, datetime.now(UTC) - timedelta(minutes=2))
    offline = await recv_message(
        board,
        lambda m: m["type"] == "presence" and m["point_id"] == point_id,
        within=SWEEP_EVERY + ROUND_EVERY + 5,
    )
    assert (offline["presence"], offline["rtt_ms"]) == ("offline", None)
    assert offline["version"] == snapshot["version"] + 1
    assert await quiet(board, 2 * ROUND_EVERY + 0.5) == []  # said once, two rounds on
    await board.close()
    async with http(served, cookie) as client:
        state = (await client.get(f"/api/v1/meetings/{served.meeting_id}/attendance")).json()
    assert state["version"] == offline["version"]
    assert state["totals"]["online"] == 0


# -- meeting deltas and targeted fan-out -------------------------------------------------------


async def test_a_status_change_reaches_the_board_and_the_point(served: Served) -> None:
    cookie = await organizer(served)
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    await recv_frame(board)
    link = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    await recv_frame(link)
    async with http(served, cookie) as client:
        response = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/status", json={"status": "live"}
        )
        assert response.status_code == 200, response.text
    on_board = await recv_message(board, is_type("meeting"))
    at_point = await recv_message(link, is_type("meeting"))
    assert on_board["meeting"]["status"] == at_point["meeting"]["status"] == "live"
    assert on_board["version"] == at_point["version"]
    await board.close()
    await link.close()


async def test_a_point_receives_only_its_own_deltas(served: Served) -> None:
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    own = await cam_tu_point_id(served)
    others = [p for p in sorted(tokens) if p != own][:3]
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    await recv_frame(board)
    link = await connect(served.ws_url(served.meeting_id, tokens[own]))
    await recv_frame(link)

    for n, point_id in enumerate(others):
        response = await http_checkin(served, tokens[point_id], point_id, f"other-{n}")
        assert response.status_code == 201
    mine = await http_checkin(served, tokens[own], own, "mine", delegates_present=31)
    assert mine.status_code == 201
    async with http(served, cookie) as client:
        response = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/status", json={"status": "live"}
        )
        assert response.status_code == 200

    received = await recv_messages_until(link, lambda got: any(m["type"] == "meeting" for m in got))
    received += await quiet(link, 0.5)
    deltas = [m for m in received if m["type"] in ("checkin", "presence", "signal")]
    assert {m["point_id"] for m in deltas} == {own}
    assert [m["version"] for m in deltas if m["type"] == "checkin"] == [mine.json()["version"]]

    everything = await recv_messages_until(
        board, lambda got: any(m["type"] == "meeting" for m in got)
    )
    assert {m["point_id"] for m in everything if m["type"] == "checkin"} == {own, *others}
    await board.close()
    await link.close()


# -- closed roll call --------------------------------------------------------------------------


async def test_no_checkin_into_a_draft_or_cancelled_meeting(served: Served) -> None:
    cookie = await organizer(served)
    async with http(served, cookie) as client:
        created = await client.post(
            "/api/v1/meetings",
            json={
                "title": "Bản nháp",
                "province_code": 38,
                "starts_at": "2030-01-02T08:00:00+07:00",
                "ends_at": "2030-01-02T10:00:00+07:00",
            },
        )
        assert created.status_code == 201, created.text
        draft_id = created.json()["id"]
        invited = await client.post(
            f"/api/v1/meetings/{draft_id}/invitations", json={"unit_codes": [CAM_TU]}
        )
        assert invited.status_code == 200, invited.text
        (point,) = (await client.get(f"/api/v1/meetings/{draft_id}/points")).json()["items"]
    token = token_of(point["checkin_url"])

    draft_link = await connect(served.ws_url(draft_id, token))
    snapshot = await recv_frame(draft_link)
    assert snapshot["meeting"]["status"] == "draft"
    await draft_link.send(
        json.dumps(
            {
                "type": "checkin",
                "point_id": point["point_id"],
                "status": "present",
                "delegates_present": 3,
                "idempotency_key": "draft",
            }
        )
    )
    refused = await recv_message(draft_link, lambda m: m["type"] in ("error", "ack"))
    assert refused["type"] == "error" and "draft" in refused["detail"]
    await draft_link.close()
    async with http(served) as client:
        response = await client.post(
            f"/api/v1/meetings/{draft_id}/checkins",
            json={
                "point_id": point["point_id"],
                "status": "present",
                "delegates_present": 3,
                "idempotency_key": "draft",
            },
            headers={"X-Checkin-Token": token},
        )
    assert response.status_code == 409, response.text

    point_id = await cam_tu_point_id(served)
    link = await connect(served.ws_url(served.meeting_id, served.seed.cam_tu_token))
    await recv_frame(link)
    async with http(served, cookie) as client:
        cancelled = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/status",
            json={"status": "cancelled", "reason": "Bão số 6"},
        )
        assert cancelled.status_code == 200, cancelled.text
    assert (await recv_message(link, is_type("meeting")))["meeting"]["status"] == "cancelled"
    await link.send(checkin_frame(point_id, "too-late"))
    refused = await recv_message(link, lambda m: m["type"] in ("error", "ack"))
    assert refused["type"] == "error" and "cancelled" in refused["detail"]
    assert refused["status_code"] == 409
    await link.close()
    late = await http_checkin(served, served.seed.cam_tu_token, point_id, "too-late-http")
    assert late.status_code == 409
    assert late.json()["status_code"] == 409
    assert await history(served, cookie) == []


# -- HTTP check-in and reports -----------------------------------------------------------------


async def test_http_checkin_with_the_token_header(served: Served) -> None:
    point_id = await cam_tu_point_id(served)
    board = await connect(served.ws_url(served.meeting_id), cookie=await organizer(served))
    await recv_frame(board)
    ok = await http_checkin(served, served.seed.cam_tu_token, point_id, "hdr", delegates_present=4)
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert (body["source"], body["status"], body["delegates_present"]) == ("link", "present", 4)
    delta = await recv_message(board, is_type("checkin"), within=3)
    assert (delta["version"], delta["point_id"]) == (body["version"], point_id)
    await board.close()

    wrong = await http_checkin(served, "wrong-token", point_id, "hdr-2")
    assert wrong.status_code == 404
    assert wrong.json()["status_code"] == 404
    async with http(served) as client:
        nobody = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/checkins",
            json={"point_id": point_id, "status": "absent", "reason": "x", "idempotency_key": "n"},
        )
    assert nobody.status_code == 401


async def test_attendance_reports_have_one_row_per_point_and_totals(served: Served) -> None:
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    own = await cam_tu_point_id(served)
    other = next(p for p in sorted(tokens) if p != own)
    assert (await http_checkin(served, tokens[own], own, "r1", delegates_present=25)).is_success
    absent = await http_checkin(served, tokens[other], other, "r2", status="absent", reason="Ngập")
    assert absent.is_success

    async with http(served, cookie) as client:
        as_csv = await client.get(f"/api/v1/meetings/{served.meeting_id}/attendance.csv")
        as_xlsx = await client.get(f"/api/v1/meetings/{served.meeting_id}/attendance.xlsx")
        nothing = await client.get(f"/api/v1/meetings/{served.meeting_id}/attendance.pdf")
    assert nothing.status_code == 404
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    text = as_csv.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert tuple(rows[0]) == COLUMNS
    table, totals = rows[1:167], rows[168:]
    assert rows[167] == []
    assert len({row[0] for row in table}) == 166
    expected = [
        ["Tổng số điểm cầu", "166"],
        ["Có mặt", "1"],
        ["Vắng", "1"],
        ["Chưa điểm danh", "164"],
        ["Tổng số đại biểu", "25"],
        ["Điểm cầu có sự cố", "0"],
        ["Tổng số sự cố", "0"],
    ]
    assert totals == expected
    (cam_tu,) = [row for row in table if row[0] == str(CAM_TU)]
    assert (cam_tu[5], cam_tu[6]) == ("Có mặt", "25")

    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][0]  # the meeting's title
    assert tuple(values[1]) == COLUMNS
    points = values[2:168]
    assert len({row[0] for row in points}) == 166
    assert all(row[0] is not None for row in points)
    assert [[row[0], row[1]] for row in values[169:]] == [
        [label, int(number)] for label, number in expected
    ]
    (cam_tu_row,) = [row for row in points if row[0] == CAM_TU]
    assert (cam_tu_row[5], cam_tu_row[6]) == ("Có mặt", 25)
