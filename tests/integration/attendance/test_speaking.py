"""Speaking requests on the live channel (`speak_request`, the `speaking` delta) and their HTTP
doors, spoken by the real `websockets` client to the served app: a point sees only its own
requests and its place, the board the whole queue; a repeated id is acknowledged once; a
dropped point catches up by resync; a link cannot act for another point; the limits per point.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from confhub.attendance.speaking.desk import MAX_OPEN_PER_POINT
from tests.helpers.accounts import PASSWORD, create_accounts
from tests.integration.attendance.conftest import (
    Frame,
    Served,
    connect,
    login_cookie,
    point_tokens,
    quiet,
    recv_frame,
    recv_message,
    recv_messages_until,
)
from tests.integration.attendance.test_protocol import cam_tu_point_id, http, organizer

pytestmark = pytest.mark.integration

HAC_THANH = 14797  # Phường Hạc Thành, Thanh Hóa: another unit than Cẩm Tú


def ask(request_id: str, topic: str = "Khắc phục hậu quả bão số 5", **fields: Any) -> str:
    """A point's `speak_request` frame."""
    return json.dumps(
        {"type": "speak_request", "request_id": request_id, "topic": topic, "minutes": 5} | fields
    )


def ack_of(request_id: str) -> Any:
    return lambda m: m.get("type") == "ack" and m.get("id") == request_id


def error_of(request_id: str) -> Any:
    return lambda m: m.get("type") == "error" and m.get("id") == request_id


def speaking(changed: str | None = None, state: str | None = None) -> Any:
    """A predicate for a `speaking` delta (about `changed`, reaching `state`)."""

    def accept(m: Frame) -> bool:
        if m.get("type") != "speaking":
            return False
        request = m.get("request") or {}
        return (changed is None or request.get("request_id") == changed) and (
            state is None or request.get("state") == state
        )

    return accept


async def patch(served: Served, cookie: str | None, request_id: str, **body: Any) -> Any:
    async with http(served, cookie) as client:
        return await client.patch(
            f"/api/v1/meetings/{served.meeting_id}/speaking/{request_id}", json=body
        )


async def test_the_queue_from_a_point_to_the_board_and_back(served: Served) -> None:
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    own = await cam_tu_point_id(served)
    other = next(p for p in sorted(tokens) if p != own)
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    assert (await recv_frame(board))["speaking"] == {"queue": [], "current": None}
    phone = await connect(served.ws_url(served.meeting_id, tokens[own]))
    await recv_frame(phone)
    neighbour = await connect(served.ws_url(served.meeting_id, tokens[other]))
    await recv_frame(neighbour)

    # Cẩm Tú asks; the repeat (a phone resending from its outbox) is acknowledged the same.
    await phone.send(ask("cam-tu-1"))
    first = await recv_message(phone, ack_of("cam-tu-1"))
    await phone.send(ask("cam-tu-1"))
    again = await recv_message(phone, ack_of("cam-tu-1"))
    assert again["version"] == first["version"] and again["duplicate"] is True
    await neighbour.send(ask("other-1", topic="Tình hình sạt lở", minutes=3))
    await recv_message(neighbour, ack_of("other-1"))

    on_board = await recv_message(board, speaking("other-1"))
    assert [i["request_id"] for i in on_board["queue"]] == ["cam-tu-1", "other-1"]
    assert [i["position"] for i in on_board["queue"]] == [1, 2]

    # The secretariat accepts the neighbour's and moves it first: Cẩm Tú is now second.
    assert (await patch(served, cookie, "other-1", state="accepted", position=1)).status_code == 200
    mine = await recv_message(phone, speaking())
    while mine.get("position") != 2:
        mine = await recv_message(phone, speaking())
    assert [i["request_id"] for i in mine["queue"]] == ["cam-tu-1"]
    assert mine["ahead"] == 1 and "to_points" not in mine
    assert "request" not in mine  # the change was another point's

    # The neighbour speaks: Cẩm Tú is next, one turn (the speaker's) before it.
    assert (await patch(served, cookie, "other-1", state="speaking")).status_code == 200
    mine = await recv_message(phone, speaking())
    assert (mine["position"], mine["ahead"], mine["current"]) == (1, 1, None)
    live = await recv_message(board, speaking("other-1", "speaking"))
    assert live["current"] == "other-1"

    # Refusing takes a reason, and the reason reaches the point.
    refused = await patch(served, cookie, "cam-tu-1", state="refused")
    assert refused.status_code == 400
    refused = await patch(served, cookie, "cam-tu-1", state="refused", reason="Hết thời gian")
    assert refused.status_code == 200
    mine = await recv_message(phone, speaking("cam-tu-1", "refused"))
    assert mine["request"]["reason"] == "Hết thời gian" and mine["queue"] == []
    assert (await patch(served, cookie, "cam-tu-1", state="speaking")).status_code == 409

    assert (await patch(served, cookie, "other-1", state="done")).status_code == 200
    await recv_message(board, speaking("other-1", "done"))
    async with http(served, cookie) as client:
        listed = await client.get(f"/api/v1/meetings/{served.meeting_id}/speaking")
        history = await client.get(f"/meetings/{served.meeting_id}/history")
    states = {i["request_id"]: i["state"] for i in listed.json()["items"]}
    assert states == {"cam-tu-1": "refused", "other-1": "done"}
    assert "Hết thời gian" in history.text
    for ws in (board, phone, neighbour):
        await ws.close()


