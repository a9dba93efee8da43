"""Text PostgreSQL cannot store, or a one-line field cannot show, in the roll call (issue #14,
item 7): a 400 naming the field over HTTP, the field marked on the page without script, and a
final `error` over the live channel, never a 500 or a "send it again" that could never succeed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from confhub.app import create_app
from confhub.demo import DemoSeed
from tests.conftest import PostgresDemo, login, make_settings
from tests.integration.attendance.test_live_pages import post_form
from tests.integration.attendance.test_spreadsheet_formulas import (
    cam_tu_point,
    checkin,
    xlsx_rows,
)

pytestmark = pytest.mark.integration


def test_a_control_character_in_a_title_is_refused_at_the_door(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    for title in ("Hội nghị\x01", "Hội nghị\r\nBCC: x", "\tHội nghị", "Hội nghị\n"):
        refused = secretariat.patch(f"/api/v1/meetings/{meeting_id}", json={"title": title})
        assert refused.status_code == 400, title
        assert refused.json()["extra"] == [
            {
                "key": "title",
                "message": "must be one line of text, without control characters",
                "source": "body",
            }
        ]
    assert xlsx_rows(secretariat, meeting_id)[0][0].value != "Hội nghị\x01"


def test_the_checkin_page_without_script_says_what_is_wrong_with_the_reason(
    client: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    path = f"/checkin/{demo_seed.cam_tu_token}"
    answer = {"status": "absent", "reason": "Mất điện\x0b toàn xã", "idempotency_key": "page-1"}
    page = post_form(client, path, answer)
    assert page.status_code == 400
    assert "Hãy xóa các ký tự điều khiển (những ký tự ẩn như NUL)." in page.text
    # A key no answer can be stored under: the form comes back with a fresh one that works.
    page = post_form(client, path, {**answer, "reason": "Mất điện", "idempotency_key": "k\x00"})
    assert page.status_code == 400
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key is not None and key.group(1) != "k\x00"
    stored = post_form(client, path, {**answer, "reason": "Mất điện", "idempotency_key": key[1]})
    assert stored.status_code == 303


# --- On PostgreSQL, which refuses a NUL in text -------------------------------------------------


@pytest.fixture
def pg_secretariat(postgres_demo: PostgresDemo, tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    """The organizer, signed in to the app on the demo's PostgreSQL database."""
    with TestClient(create_app(make_settings(postgres_demo.url, tmp_path))) as client:
        seed = postgres_demo.seed
        login(client, seed.organizer_email, seed.organizer_password)
        yield client


@pytest.mark.services
@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("reason", "Mất điện\x00", id="reason"),
        pytest.param("idempotency_key", "key-\x00", id="idempotency_key"),
        pytest.param("note", "\x00", id="note"),
    ],
)
def test_a_nul_in_a_checkin_is_a_400_naming_the_field(
    pg_secretariat: TestClient[Litestar], postgres_demo: PostgresDemo, field: str, value: str
) -> None:
    meeting_id = postgres_demo.seed.upcoming_meeting_id
    fields = {"status": "absent", "reason": "Mất điện", "idempotency_key": f"nul-{field}"}
    answer = checkin(pg_secretariat, meeting_id, **{**fields, field: value})
    assert answer.status_code == 400, answer.text
    assert [e["key"] for e in answer.json()["extra"]] == [field]


def reply(socket: Any) -> dict[str, Any]:
    """The next answer to what the client sent (deltas to the board are skipped)."""
    while True:
        message: dict[str, Any] = socket.receive_json()
        if message["type"] in ("ack", "error"):
            return message


@pytest.mark.services
def test_a_nul_in_a_live_checkin_is_refused_for_good_not_sent_again(
    pg_secretariat: TestClient[Litestar], postgres_demo: PostgresDemo
) -> None:
    seed = postgres_demo.seed
    meeting_id = seed.upcoming_meeting_id
    point = cam_tu_point(pg_secretariat, meeting_id)
    url = f"/ws/meetings/{meeting_id}?token={seed.cam_tu_token}"
    with pg_secretariat.websocket_connect(url) as socket:
        assert socket.receive_json()["type"] == "snapshot"
        answer = {"type": "checkin", "point_id": point, "status": "absent"}
        socket.send_json({**answer, "reason": "Mất điện\x00", "idempotency_key": "ws-nul"})
        refused = reply(socket)
        assert refused["type"] == "error"
        assert refused["detail"] == "reason: must not contain control characters"
        assert "again" not in refused["detail"] and "retry" not in refused  # final

        # The socket stays usable, and the same answer without the NUL is stored.
        socket.send_json({**answer, "reason": "Mất điện", "idempotency_key": "ws-ok"})
        assert reply(socket)["type"] == "ack"
    history = pg_secretariat.get(
        f"/api/v1/meetings/{meeting_id}/checkins", params={"point_id": point}
    )
    assert history.status_code == 200, history.text
    assert [c["idempotency_key"] for c in history.json()["items"]] == ["ws-ok"]


@pytest.mark.services
def test_a_meeting_id_beyond_any_id_is_an_unknown_meeting_on_the_live_channel(
    pg_secretariat: TestClient[Litestar],
) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        pg_secretariat.websocket_connect("/ws/meetings/99999999999999999999") as socket,
    ):
        socket.receive_json()
    assert closed.value.code == 1008  # as for any meeting the caller may not watch
