"""Migration 0007: links issued before it keep working, because it digests every stored token.

Rows are written at revision 0006 (before the digest columns exist) with Core statements that
name the 0006 columns, then the database is upgraded to head and the links are looked up the
way the application looks them up. Runs on SQLite (batch mode) and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect, select

from confhub.accounts.models import User
from confhub.core.tokens import new_token, token_digest
from confhub.db import migrate
from confhub.db.engine import create_engine, session_maker
from confhub.meetings.tokens import find_invitation

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
STAMPS = {"created_at": NOW, "updated_at": NOW}


def _table(name: str, *columns: str) -> sa.TableClause:
    typed = {
        "created_at": sa.DateTime(timezone=True),
        "updated_at": sa.DateTime(timezone=True),
        "starts_at": sa.DateTime(timezone=True),
        "ends_at": sa.DateTime(timezone=True),
    }
    return sa.table(name, *(sa.column(c, typed.get(c)) for c in columns))


def _rows_at_0006(checkin_token: str, calendar_token: str) -> list[tuple[sa.TableClause, Any]]:
    """A province, two points, a meeting, a live link and a revoked one, and two users."""
    province = _table("province", "code", "name", "division_type", "codename", *STAMPS)
    point = _table("connection_point", "id", "province_code", "name", "is_active", *STAMPS)
    meeting = _table(
        "meeting",
        *("id", "province_code", "title", "convening_body", "presiding_official"),
        *("description", "starts_at", "ends_at", "status", "sequence", *STAMPS),
    )
    invitation = _table(
        "invitation", "id", "meeting_id", "point_id", "chair_is_sample", "checkin_token", *STAMPS
    )
    user = _table(
        "user_account",
        *("id", "email", "full_name", "password_hash", "role", "is_active", "calendar_token"),
        *STAMPS,
    )
    return [
        (province, [{"code": 38, "name": "Thanh Hóa", "division_type": "tỉnh",
                     "codename": "thanh_hoa", **STAMPS}]),
        (point, [{"id": i, "province_code": 38, "name": f"Điểm {i}", "is_active": True,
                  **STAMPS} for i in (1, 2)]),
        (meeting, [{"id": 1, "province_code": 38, "title": "Hội nghị", "convening_body": "",
                    "presiding_official": "", "description": "", "starts_at": NOW,
                    "ends_at": NOW, "status": "scheduled", "sequence": 0, **STAMPS}]),
        (invitation, [
            {"id": 1, "meeting_id": 1, "point_id": 1, "chair_is_sample": False,
             "checkin_token": checkin_token, **STAMPS},
            {"id": 2, "meeting_id": 1, "point_id": 2, "chair_is_sample": False,
             "checkin_token": None, **STAMPS},
        ]),
        (user, [
            {"id": 1, "email": "a@example.gov.vn", "full_name": "", "password_hash": "x",
             "role": "viewer", "is_active": True, "calendar_token": calendar_token, **STAMPS},
            {"id": 2, "email": "b@example.gov.vn", "full_name": "", "password_hash": "x",
             "role": "viewer", "is_active": True, "calendar_token": None, **STAMPS},
        ]),
    ]  # fmt: skip


def _run(url: str, work: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_digests_tokens_issued_before_it(empty_url: str) -> None:
    checkin_token, calendar_token = new_token(), new_token()
    migrate.upgrade(empty_url, "0006")

    async def write(engine: Any) -> None:
        async with engine.begin() as connection:
            for table, rows in _rows_at_0006(checkin_token, calendar_token):
                await connection.execute(sa.insert(table), rows)

    _run(empty_url, write)
    migrate.upgrade(empty_url)

    async def read(engine: Any) -> tuple[Any, ...]:
        async with engine.connect() as connection:
            digests = (
                await connection.execute(
                    sa.text("SELECT id, checkin_token_digest FROM invitation ORDER BY id")
                )
            ).all()
            user_digests = (
                await connection.execute(
                    sa.text("SELECT id, calendar_token_digest FROM user_account ORDER BY id")
                )
            ).all()
        async with session_maker(engine)() as session:
            found = await find_invitation(session, checkin_token, meeting_id=1)
            owner = await session.scalar(
                select(User).where(User.calendar_token_digest == token_digest(calendar_token))
            )
        return digests, user_digests, found, owner

    digests, user_digests, found, owner = _run(empty_url, read)
    expected = hashlib.sha256(checkin_token.encode()).hexdigest()
    assert [tuple(row) for row in digests] == [(1, expected), (2, None)]
    assert [tuple(row) for row in user_digests] == [(1, token_digest(calendar_token)), (2, None)]
    assert found is not None and found.point_id == 1
    assert owner is not None and owner.email == "a@example.gov.vn"


def test_downgrade_drops_the_digests_and_keeps_the_tokens(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "0006")

    async def columns(engine: Any) -> dict[str, set[str]]:
        async with engine.connect() as connection:
            return dict(
                await connection.run_sync(
                    lambda conn: {
                        table: {c["name"] for c in inspect(conn).get_columns(table)}
                        for table in ("invitation", "user_account")
                    }
                )
            )

    found = _run(empty_url, columns)
    assert "checkin_token" in found["invitation"]
    assert "checkin_token_digest" not in found["invitation"]
    assert "calendar_token" in found["user_account"]
    assert "calendar_token_digest" not in found["user_account"]