async def test_a_dropped_phone_catches_up_and_sees_only_its_own(served: Served) -> None:
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    own = await cam_tu_point_id(served)
    other = next(p for p in sorted(tokens) if p != own)
    phone = await connect(served.ws_url(served.meeting_id, tokens[own]))
    await recv_frame(phone)
    await phone.send(ask("mine"))
    seen = (await recv_message(phone, ack_of("mine")))["version"]
    await phone.close()  # the commune hall's network drops

    async with http(served) as client:
        theirs = await client.post(
            f"/api/v1/meetings/{served.meeting_id}/speaking",
            json={"request_id": "theirs", "topic": "Giải ngân vốn", "minutes": 4},
            headers={"X-Checkin-Token": tokens[other]},
        )
    assert theirs.status_code == 201
    assert (await patch(served, cookie, "theirs", state="accepted", position=1)).status_code == 200

    back = await connect(served.ws_url(served.meeting_id, tokens[own]))
    snapshot = await recv_frame(back)
    assert [i["request_id"] for i in snapshot["speaking"]["queue"]] == ["mine"]
    assert snapshot["speaking"]["position"] == 2
    await back.send(json.dumps({"type": "resync", "since": seen}))
    missed = [m for m in await quiet(back, 1.0) if m.get("type") == "speaking"]
    assert missed, "the resync sent none of the queue's changes"
    for message in missed:
        assert {i["point_id"] for i in message["queue"]} <= {own}
        assert "to_points" not in message
    assert missed[-1]["position"] == 2
    await back.close()


async def test_a_link_acts_only_for_its_point_and_within_the_limits(served: Served) -> None:
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    own = await cam_tu_point_id(served)
    other = next(p for p in sorted(tokens) if p != own)
    phone = await connect(served.ws_url(served.meeting_id, tokens[own]))
    await recv_frame(phone)

    await phone.send(ask("not-mine", point_id=other))
    refused = await recv_message(phone, error_of("not-mine"))
    assert refused["status_code"] == 403

    # The secretariat's door is not a link's: its token changes nothing.
    await phone.send(ask("ok-1"))
    await recv_message(phone, ack_of("ok-1"))
    async with http(served) as client:
        response = await client.patch(
            f"/api/v1/meetings/{served.meeting_id}/speaking/ok-1",
            json={"state": "speaking"},
            headers={"X-Checkin-Token": tokens[own]},
        )
    assert response.status_code == 401

    for n in range(2, MAX_OPEN_PER_POINT + 1):
        await phone.send(ask(f"ok-{n}"))
        await recv_message(phone, ack_of(f"ok-{n}"))
    await phone.send(ask("one-too-many"))
    limited = await recv_message(phone, error_of("one-too-many"))
    assert limited["status_code"] == 429
    await phone.send(ask("bad", minutes=0))
    assert (await recv_message(phone, error_of("bad")))["status_code"] == 400
    await phone.close()


async def test_a_repeated_id_answers_only_whoever_may_ask_for_its_point(served: Served) -> None:
    """The idempotent replay of an ask is no way around its rights: a viewer, another
    province's secretariat or a chair of another unit who names an existing request's id is
    refused as their own first ask would be, and learns nothing of the request."""
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    own = await cam_tu_point_id(served)
    phone = await connect(served.ws_url(served.meeting_id, tokens[own]))
    await recv_frame(phone)
    await phone.send(ask("cam-tu-1", topic="Thông tin cơ sở sau bão"))
    await recv_message(phone, ack_of("cam-tu-1"))
    await phone.close()

    outsiders = [
        ("viewer@example.vn", "viewer", {"province_code": 38}),
        ("ha-noi@example.vn", "secretariat", {"province_code": 1}),
        ("hac-thanh@example.vn", "chair", {"unit_code": HAC_THANH}),
    ]
    await asyncio.to_thread(create_accounts, served.database_url, outsiders)
    url = f"/api/v1/meetings/{served.meeting_id}/speaking"
    for email, _role, _scope in outsiders:
        outsider = await login_cookie(served.url, email, PASSWORD)
        async with http(served, outsider) as client:
            response = await client.post(
                url, json={"request_id": "cam-tu-1", "topic": "x", "minutes": 1, "point_id": own}
            )
        assert response.status_code in (403, 404), (email, response.status_code, response.text)
        assert "Thông tin cơ sở" not in response.text

    # The secretariat of the meeting's province is answered with the request, as before.
    async with http(served, cookie) as client:
        again = await client.post(url, json={"request_id": "cam-tu-1", "topic": "x", "minutes": 1})
    assert again.status_code == 200, again.text
    assert again.json()["topic"] == "Thông tin cơ sở sau bão"


