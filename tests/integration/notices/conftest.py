"""Shared set-up of the notices' tests: a meeting of the demo's province with invited points
and named chairs, made through the API, and a way to read the outbox's rows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from confhub.db.engine import create_engine, session_maker
from confhub.notices.models import Notice, NoticeDelivery

# Five communes and wards of Thanh Hóa (the first is Xã Cẩm Tú).
UNIT_CODES = [15148, 14797, 16522, 16417, 16378]


@dataclass(frozen=True)
class Row:
    """One delivery as the outbox holds it, with its notice."""

    delivery_id: int
    meeting_id: int
    point_id: int
    kind: str
    channel: str
    recipient: str
    state: str
    attempts: int
    last_error: str | None
    message_id: str
    payload: dict[str, Any]


def outbox_rows(database_url: str, meeting_id: int | None = None) -> list[Row]:
    """Every delivery (of one meeting), oldest first, read with a connection of its own."""

    async def read() -> list[Row]:
        engine = create_engine(database_url)
        try:
            async with session_maker(engine)() as session:
                query = (
                    select(NoticeDelivery, Notice)
                    .join(Notice, Notice.id == NoticeDelivery.notice_id)
                    .order_by(NoticeDelivery.id)
                )
                if meeting_id is not None:
                    query = query.where(Notice.meeting_id == meeting_id)
                return [
                    Row(
                        d.id,
                        n.meeting_id,
                        n.point_id,
                        n.kind,
                        d.channel,
                        d.recipient,
                        d.state,
                        d.attempts,
                        d.last_error,
                        d.message_id,
                        dict(n.payload),
                    )
                    for d, n in (await session.execute(query)).all()
                ]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait until `condition()` holds (the workers deliver in the background); fail naming
    `what` after `timeout` seconds. Not a measure of speed: the bound only ends a hung test."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def new_meeting(
    client: TestClient[Litestar],
    *,
    units: list[int] = UNIT_CODES,
    starts_in: timedelta = timedelta(days=3),
    schedule: bool = True,
) -> tuple[int, dict[int, int]]:
    """A draft meeting of Thanh Hóa inviting `units`, each point's chair named with a phone,
    then scheduled (which queues the invitations); its id and each unit's point id."""
    start = datetime.now(UTC).replace(microsecond=0) + starts_in
    response = client.post(
        "/api/v1/meetings",
        json={
            "title": "Hội nghị triển khai nhiệm vụ quý IV",
            "province_code": 38,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "convening_body": "Thường trực Tỉnh ủy Thanh Hóa",
        },
    )
    assert response.status_code == 201, response.text
    meeting_id = response.json()["id"]
    response = client.post(f"/api/v1/meetings/{meeting_id}/invitations", json={"unit_codes": units})
    assert response.status_code == 200, response.text
    points = client.get(f"/api/v1/meetings/{meeting_id}/points?limit=500").json()["items"]
    by_unit = {p["unit_code"]: p["point_id"] for p in points}
    for number, (unit, point_id) in enumerate(sorted(by_unit.items())):
        response = client.put(
            f"/api/v1/meetings/{meeting_id}/points/{point_id}/chair",
            json={
                "name": f"Chủ trì {unit}",
                "title": "Chủ tịch UBND",
                "phone": f"09120000{number:02d}",
            },
        )
        assert response.status_code == 200, response.text
    if schedule:
        response = client.post(
            f"/api/v1/meetings/{meeting_id}/status", json={"status": "scheduled"}
        )
        assert response.status_code == 200, response.text
    return meeting_id, by_unit
