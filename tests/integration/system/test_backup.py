"""`confhub db backup` / `confhub db restore`, run as an operator runs them: a round trip loses
nothing — a meeting, its roll call (check-ins, their history and the audit log), its minutes
and the articles published from them — and a restore refuses what it should refuse.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from confhub.app import create_app
from confhub.db import migrate
from confhub.db.engine import create_engine, session_maker
from confhub.demo import DemoSeed
from confhub.units.loader import load_units
from tests.conftest import login, make_settings, skip_or_fail, sqlite_url

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def confhub(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The console script with one database configured."""
    script = Path(sys.executable).with_name("confhub")
    return subprocess.run(
        [str(script), *args],
        env={
            "PATH": "/usr/bin:/bin",
            "CONFHUB_DATABASE_URL": database_url,
            # `make coverage` measures the command too (coverage.py's subprocess patch).
            **{key: value for key, value in os.environ.items() if key.startswith("COVERAGE_")},
        },
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single `confhub: …` line of a refused command (exit code 2)."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("confhub: ")
    return line


def every_row(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows, in a stable order."""
    with sqlite3.connect(path) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: sorted(
                connection.execute(f'SELECT * FROM "{table}"').fetchall(),
                key=repr,
            )
            for table in tables
        }


def roll_call_and_articles(client: TestClient[Litestar], seed: DemoSeed) -> dict[str, Any]:
    """Check in five points of the upcoming meeting, correct one, write and publish the past
    meeting's minutes; returns what the API then shows."""
    login(client, seed.organizer_email, seed.organizer_password)
    meeting_id = seed.upcoming_meeting_id
    points = client.get(f"/api/v1/meetings/{meeting_id}/points", params={"limit": 5}).json()
    for index, item in enumerate(points["items"]):
        answer: dict[str, Any] = {"point_id": item["point_id"], "idempotency_key": f"k{index}"}
        if index % 2:
            answer |= {"status": "absent", "reason": "Mất điện do bão"}
        else:
            answer |= {"status": "present", "delegates_present": 10 + index}
        response = client.post(f"/api/v1/meetings/{meeting_id}/checkins", json=answer)
        assert response.status_code == 201, response.text
    correction = {
        "point_id": points["items"][1]["point_id"],
        "status": "present",
        "delegates_present": 4,
        "idempotency_key": uuid.uuid4().hex,
    }
    assert client.post(f"/api/v1/meetings/{meeting_id}/checkins", json=correction).is_success

    past = seed.past_meeting_id
    minutes = "# Biên bản\n\nHội nghị đã đánh giá hoạt động chính quyền địa phương 2 cấp."
    assert client.put(f"/api/v1/meetings/{past}/minutes", json={"markdown": minutes}).is_success
    client.post(f"/api/v1/meetings/{past}/minutes/lock")  # where the news domain asks for it
    published = client.post(f"/api/v1/meetings/{past}/minutes/publish")
    assert published.status_code == 200, published.text
    return {
        "attendance": client.get(f"/api/v1/meetings/{meeting_id}/attendance").json(),
        "past_attendance": client.get(f"/api/v1/meetings/{past}/attendance").json(),
        "articles": client.get("/api/v1/articles", params={"limit": 500}).json(),
    }


def test_backup_and_restore_round_trip_loses_nothing(
    demo_db: str, demo_seed: DemoSeed, tmp_path: Path
) -> None:
    original = Path(demo_db.removeprefix("sqlite+aiosqlite:///"))
    migrate.upgrade(demo_db)
    backup_file = tmp_path / "backups" / "confhub-2025-09-10.sqlite3"
    backup_file.parent.mkdir()

    with TestClient(create_app(make_settings(demo_db, tmp_path))) as client:
        before = roll_call_and_articles(client, demo_seed)
        assert before["articles"]["total"] > 0
        # Online: the server is up and holds the database open while the backup runs.
        result = confhub("db", "backup", str(backup_file), database_url=demo_db, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"Backed up to {backup_file}" in result.stdout
    assert not Path(f"{backup_file}-wal").exists()  # one self-contained file

    restored = tmp_path / "restored" / "confhub.sqlite3"
    restored_url = sqlite_url(restored)
    result = confhub("db", "restore", str(backup_file), database_url=restored_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Restored" in result.stdout and "db upgrade" not in result.stdout

    rows, rows_after = every_row(original), every_row(restored)
    assert rows.keys() == rows_after.keys()
    for table in ("meeting", "checkin_record", "attendance_event", "meeting_audit", "article"):
        assert rows[table], f"the round trip proves nothing for an empty {table}"
    for table, content in rows.items():
        assert rows_after[table] == content, table

    restored_media = tmp_path / "restored-media"
    with TestClient(create_app(make_settings(restored_url, restored_media))) as client:
        login(client, demo_seed.organizer_email, demo_seed.organizer_password)
        meeting_id = demo_seed.upcoming_meeting_id
        past = demo_seed.past_meeting_id
        assert (
            client.get(f"/api/v1/meetings/{meeting_id}/attendance").json() == before["attendance"]
        )
        assert client.get(f"/api/v1/meetings/{past}/attendance").json() == before["past_attendance"]
        articles = client.get("/api/v1/articles", params={"limit": 500}).json()
        assert articles == before["articles"]


def test_restore_refuses_to_overwrite_without_force(demo_db: str, tmp_path: Path) -> None:
    backup_file = tmp_path / "backup.sqlite3"
    assert (
        confhub("db", "backup", str(backup_file), database_url=demo_db, cwd=tmp_path).returncode
        == 0
    )

    again = confhub("db", "backup", str(backup_file), database_url=demo_db, cwd=tmp_path)
    assert "--force" in one_error_line(again)
    forced = confhub(
        "db", "backup", "--force", str(backup_file), database_url=demo_db, cwd=tmp_path
    )
    assert forced.returncode == 0, forced.stderr

    refused = confhub("db", "restore", str(backup_file), database_url=demo_db, cwd=tmp_path)
    assert "already holds a database" in one_error_line(refused)
    replaced = confhub(
        "db", "restore", "--force", str(backup_file), database_url=demo_db, cwd=tmp_path
    )
    assert replaced.returncode == 0, replaced.stderr


def test_restore_refuses_what_is_not_a_confhub_backup(tmp_path: Path) -> None:
    target = sqlite_url(tmp_path / "confhub.sqlite3")
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("not a database\n" * 100)
    assert "not a confhub SQLite backup" in one_error_line(
        confhub("db", "restore", str(not_sqlite), database_url=target, cwd=tmp_path)
    )

    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    assert "no Alembic revision" in one_error_line(
        confhub("db", "restore", str(foreign), database_url=target, cwd=tmp_path)
    )

    future = tmp_path / "future.sqlite3"
    with sqlite3.connect(future) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    assert "upgrade confhub first" in one_error_line(
        confhub("db", "restore", str(future), database_url=target, cwd=tmp_path)
    )
    assert (
        not (tmp_path / "confhub.sqlite3").exists() or every_row(tmp_path / "confhub.sqlite3") == {}
    )


def test_an_older_backup_is_restored_then_upgraded(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    migrate.upgrade(sqlite_url(old), migrate.heads()[0].split(",")[0])
    migrate.downgrade(sqlite_url(old), "-1")
    backup_file = tmp_path / "old-backup.sqlite3"
    assert (
        confhub(
            "db", "backup", str(backup_file), database_url=sqlite_url(old), cwd=tmp_path
        ).returncode
        == 0
    )
    target = sqlite_url(tmp_path / "new.sqlite3")
    restored = confhub("db", "restore", str(backup_file), database_url=target, cwd=tmp_path)
    assert restored.returncode == 0 and "confhub db upgrade" in restored.stdout
    upgraded = confhub("db", "upgrade", database_url=target, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr


async def _units_of(url: str, statement: str | None = None) -> int:
    from sqlalchemy import text

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            if statement:
                await connection.execute(text(statement))
            return int(await connection.scalar(text("SELECT count(*) FROM unit")) or 0)
    finally:
        await engine.dispose()


async def _load_thanh_hoa(url: str) -> None:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session, session.begin():
            await load_units(session, 38)
    finally:
        await engine.dispose()


@pytest.mark.services
def test_postgres_round_trip_with_pg_dump(postgres_url: str, tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        skip_or_fail("pg_dump/pg_restore are not installed (apt-get install postgresql-client)")
    migrate.upgrade(postgres_url)
    asyncio.run(_load_thanh_hoa(postgres_url))
    units = asyncio.run(_units_of(postgres_url))
    assert units > 100

    dump = tmp_path / "confhub.dump"
    made = confhub("db", "backup", str(dump), database_url=postgres_url, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Backed up" in made.stdout

    lost = asyncio.run(_units_of(postgres_url, "TRUNCATE TABLE unit CASCADE"))
    assert lost == 0
    refused = confhub("db", "restore", str(dump), database_url=postgres_url, cwd=tmp_path)
    assert "already holds tables" in one_error_line(refused)
    replaced = confhub(
        "db", "restore", "--force", str(dump), database_url=postgres_url, cwd=tmp_path
    )
    assert replaced.returncode == 0, replaced.stderr
    assert asyncio.run(_units_of(postgres_url)) == units