PDF = b"%PDF-1.4\n" + b"0" * 2000


async def test_a_request_carries_a_document_the_board_sees_and_downloads(
    served: Served,
) -> None:
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    mine, other = sorted(tokens)[:2]
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    await recv_frame(board)
    base = f"/api/v1/meetings/{served.meeting_id}/speaking"
    as_point = {"X-Checkin-Token": tokens[mine]}
    async with http(served) as link:
        asked = await link.post(
            base,
            json={"request_id": "doc-1", "topic": "Tham luận về đê điều", "minutes": 5},
            headers=as_point,
        )
        assert asked.status_code == 201, asked.text
        files = {"data": ("tham luận\u202egnp.pdf", PDF, "image/png")}
        sent = await link.put(f"{base}/doc-1/document", files=files, headers=as_point)
        assert sent.status_code == 200, sent.text
        assert sent.json()["document"] == "tham luậngnp.pdf"  # its bidi override dropped
        assert sent.json()["document_size"] == len(PDF)
        # Another point's link cannot see or touch it; a file of another kind is refused.
        theirs = {"X-Checkin-Token": tokens[other]}
        foreign = await link.put(f"{base}/doc-1/document", files=files, headers=theirs)
        assert foreign.status_code == 404
        assert (await link.get(f"{base}/doc-1/document", headers=theirs)).status_code == 404
        script = {"data": ("x.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf")}
        refused = await link.put(f"{base}/doc-1/document", files=script, headers=as_point)
        assert refused.status_code == 400 and "PDF" in refused.text
        own = await link.get(f"{base}/doc-1/document", headers=as_point)
        assert own.status_code == 200 and own.content == PDF
    seen = await recv_message(board, speaking("doc-1"))
    assert seen["request"]["document"] is None
    attached = await recv_message(board, lambda m: m.get("type") == "speaking")
    assert [i["document"] for i in attached["queue"]] == ["tham luậngnp.pdf"]

    async with http(served, cookie) as secretariat:
        got = await secretariat.get(f"{base}/doc-1/document")
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
        assert "attachment" in got.headers["content-disposition"]
        log = await secretariat.get(f"/meetings/{served.meeting_id}/history")
        assert "đính kèm tài liệu tham luậngnp.pdf" in log.text
    assert (await patch(served, cookie, "doc-1", state="speaking")).status_code == 200
    async with http(served) as link:
        late = await link.put(
            f"{base}/doc-1/document", files={"data": ("b.pdf", PDF, "")}, headers=as_point
        )
    assert late.status_code == 409  # the floor was given: the request no longer waits
    await board.close()


async def test_requests_arriving_together_are_stored_together_and_refused_alone(
    served: Served,
) -> None:
    cookie = await organizer(served)
    tokens = await point_tokens(served.url, cookie, served.meeting_id)
    points = sorted(tokens)[:30]
    base = f"/api/v1/meetings/{served.meeting_id}/speaking"
    board = await connect(served.ws_url(served.meeting_id), cookie=cookie)
    since = (await recv_frame(board))["version"]

    async def one(client: Any, point_id: int, n: int) -> int:
        answer = await client.post(
            base,
            json={"request_id": f"together-{point_id}-{n}", "topic": "Cùng lúc", "minutes": 2},
            headers={"X-Checkin-Token": tokens[point_id]},
        )
        return int(answer.status_code)

    async with http(served) as client:
        # Thirty points at once, and the first asking four times (one past its limit of 3).
        asked = [one(client, point_id, 0) for point_id in points]
        asked += [one(client, points[0], n) for n in range(1, MAX_OPEN_PER_POINT + 1)]
        statuses = await asyncio.gather(*asked)
    assert sorted(statuses).count(201) == len(points) + MAX_OPEN_PER_POINT - 1
    assert statuses.count(429) == 1
    async with http(served, cookie) as secretariat:
        stored = (await secretariat.get(base, params={"limit": 500})).json()
    assert stored["total"] == len(points) + MAX_OPEN_PER_POINT - 1
    # The board heard every stored request, in versions without a gap: those stored in one
    # transaction in one `speaking` delta (one copy of the queue, not one each).
    ids = {item["request_id"] for item in stored["items"]}
    versions: list[int] = []
    heard: list[str] = []
    while set(heard) != ids:
        for message in await recv_messages_until(board, lambda ms: bool(ms)):
            if message.get("type") == "speaking":
                versions.append(message["version"])
                heard = [item["request_id"] for item in message["queue"]]
    assert versions == list(range(since + 1, since + 1 + len(versions)))
    assert len(heard) == len(ids) and len(versions) <= stored["total"]
    await board.close()
